"""The streaming block of BENCHMARKS.md (issue 15, target 5): one step at a time with the state
carried, batch 1, as a service reading a stream runs a model. rnnzoo's `Session`
(`rnnzoo speed --streaming`) against PyTorch calling `nn.LSTM`/`nn.GRU`/`nn.RNN` once per step
with the state passed back in, under `torch.inference_mode()` (torch_speed.py kind
"streaming"). Median time of one step; target at least 10x. `compare.py --streaming` measures and
rewrites this block alone.
"""

import statistics
import sys

BEGIN, END = "<!-- streaming: begin -->", "<!-- streaming: end -->"
# (PyTorch module, registry name, hidden); input = hidden, 1 layer, batch 1, f32, 1 thread.
CASES = [(m, z, h) for h in (128, 512) for (m, z) in (("lstm", "lstm"), ("gru", "gru"),
                                                      ("rnn", "rnn-tanh"))]
STEPS = 100


def streaming_run(args, torch, rnnzoo):
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    rows = []
    for module, cell, h in CASES:
        zs, ts, err = [], [], None
        for r in range(args.rounds):
            for side in (("torch", "zoo") if r % 2 == 0 else ("zoo", "torch")):
                if side == "zoo":
                    zs.append(rnnzoo(args.rnnzoo, [
                        "speed", "--cell", cell, "--steps", str(STEPS), "--batch", "1",
                        "--input", str(h), "--hidden", str(h), "--dtype", "f32", "--threads", "1",
                        "--seconds", str(args.seconds), "--min-reps", str(args.min_reps),
                        "--streaming"]))
                elif torch.proc:
                    try:
                        ts.append(torch.ask({"kind": "streaming", "cell": module, "steps": STEPS,
                                             "batch": 1, "input": h, "hidden": h, "layers": 1,
                                             "dtype": "f32", "threads": 1,
                                             "seconds": args.seconds,
                                             "min_reps": args.min_reps}))
                    except RuntimeError as e:
                        err = str(e)
        z = statistics.median(x["streaming_step_ms"] for x in zs)
        t = statistics.median(x["streaming_step_ms"] for x in ts) if ts else None
        rows.append({"cell": cell, "hidden": h, "rnnzoo_ms": z, "torch_ms": t, "torch_reason": err})
        log(f"streaming {cell:8} H{h}: rnnzoo {z * 1e3:8.2f} us, torch "
            f"{(t or float('nan')) * 1e3:8.2f} us per step")
    return rows


def streaming_markdown(res, header):
    rows = res.get("streaming")
    lines = [BEGIN, "## Streaming: one step at a time (f32, 1 thread, batch 1, input = hidden)",
             "", header, ""]
    if not rows:
        return lines + ["Not measured in this run (`compare.py --streaming`).", END]
    lines += ["Median time of one step with the state carried: rnnzoo's `Session` "
              "(`rnnzoo speed --streaming`) against PyTorch calling the module once per step. "
              "Target (issue 15): at least 10x.", "",
              "| cell | hidden | PyTorch us/step | rnnzoo us/step | ratio |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        t, z = r["torch_ms"], r["rnnzoo_ms"]
        ratio = f"{t / z:.2f}" if t and z else "-"
        tt = f"{t * 1e3:.2f}" if t else f"- ({r.get('torch_reason')})"
        lines.append(f"| {r['cell']} | {r['hidden']} | {tt} | {z * 1e3:.2f} | {ratio} |")
    return lines + [END]
