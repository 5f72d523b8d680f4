#!/usr/bin/env python3
"""`make bench-compare`: rnnzoo against PyTorch, interleaved in one run, written to BENCHMARKS.md.

For every thread count and dtype: the GEMM ceiling (one large square product in rnnzoo's backend
and in PyTorch), then every case of the standard list (the same as `Case::standard()` in
bench/src/speed/case.rs), each measured `--rounds` times alternately by PyTorch and rnnzoo (ABBA
order, so neither side always runs first); a side's number is the median of its rounds, each round
itself a median (see torch_speed.py and `rnnzoo speed`). Then rnnzoo alone for the per-step
scaling (T50 against T500). Standard library only: PyTorch runs in a worker process under the
interpreter given by --torch-python, and when it cannot be imported the PyTorch columns say why.

    python3 bench/compare/compare.py --rnnzoo target/release/rnnzoo --torch-python .venv/bin/python
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import scan_block
import streaming_block
import trainer_block

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# (cell, T, B, I, H, layers, bidirectional): the design notes' cases, the small ones for every
# cell, and a 2-layer bidirectional LSTM. Keep in step with Case::standard().
CASES = [
    ("lstm", 50, 64, 256, 256, 1, False),
    ("lstm", 50, 16, 512, 512, 1, False),
    ("gru", 50, 64, 256, 256, 1, False),
    ("gru", 50, 16, 512, 512, 1, False),
    ("lstm", 25, 32, 1024, 1024, 1, False),
    ("rnn", 100, 32, 128, 128, 1, False),
    ("rnn", 20, 8, 16, 32, 1, False),
    ("rnn", 100, 1, 128, 128, 1, False),
    ("lstm", 20, 8, 16, 32, 1, False),
    ("lstm", 100, 1, 128, 128, 1, False),
    ("gru", 20, 8, 16, 32, 1, False),
    ("gru", 100, 1, 128, 128, 1, False),
    ("lstm", 50, 32, 256, 256, 2, True),
]
# Per-step scaling: the same layer at T50 and T500 (rnnzoo only).
SCALING = [(cell, 50, 32, 256, 256) for cell in ("rnn", "lstm", "gru")]

# What the design notes recorded for PyTorch 2.15 on this machine type (1 thread, f32, ms of
# forward+backward), shown when PyTorch cannot run here.
DESIGN_TORCH = {
    ("lstm", 50, 64, 256, 256): 331, ("lstm", 50, 16, 512, 512): 324,
    ("lstm", 100, 1, 128, 128): 5.5, ("gru", 50, 64, 256, 256): 308,
    ("gru", 50, 16, 512, 512): 441, ("rnn", 100, 32, 128, 128): 41.6,
    ("lstm", 25, 32, 1024, 1024): 1335, ("rnn", 20, 8, 16, 32): 2.86,
    ("lstm", 20, 8, 16, 32): 1.30, ("gru", 20, 8, 16, 32): 7.00,
    ("rnn", 100, 1, 128, 128): 11.95, ("gru", 100, 1, 128, 128): 34.8,
}


def label(c):
    cell, t, b, i, h, layers, bi = c
    s = f"{cell} T{t} B{b} I{i} H{h}"
    return s + (f" L{layers}" if layers > 1 else "") + (" bi" if bi else "")


def is_large(c):
    return c[4] >= 256 and c[2] >= 16


class Torch:
    """The PyTorch worker, or the reason there is none."""

    def __init__(self, python):
        self.proc, self.reason, self.info = None, None, None
        if not python or not Path(python).exists():
            self.reason = f"no Python with torch at {python!r} (make bench-compare installs it)"
            return
        check = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
        if check.returncode != 0:
            self.reason = "import torch failed: " + check.stderr.strip().splitlines()[-1]
            return
        self.proc = subprocess.Popen(
            [python, str(HERE / "torch_speed.py"), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.info = self.ask({"kind": "info"})

    def ask(self, req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch worker stopped")
        ans = json.loads(line)
        if "error" in ans:
            raise RuntimeError(ans["error"])
        return ans

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            self.proc.wait()


def rnnzoo(binary, args):
    out = subprocess.run([binary, *args, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"rnnzoo {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout)


# PyTorch's module names (torch_speed.py) to the zoo's (`rnnzoo cells`).
ZOO_NAME = {"rnn": "rnn-tanh", "lstm": "lstm", "gru": "gru"}


# The zoo's cells beyond PyTorch's three modules, timed at one size (f32, 1 thread): each against
# PyTorch's module where it has the cell, else against its equations written in PyTorch
# (torch_speed.py's `references`). The classic cells have the tables above.
ZOO_SIZE = {"steps": 50, "batch": 64, "input": 256, "hidden": 256}
CLASSIC = {"rnn-tanh", "rnn-relu", "lstm", "gru", "gru-reset-before"}
ZOO_BEGIN, ZOO_END = "<!-- zoo: begin -->", "<!-- zoo: end -->"


def zoo_run(args, torch):
    """Every non-classic registry cell, rnnzoo and PyTorch alternating, as the main cases."""
    names = [e["name"] for e in rnnzoo(args.rnnzoo, ["cells"]) if e["name"] not in CLASSIC]
    rows = []
    for name in names:
        if args.only and args.only not in name:
            continue
        zs, ts, err = [], [], None
        for r in range(args.rounds):
            order = ("torch", "zoo") if r % 2 == 0 else ("zoo", "torch")
            for side in order:
                if side == "zoo":
                    a = ["speed", "--cell", name, "--dtype", "f32", "--threads", "1",
                         "--seconds", str(args.seconds), "--min-reps", str(args.min_reps)]
                    for k, v in ZOO_SIZE.items():
                        a += [f"--{k}", str(v)]
                    zs.append(rnnzoo(args.rnnzoo, a))
                elif torch.proc:
                    try:
                        ts.append(torch.ask({"kind": "reference", "cell": name, "dtype": "f32",
                                             "threads": 1, "seconds": args.seconds,
                                             "min_reps": args.min_reps, **ZOO_SIZE}))
                    except RuntimeError as e:  # no reference: the row says so
                        err = str(e)
        row = {"cell": name, "torch_reason": err}
        for key in ("forward_ms", "forward_backward_ms"):
            row["rnnzoo_" + key] = med(zs, key)
            row["torch_" + key] = med(ts, key) if ts else None
        rows.append(row)
        print(f"zoo {name:18} fwd {row['rnnzoo_forward_ms']:9.3f} vs "
              f"{row['torch_forward_ms'] or float('nan'):9.3f} ms | fwd+bwd "
              f"{row['rnnzoo_forward_backward_ms']:9.3f} vs "
              f"{row['torch_forward_backward_ms'] or float('nan'):9.3f} ms",
              file=sys.stderr, flush=True)
    return rows


def zoo_markdown(res):
    """The zoo table as a block `--zoo` can rewrite alone, with its own date and commit."""
    v = res.get("versions") or versions()
    t = ZOO_SIZE
    lines = [ZOO_BEGIN, f"## The zoo's other cells (f32, 1 thread, T={t['steps']}, B={t['batch']}, "
             f"input = hidden = {t['input']})", "",
             f"Measured {res.get('date', '?')} at rnnzoo {v['commit']} on {res.get('machine')}. "
             "PyTorch column: PyTorch's own module where it has the cell (`lstm-proj`: "
             "`nn.LSTM(proj_size=...)`), otherwise the cell's equations written in PyTorch as a "
             "loop over steps (the reference that writes the parity fixtures, "
             "`rnnzoo/tests/fixtures/*/reference.py`): what a user without rnnzoo would run.", "",
             "| cell | forward PyTorch ms | forward rnnzoo ms | ratio | fwd+bwd PyTorch ms | "
             "fwd+bwd rnnzoo ms | ratio |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in res.get("zoo", []):
        tf, tfb = r["torch_forward_ms"], r["torch_forward_backward_ms"]
        why = f" ({r['torch_reason']})" if r.get("torch_reason") and tf is None else ""
        lines.append(f"| {r['cell']} | {fmt(tf)}{why} | {fmt(r['rnnzoo_forward_ms'])} | "
                     f"{fmt(ratio(tf, r['rnnzoo_forward_ms']))} | {fmt(tfb)} | "
                     f"{fmt(r['rnnzoo_forward_backward_ms'])} | "
                     f"{fmt(ratio(tfb, r['rnnzoo_forward_backward_ms']))} |")
    return lines + [ZOO_END]


def splice(path, block, begin=ZOO_BEGIN, end=ZOO_END):
    """Replaces the block between `begin` and `end` of an existing report (or appends it)."""
    text = Path(path).read_text() if Path(path).exists() else ""
    block = "\n".join(block)
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def block_header(res):
    v = res.get("versions") or versions()
    return f"Measured {res.get('date', '?')} at rnnzoo {v['commit']} on {res.get('machine')}."


def case_args(c, dtype, threads, seconds, min_reps):
    cell, t, b, i, h, layers, bi = c
    a = ["speed", "--cell", ZOO_NAME[cell], "--steps", str(t), "--batch", str(b), "--input", str(i),
         "--hidden", str(h), "--layers", str(layers), "--dtype", dtype,
         "--threads", str(threads), "--seconds", str(seconds), "--min-reps", str(min_reps)]
    return a + (["--bidirectional"] if bi else [])


def case_req(c, dtype, threads, seconds, min_reps):
    cell, t, b, i, h, layers, bi = c
    return {"kind": "case", "cell": cell, "steps": t, "batch": b, "input": i, "hidden": h,
            "layers": layers, "bidirectional": bi, "dtype": dtype, "threads": threads,
            "seconds": seconds, "min_reps": min_reps}


def med(rows, key):
    vals = [r[key] for r in rows if r is not None]
    return statistics.median(vals) if vals else None


def run(args):
    torch = Torch(args.torch_python)
    results = {"cases": [], "ceilings": [], "scaling": [], "torch_reason": torch.reason,
               "torch_info": torch.info, "machine": machine(), "versions": versions(),
               "date": datetime.date.today().isoformat()}
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    if torch.reason:
        log("PyTorch unavailable:", torch.reason)
    cases = CASES if not args.only else [c for c in CASES if args.only in label(c)]
    for threads in args.threads:
        for dtype in args.dtypes:
            # The ceiling, both sides, interleaved.
            zc, tc = [], []
            for r in range(args.rounds):
                zc.append(rnnzoo(args.rnnzoo, ["gemm-ceiling", "--size", str(args.gemm_size),
                                               "--dtype", dtype, "--threads", str(threads),
                                               "--seconds", str(args.seconds)]))
                if torch.proc:
                    tc.append(torch.ask({"kind": "gemm", "size": args.gemm_size, "dtype": dtype,
                                         "threads": threads, "seconds": args.seconds}))
            ceil = {"threads": threads, "dtype": dtype, "size": args.gemm_size,
                    "rnnzoo_gflops": med(zc, "gflops"),
                    "torch_gflops": med(tc, "gflops") if tc else None}
            results["ceilings"].append(ceil)
            log(f"ceiling {dtype} {threads}t: rnnzoo {ceil['rnnzoo_gflops']:.1f} GFLOP/s, "
                f"torch {ceil['torch_gflops'] or float('nan'):.1f}")
            for c in cases:
                zs, ts = [], []
                for r in range(args.rounds):
                    order = ("torch", "zoo") if r % 2 == 0 else ("zoo", "torch")
                    for side in order:
                        if side == "zoo":
                            zs.append(rnnzoo(args.rnnzoo, case_args(c, dtype, threads,
                                                                   args.seconds, args.min_reps)))
                        elif torch.proc:
                            ts.append(torch.ask(case_req(c, dtype, threads, args.seconds,
                                                         args.min_reps)))
                row = {"label": label(c), "case": tuple(c), "dtype": dtype, "threads": threads,
                       "large": is_large(c)}
                for key in ("forward_ms", "forward_backward_ms", "forward_backward_gflops"):
                    row["rnnzoo_" + key] = med(zs, key)
                    row["torch_" + key] = med(ts, key) if ts else None
                mems = [z["memory"] for z in zs if z.get("memory")]
                row["memory_ratio"] = statistics.median(m["ratio"] for m in mems) if mems else None
                row["memory"] = mems[0] if mems else None
                results["cases"].append(row)
                log(f"{dtype} {threads}t {row['label']:28} fwd {row['rnnzoo_forward_ms']:9.3f} "
                    f"vs {row['torch_forward_ms'] or float('nan'):9.3f} ms | fwd+bwd "
                    f"{row['rnnzoo_forward_backward_ms']:9.3f} vs "
                    f"{row['torch_forward_backward_ms'] or float('nan'):9.3f} ms")
    for (cell, t0, b, i, h) in SCALING:
        for t in (t0, 10 * t0):
            c = (cell, t, b, i, h, 1, False)
            zs = [rnnzoo(args.rnnzoo, case_args(c, "f32", 1, args.seconds, args.min_reps))
                  for _ in range(args.rounds)]
            results["scaling"].append({"label": label(c), "cell": cell, "steps": t,
                                       "step_ms": med(zs, "step_ms")})
    results["zoo"] = zoo_run(args, torch)
    results["scan"] = scan_block.scan_run(args, torch, rnnzoo)
    results["streaming"] = streaming_block.streaming_run(args, torch, rnnzoo)
    results["trainer"] = trainer_block.trainer_run(args, torch, rnnzoo)
    torch.close()
    return results


def machine():
    cpu, flags = "unknown", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    simd = [f for f in ("avx2", "fma", "avx512f") if f" {f}" in flags]
    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores ({', '.join(simd)}){mem}, {platform.system()} {platform.release()}"


def versions():
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"
    lock = (ROOT / "Cargo.lock").read_text()
    def locked(name):
        blocks = lock.split("[[package]]")
        for b in blocks:
            if f'name = "{name}"\n' in b:
                return b.split('version = "')[1].split('"')[0]
        return "not used"
    commit = cmd("git", "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if cmd("git", "status", "--porcelain", "--untracked-files=no") else ""
    return {"rustc": cmd("rustc", "--version"), "commit": commit + dirty,
            "gemm": locked("gemm"), "matrixmultiply": locked("matrixmultiply")}


def fmt(v, nd=2):
    if v is None:
        return "n/a"
    return f"{v:.{nd}f}" if v < 100 else f"{v:.0f}"


def ratio(t, z):
    return None if t is None or z is None or z == 0 else t / z


def targets(res):
    """Each of the issue's targets: (target, measured, met)."""
    rows = res["cases"]
    ceil = {(c["threads"], c["dtype"]): max(c["rnnzoo_gflops"], c["torch_gflops"] or 0)
            for c in res["ceilings"]}
    out = []
    def add(name, vals, threshold, fmt_v=lambda v: f"{v:.2f}"):
        vals = [v for v in vals if v[1] is not None]
        if not vals:
            out.append((name, "not measured", None))
            return
        worst = min(vals, key=lambda v: v[1])
        met = worst[1] >= threshold
        out.append((name, f"worst {fmt_v(worst[1])} ({worst[0]})", met))
    fb = lambda r: ratio(r["torch_forward_backward_ms"], r["rnnzoo_forward_backward_ms"])
    tag = lambda r: f"{r['label']} {r['dtype']} {r['threads']}t"
    large = [r for r in rows if r["large"] and r["case"][5] == 1]
    add("large cases: fwd+bwd GFLOP/s >= 90% of the GEMM ceiling (same dtype, threads)",
        [(tag(r), r["rnnzoo_forward_backward_gflops"] / ceil[(r["threads"], r["dtype"])])
         for r in large], 0.9, lambda v: f"{100 * v:.0f}%")
    add("LSTM fwd+bwd f32 large: ratio >= 1.0",
        [(tag(r), fb(r)) for r in large if r["case"][0] == "lstm" and r["dtype"] == "f32"], 1.0)
    add("GRU fwd+bwd f32 large: ratio >= 1.25",
        [(tag(r), fb(r)) for r in large if r["case"][0] == "gru" and r["dtype"] == "f32"], 1.25)
    add("RNN T100 B32 I128 H128 f32 fwd+bwd: ratio >= 1.5",
        [(tag(r), fb(r)) for r in rows if r["case"] == ("rnn", 100, 32, 128, 128, 1, False)
         and r["dtype"] == "f32"], 1.5)
    add("every cell f64 large fwd+bwd: ratio >= 1.25",
        [(tag(r), fb(r)) for r in large if r["dtype"] == "f64"], 1.25)
    small = [r for r in rows if r["case"][1:5] in ((20, 8, 16, 32), (100, 1, 128, 128))]
    add("small cases fwd+bwd: ratio >= 5", [(tag(r), fb(r)) for r in small], 5.0)
    add("LSTM T100 B1 H128 forward f32: ratio >= 1.5",
        [(tag(r), ratio(r["torch_forward_ms"], r["rnnzoo_forward_ms"])) for r in small
         if r["case"] == ("lstm", 100, 1, 128, 128, 1, False) and r["dtype"] == "f32"], 1.5)
    speedups = []
    for r in large:
        one = next((q for q in rows if q["case"] == r["case"] and q["dtype"] == r["dtype"]
                    and q["threads"] == 1), None)
        if r["threads"] == 2 and one:
            speedups.append((f"{r['label']} {r['dtype']}",
                             one["rnnzoo_forward_backward_ms"] / r["rnnzoo_forward_backward_ms"]))
    add("2 threads vs 1 on large cases (fwd+bwd): >= 1.7x", speedups, 1.7,
        lambda v: f"{v:.2f}x")
    steady = []
    for cell in ("rnn", "lstm", "gru"):
        s = {x["steps"]: x["step_ms"] for x in res["scaling"] if x["cell"] == cell}
        if len(s) == 2:
            a, b = s[min(s)], s[max(s)]
            steady.append((f"{cell} B32 I256 H256", 1 - abs(b - a) / a))
    add("time per step T50 -> T500 constant within 10%", steady, 0.9,
        lambda v: f"{100 * (1 - v):.1f}% change")
    mems = [(tag(r), 1.3 / r["memory_ratio"]) for r in rows if r["memory_ratio"]
            and r["threads"] == 1]
    add("peak training memory <= 1.3x (params + saved activations + inputs)", mems, 1.0,
        lambda v: f"{1.3 / v:.2f}x")
    return out


def markdown(res, args):
    v = res.get("versions") or versions()
    ti = res["torch_info"]
    lines = [
        "# Benchmarks: rnnzoo against PyTorch",
        "",
        f"Written by `make bench-compare` on {res.get('date', '?')}; do not edit by "
        "hand (notes come from `bench/compare/notes.md`).",
        "",
        f"- Machine: {res.get('machine') or machine()}.",
        f"- rnnzoo {v['commit']}, {v['rustc']}, gemm {v['gemm']}, matrixmultiply "
        f"{v['matrixmultiply']}, release profile.",
    ]
    if ti:
        lines.append(f"- PyTorch {ti['torch']} (CPU capability {ti['cpu_capability']}, oneDNN "
                     f"{'on' if ti['mkldnn'] else 'off'}, MKL {'on' if ti['mkl'] else 'off'}), "
                     f"Python {ti['python']}.")
    else:
        lines.append(f"- PyTorch: **unavailable** ({res['torch_reason']}); the design notes' "
                     "recorded PyTorch numbers are shown instead, labelled as such.")
    lines += [
        f"- Protocol: {args.rounds} rounds per case, PyTorch and rnnzoo alternating (ABBA); each "
        f"round is the median of at least {args.min_reps} repetitions and {args.seconds} s per "
        "pass; a number below is the median of the rounds. forward = inference (no tape); "
        "fwd+bwd = forward with tape + backward to the input and the parameters. Ratio = PyTorch "
        "time / rnnzoo time (above 1: rnnzoo is faster). GFLOP/s count 3x the forward GEMM flops "
        "for fwd+bwd.",
        "",
    ]
    lines.append("## GEMM ceiling")
    lines.append("")
    lines.append(f"One {args.gemm_size}x{args.gemm_size}x{args.gemm_size} product, GFLOP/s.")
    lines.append("")
    lines.append("| dtype | threads | rnnzoo backend | PyTorch |")
    lines.append("| --- | --- | --- | --- |")
    for c in res["ceilings"]:
        lines.append(f"| {c['dtype']} | {c['threads']} | {fmt(c['rnnzoo_gflops'], 1)} | "
                     f"{fmt(c['torch_gflops'], 1)} |")
    lines.append("")
    ceil = {(c["threads"], c["dtype"]): max(c["rnnzoo_gflops"], c["torch_gflops"] or 0)
            for c in res["ceilings"]}
    for threads in args.threads:
        for dtype in args.dtypes:
            rows = [r for r in res["cases"] if r["threads"] == threads and r["dtype"] == dtype]
            if not rows:
                continue
            lines += [f"## {dtype}, {threads} thread{'s' if threads > 1 else ''}", ""]
            lines.append("| case | forward PyTorch ms | forward rnnzoo ms | ratio | fwd+bwd "
                         "PyTorch ms | fwd+bwd rnnzoo ms | ratio | rnnzoo GFLOP/s | % of ceiling |")
            lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for r in rows:
                tf, tfb = r["torch_forward_ms"], r["torch_forward_backward_ms"]
                note = ""
                if tfb is None:
                    d = DESIGN_TORCH.get(r["case"][:5]) if r["case"][5] == 1 else None
                    if d is not None and threads == 1 and dtype == "f32":
                        tfb, note = d, " (design notes)"
                g = r["rnnzoo_forward_backward_gflops"]
                lines.append(
                    f"| {r['label']} | {fmt(tf)} | {fmt(r['rnnzoo_forward_ms'])} | "
                    f"{fmt(ratio(tf, r['rnnzoo_forward_ms']))} | {fmt(tfb)}{note} | "
                    f"{fmt(r['rnnzoo_forward_backward_ms'])} | "
                    f"{fmt(ratio(tfb, r['rnnzoo_forward_backward_ms']))} | {fmt(g, 1)} | "
                    f"{100 * g / ceil[(threads, dtype)]:.0f}% |")
            lines.append("")
    lines += ["## Time per step (rnnzoo, f32, 1 thread, fwd+bwd)", "",
              "| case | ms per step |", "| --- | ---: |"]
    for s in res["scaling"]:
        lines.append(f"| {s['label']} | {s['step_ms']:.4f} |")
    lines += ["", "## Training memory (rnnzoo, 1 thread)", "",
              "Peak heap of one forward+backward (parameters, their gradients, input, output "
              "gradient, tape and every temporary) over the bytes of parameters + input + what "
              "the forward pass leaves for backward (tape and output).", "",
              "| case | dtype | params MB | input MB | saved MB | peak MB | ratio | ratio without the gradient buffer |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in res["cases"]:
        m = r["memory"]
        if m and r["threads"] == 1:
            lines.append(f"| {r['label']} | {r['dtype']} | {m['params'] / 1e6:.2f} | "
                         f"{m['input'] / 1e6:.2f} | {m['saved'] / 1e6:.2f} | "
                         f"{m['peak'] / 1e6:.2f} | {m['ratio']:.2f} | "
                         f"{(m['peak'] - m['params']) / (m['params'] + m['input'] + m['saved']):.2f} |")
    lines += [""] + zoo_markdown(res)
    lines += [""] + scan_block.scan_markdown(res, block_header(res))
    lines += [""] + streaming_block.streaming_markdown(res, block_header(res))
    lines += [""] + trainer_block.trainer_markdown(res, block_header(res))
    lines += ["", "## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    for name, measured, met in targets(res):
        lines.append(f"| {name} | {measured} | {'yes' if met else ('no' if met is False else '?')} |")
    notes = HERE / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rnnzoo", default=str(ROOT / "target/release/rnnzoo"))
    p.add_argument("--torch-python", default=str(ROOT / ".venv/bin/python"))
    p.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    p.add_argument("--dtypes", type=lambda s: s.split(","), default=["f32", "f64"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--gemm-size", type=int, default=2048)
    p.add_argument("--only", help="only cases whose label contains this")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--json", default=str(ROOT / "target/bench-compare.json"))
    p.add_argument("--from-json", help="rewrite the report from a saved run, measuring nothing")
    p.add_argument("--trainer", action="store_true",
                   help="measure whole training steps only, and rewrite that block")
    p.add_argument("--streaming", action="store_true",
                   help="measure streaming (one step at a time) only, and rewrite that block")
    p.add_argument("--scan", action="store_true",
                   help="measure the scan-form cells only, and rewrite that block of the report")
    p.add_argument("--zoo", action="store_true",
                   help="measure the zoo's other cells only, and rewrite that block of the report")
    args = p.parse_args()
    # One block alone: measure it and rewrite only its part of the report.
    for flag, key, mod, run_fn, md_fn in (
            ("streaming", "streaming", streaming_block, streaming_block.streaming_run,
             streaming_block.streaming_markdown),
            ("scan", "scan", scan_block, scan_block.scan_run, scan_block.scan_markdown),
            ("trainer", "trainer", trainer_block, trainer_block.trainer_run,
             trainer_block.trainer_markdown)):
        if getattr(args, flag):
            torch = Torch(args.torch_python)
            res = {"machine": machine(), "versions": versions(),
                   "date": datetime.date.today().isoformat()}
            res[key] = run_fn(args, torch, rnnzoo)
            torch.close()
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).with_name(f"bench-compare-{key}.json").write_text(
                json.dumps(res, indent=1))
            block = md_fn(res, block_header(res))
            Path(args.out).write_text(splice(args.out, block, mod.BEGIN, mod.END))
            print("\n".join(block))
            return
    if args.zoo:
        torch = Torch(args.torch_python)
        res = {"zoo": zoo_run(args, torch), "machine": machine(), "versions": versions(),
               "date": datetime.date.today().isoformat()}
        torch.close()
        Path(args.out).write_text(splice(args.out, zoo_markdown(res)))
        print("\n".join(zoo_markdown(res)))
        return
    if args.from_json:
        res = json.loads(Path(args.from_json).read_text())
        for row in res["cases"]:
            row["case"] = tuple(row["case"])
        args.rounds, args.seconds = res["protocol"]["rounds"], res["protocol"]["seconds"]
        args.min_reps, args.gemm_size = res["protocol"]["min_reps"], res["protocol"]["gemm_size"]
        args.threads, args.dtypes = res["protocol"]["threads"], res["protocol"]["dtypes"]
    else:
        res = run(args)
        res["protocol"] = {k: getattr(args, k) for k in
                           ("rounds", "seconds", "min_reps", "gemm_size", "threads", "dtypes")}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=1))
    md = markdown(res, args)
    Path(args.out).write_text(md)
    print(md)


if __name__ == "__main__":
    main()
