"""The training-step block of BENCHMARKS.md (issue 15, target 6): a whole `Trainer` step at the
reproduce sizes (T=100, B=32, input 2, f32, 1 thread): a fresh uniform batch, forward, a dense
head to 1 output, MSE at the last step, backward, clipping at global norm 1.0, Adam at 1e-3.
rnnzoo's `rnnzoo speed --trainer` against the same loop in PyTorch (torch_speed.py kind
"trainer"). `compare.py --trainer` measures and rewrites this block alone.
"""

import statistics
import sys

BEGIN, END = "<!-- trainer: begin -->", "<!-- trainer: end -->"
SIZE = {"steps": 100, "batch": 32, "input": 2}
CASES = [(m, z, h) for (m, z) in (("lstm", "lstm"), ("gru", "gru"), ("rnn", "rnn-tanh"))
         for h in (64, 128, 256)]


def target(module, hidden):
    """Issue 15's ratio: 3x for GRU and the tanh RNN, and LSTM at H=64; 1.3x for larger LSTMs."""
    return 1.3 if module == "lstm" and hidden > 64 else 3.0


def trainer_run(args, torch, rnnzoo):
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    rows = []
    for module, cell, h in CASES:
        zs, ts, err = [], [], None
        for r in range(args.rounds):
            for side in (("torch", "zoo") if r % 2 == 0 else ("zoo", "torch")):
                if side == "zoo":
                    zs.append(rnnzoo(args.rnnzoo, [
                        "speed", "--cell", cell, "--steps", str(SIZE["steps"]), "--batch",
                        str(SIZE["batch"]), "--input", str(SIZE["input"]), "--hidden", str(h),
                        "--dtype", "f32", "--threads", "1", "--seconds", str(args.seconds),
                        "--min-reps", str(args.min_reps), "--trainer"]))
                elif torch.proc:
                    try:
                        ts.append(torch.ask({"kind": "trainer", "cell": module, **SIZE,
                                             "hidden": h, "layers": 1, "dtype": "f32",
                                             "threads": 1, "seconds": args.seconds,
                                             "min_reps": args.min_reps}))
                    except RuntimeError as e:
                        err = str(e)
        z = statistics.median(x["train_step_ms"] for x in zs)
        t = statistics.median(x["train_step_ms"] for x in ts) if ts else None
        rows.append({"cell": cell, "module": module, "hidden": h, "rnnzoo_ms": z, "torch_ms": t,
                     "target": target(module, h), "torch_reason": err})
        log(f"trainer {cell:8} H{h}: rnnzoo {z:8.3f} ms, torch {t or float('nan'):8.3f} ms")
    return rows


def trainer_markdown(res, header):
    rows = res.get("trainer")
    lines = [BEGIN, f"## A whole training step (f32, 1 thread, T={SIZE['steps']}, "
             f"B={SIZE['batch']}, input {SIZE['input']})", "", header, ""]
    if not rows:
        return lines + ["Not measured in this run (`compare.py --trainer`).", END]
    lines += ["Median time of one step of the loop every experiment runs: a fresh uniform batch, "
              "forward, a dense head to 1 output, MSE at the last step, backward, clipping at "
              "global norm 1.0, Adam at 1e-3 (`rnnzoo speed --trainer`; PyTorch: the same loop, "
              "torch_speed.py's `measure_trainer`).", "",
              "| cell | hidden | PyTorch ms | rnnzoo ms | ratio | target | met |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        t, z = r["torch_ms"], r["rnnzoo_ms"]
        ratio = t / z if t and z else None
        met = "-" if ratio is None else ("yes" if ratio >= r["target"] else "no")
        tt = f"{t:.3f}" if t else f"- ({r.get('torch_reason')})"
        lines.append(f"| {r['cell']} | {r['hidden']} | {tt} | {z:.3f} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} | {r['target']} | {met} |")
    return lines + [END]
