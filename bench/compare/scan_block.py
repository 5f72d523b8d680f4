"""The scan-form cells' block of BENCHMARKS.md (issue 12's speed targets), measured by
compare.py (`--scan` measures and rewrites this block alone).

- minGRU and minLSTM, T=512, B=32, input = hidden = 256, f32, forward+backward, at 1 and 2
  threads: rnnzoo against PyTorch running the paper's parallel log-space form (Feng et al. 2024,
  appendix: `logcumsumexp` over log-space coefficients; `PARALLEL` in
  rnnzoo/tests/fixtures/scan_min/reference.py), and against rnnzoo's own GRU of the same size.
  QRNN and SRU at the same size against their equations as a PyTorch loop (`REFERENCES`), without
  targets.
- Effective GFLOP/s: the input GEMM's work, 2 N G H I forward and twice that backward (d_x and
  d_W), over the measured time, against `rnnzoo gemm-ceiling` at the same thread count.
- Time per step from T=64 to T=4096 (B=32), and 2 threads against 1 at T=4096, B=8.
"""

import statistics
import sys

BEGIN, END = "<!-- scan: begin -->", "<!-- scan: end -->"
SIZE = {"steps": 512, "batch": 32, "input": 256, "hidden": 256}
CELLS = ["mingru", "minlstm", "qrnn", "sru"]
TARGETED = {"mingru"}
SWEEP_STEPS = [64, 256, 1024, 4096]


def _med(rows, key):
    vals = [r[key] for r in rows if r and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _speed(rnnzoo, args, cell, threads, size):
    a = ["speed", "--cell", cell, "--dtype", "f32", "--threads", str(threads),
         "--seconds", str(args.seconds), "--min-reps", str(args.min_reps)]
    for k, v in size.items():
        a += [f"--{k}", str(v)]
    return rnnzoo(args.rnnzoo, a)


def scan_run(args, torch, rnnzoo):
    """Every measurement of the block, rnnzoo and PyTorch alternating (ABBA) where both run."""
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    entries = {e["name"]: e for e in rnnzoo(args.rnnzoo, ["cells"])}
    cells = [c for c in CELLS if c in entries]
    res = {"size": SIZE, "rows": [], "sweep": [], "threads": [], "ceilings": {}}
    for threads in (1, 2):
        cs = [rnnzoo(args.rnnzoo, ["gemm-ceiling", "--size", str(args.gemm_size), "--dtype", "f32",
                                   "--threads", str(threads), "--seconds", str(args.seconds)])
              for _ in range(args.rounds)]
        res["ceilings"][threads] = _med(cs, "gflops")
        gru = [_speed(rnnzoo, args, "gru", threads, SIZE) for _ in range(args.rounds)]
        gru_ms = _med(gru, "forward_backward_ms")
        for cell in cells:
            zs, ts, err = [], [], None
            kind = "parallel" if cell in ("mingru", "minlstm") else "reference"
            for r in range(args.rounds):
                for side in (("torch", "zoo") if r % 2 == 0 else ("zoo", "torch")):
                    if side == "zoo":
                        zs.append(_speed(rnnzoo, args, cell, threads, SIZE))
                    elif torch.proc:
                        try:
                            ts.append(torch.ask({"kind": kind, "cell": cell, "dtype": "f32",
                                                 "threads": threads, "seconds": args.seconds,
                                                 "min_reps": args.min_reps, **SIZE}))
                        except RuntimeError as e:
                            err = str(e)
            n = SIZE["steps"] * SIZE["batch"]
            flops = 2.0 * n * entries[cell]["gates"] * SIZE["hidden"] * SIZE["input"]
            row = {"cell": cell, "threads": threads, "torch_kind": kind, "torch_reason": err,
                   "gru_forward_backward_ms": gru_ms}
            for key in ("forward_ms", "forward_backward_ms"):
                row["rnnzoo_" + key] = _med(zs, key)
                row["torch_" + key] = _med(ts, key) if ts else None
            fb = row["rnnzoo_forward_backward_ms"]
            row["gflops"] = 3 * flops / fb * 1e-6 if fb else None
            res["rows"].append(row)
            log(f"scan {cell:8} {threads}t fwd+bwd {fb:9.3f} ms vs torch "
                f"{row['torch_forward_backward_ms'] or float('nan'):9.3f} ({kind}), gru {gru_ms:9.3f}")
    for cell in cells:
        for t in SWEEP_STEPS:
            size = {**SIZE, "steps": t}
            zs = [_speed(rnnzoo, args, cell, 1, size) for _ in range(args.rounds)]
            fb = _med(zs, "forward_backward_ms")
            res["sweep"].append({"cell": cell, "steps": t, "forward_backward_ms": fb,
                                 "per_step_us": fb / t * 1e3})
            log(f"scan {cell:8} T{t}: {fb / t * 1e3:.2f} us/step")
        long = {**SIZE, "steps": 4096, "batch": 8}
        one = _med([_speed(rnnzoo, args, cell, 1, long) for _ in range(args.rounds)],
                   "forward_backward_ms")
        two = _med([_speed(rnnzoo, args, cell, 2, long) for _ in range(args.rounds)],
                   "forward_backward_ms")
        res["threads"].append({"cell": cell, "one_ms": one, "two_ms": two, "speedup": one / two})
    return res


def _fmt(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def _ratio(a, b):
    return a / b if a and b else None


def scan_markdown(res, header):
    """The block, between its markers; `header` is the date/commit/machine sentence."""
    s = res.get("scan")
    lines = [BEGIN, f"## Scan-form cells (f32, T={SIZE['steps']}, B={SIZE['batch']}, "
             f"input = hidden = {SIZE['input']})", "", header, ""]
    if not s:
        return lines + ["Not measured in this run (`compare.py --scan`).", END]
    lines += ["Forward+backward. PyTorch column: the paper's parallel log-space form (minGRU, "
              "minLSTM: `logcumsumexp`, Feng et al. 2024's appendix), or the equations as a "
              "PyTorch loop over steps (QRNN, SRU). Targets (issue 12): minGRU at least 5x the "
              "parallel PyTorch form and 3x rnnzoo's GRU. GFLOP/s counts the input GEMM's work "
              "only (2 N G H I forward, twice that backward) against the GEMM ceiling.", "",
              "| cell | threads | PyTorch ms | rnnzoo ms | ratio | rnnzoo GRU ms | vs GRU | "
              "GFLOP/s | of ceiling |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in s["rows"]:
        fb = r["rnnzoo_forward_backward_ms"]
        ceil = s["ceilings"].get(r["threads"]) or s["ceilings"].get(str(r["threads"]))
        why = f" ({r['torch_reason']})" if r.get("torch_reason") and not r["torch_forward_backward_ms"] else ""
        lines.append(
            f"| {r['cell']} | {r['threads']} | {_fmt(r['torch_forward_backward_ms'])}{why} | "
            f"{_fmt(fb)} | {_fmt(_ratio(r['torch_forward_backward_ms'], fb))} | "
            f"{_fmt(r['gru_forward_backward_ms'])} | "
            f"{_fmt(_ratio(r['gru_forward_backward_ms'], fb))} | {_fmt(r['gflops'], 1)} | "
            f"{_fmt(_ratio(r['gflops'], ceil) and 100 * _ratio(r['gflops'], ceil), 0)}% |")
    lines += ["", "Time per step, forward+backward, 1 thread, B=32 (target: flat within 15 % "
              "from T=64 to T=4096):", "",
              "| cell | " + " | ".join(f"T={t} us/step" for t in SWEEP_STEPS) + " | max/min |",
              "| --- |" + " ---: |" * (len(SWEEP_STEPS) + 1)]
    for cell in dict.fromkeys(r["cell"] for r in s["sweep"]):
        per = [r["per_step_us"] for r in s["sweep"] if r["cell"] == cell]
        lines.append(f"| {cell} | " + " | ".join(_fmt(p) for p in per) +
                     f" | {_fmt(max(per) / min(per))} |")
    lines += ["", "Two threads against one, T=4096, B=8 (target: at least 1.7x):", "",
              "| cell | 1 thread ms | 2 threads ms | speed-up |", "| --- | ---: | ---: | ---: |"]
    for r in s["threads"]:
        lines.append(f"| {r['cell']} | {_fmt(r['one_ms'])} | {_fmt(r['two_ms'])} | "
                     f"{_fmt(r['speedup'])} |")
    return lines + [END]
