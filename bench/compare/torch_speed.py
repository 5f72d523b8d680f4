#!/usr/bin/env python3
"""PyTorch's side of `make bench-compare`: the same cases as `rnnzoo speed`, measured the same way.

Run as a worker (what compare.py does): one JSON request per line on stdin, one JSON answer per
line on stdout. A request is either a case

    {"kind": "case", "cell": "lstm", "steps": 50, "batch": 64, "input": 256, "hidden": 256,
     "layers": 1, "bidirectional": false, "dtype": "f32", "threads": 1,
     "seconds": 1.0, "min_reps": 5}

or a zoo cell PyTorch lacks, as its equations' reference ({"kind": "reference", "cell": "mgu",
...}, the same fields), or a scan-form cell in its paper's parallel form ({"kind": "parallel",
"cell": "mingru", ...}), or one step at a time with the state carried ({"kind": "streaming",
"cell": "lstm", ...}, the case's fields; `steps` steps per repetition), or a whole training step ({"kind": "trainer", ...}, as
`rnnzoo speed --trainer`), or the GEMM ceiling {"kind": "gemm", "size": 2048, "dtype": "f32", "threads": 1, "seconds": 1.0}.
Or once from the command line: `torch_speed.py --cell lstm --steps 50 ...` (see --help).

Protocol, the same as rnnzoo's (bench/src/speed/run.rs): weights with PyTorch's default
initialisation, input and output gradient uniform in [-1, 1); forward = inference under
`torch.inference_mode()`; forward+backward = forward with autograd, then `output.backward(d_out)`,
the input requiring its gradient (rnnzoo returns d_input too); parameter gradients accumulate
across repetitions as rnnzoo's do. One warm-up of each pass, then the two passes alternate until
both have `min_reps` repetitions and `seconds` have passed; medians are reported.
"""

import argparse
import json
import statistics
import sys
import time

import torch

DTYPES = {"f32": torch.float32, "f64": torch.float64}
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def forward_flops(c):
    """2 T B G H (I_layer + H) per layer and direction, as rnnzoo's Case::forward_flops."""
    dirs = 2 if c["bidirectional"] else 1
    gh = GATES[c["cell"]] * c["hidden"]
    total = 0.0
    for layer in range(c["layers"]):
        inp = c["input"] if layer == 0 else c["hidden"] * dirs
        total += 2.0 * c["steps"] * c["batch"] * gh * (inp + c["hidden"]) * dirs
    return total


def measure_case(c):
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    dtype = DTYPES[c["dtype"]]
    m = MODULES[c["cell"]](
        c["input"], c["hidden"], num_layers=c["layers"], bidirectional=c["bidirectional"]
    ).to(dtype)
    out = measure_module(c, lambda x: m(x)[0])
    flops = forward_flops(c)
    out["forward_gflops"] = flops / out["forward_ms"] * 1e-6
    out["forward_backward_gflops"] = 3 * flops / out["forward_backward_ms"] * 1e-6
    return out


def measure_streaming(c):
    """One step at a time with the state carried: the module called once per step, under
    inference mode, as a service reading a stream runs it; the median of single steps."""
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    dtype = DTYPES[c["dtype"]]
    m = MODULES[c["cell"]](c["input"], c["hidden"], num_layers=c["layers"]).to(dtype)
    x = torch.rand(c["steps"], 1, c["batch"], c["input"], dtype=dtype) * 2 - 1
    times = []
    with torch.inference_mode():
        state = None
        for xt in x:  # warm-up
            _, state = m(xt, state)
        start = time.perf_counter()
        while len(times) < c.get("min_reps", 5) * c["steps"] or \
                time.perf_counter() - start < c.get("seconds", 1.0):
            state = None
            for xt in x:
                t0 = time.perf_counter()
                _, state = m(xt, state)
                times.append(time.perf_counter() - t0)
            if len(times) >= 200 * c["steps"]:
                break
    return {"streaming_step_ms": statistics.median(times) * 1e3, "steps_timed": len(times),
            "threads": torch.get_num_threads()}


def measure_trainer(c):
    """A whole training step, as `rnnzoo speed --trainer` runs it: a fresh uniform batch and
    target, the module, a Linear head to 1 output on the last step, MSE, backward,
    clip_grad_norm_(1.0), Adam(1e-3); the median of whole steps."""
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    dtype = DTYPES[c["dtype"]]
    rnn = MODULES[c["cell"]](c["input"], c["hidden"], num_layers=c["layers"]).to(dtype)
    head = torch.nn.Linear(c["hidden"], 1).to(dtype)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    T, B, I = c["steps"], c["batch"], c["input"]

    def step():
        x = torch.rand(T, B, I, dtype=dtype) * 2 - 1
        y = torch.rand(B, 1, dtype=dtype)
        opt.zero_grad()
        out, _ = rnn(x)
        loss = torch.nn.functional.mse_loss(head(out[-1]), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    step()
    times = []
    start = time.perf_counter()
    while len(times) < c.get("min_reps", 5) or time.perf_counter() - start < c.get("seconds", 1.0):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if len(times) >= c.get("max_reps", 200):
            break
    return {"train_step_ms": statistics.median(times) * 1e3, "steps_timed": len(times),
            "threads": torch.get_num_threads()}


def measure_module(c, run):
    """Medians of forward (inference) and forward+backward of `run(x) -> output (T, B, F)`."""
    dtype = DTYPES[c["dtype"]]
    x = torch.rand(c["steps"], c["batch"], c["input"], dtype=dtype) * 2 - 1
    with torch.inference_mode():
        width = run(x).shape[-1]
    d_out = torch.rand(c["steps"], c["batch"], width, dtype=dtype) * 2 - 1
    xg = x.clone().requires_grad_(True)

    def forward():
        with torch.inference_mode():
            run(x)

    def train():
        xg.grad = None
        run(xg).backward(d_out)

    forward()
    train()
    fwd, both = [], []
    start = time.perf_counter()
    while len(fwd) < c.get("min_reps", 5) or time.perf_counter() - start < c.get("seconds", 1.0):
        t0 = time.perf_counter()
        forward()
        fwd.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        train()
        both.append(time.perf_counter() - t0)
        if len(fwd) >= c.get("max_reps", 200):
            break
    return {
        "forward_ms": statistics.median(fwd) * 1e3,
        "forward_backward_ms": statistics.median(both) * 1e3,
        "reps": len(fwd),
        "threads": torch.get_num_threads(),
    }


def references():
    """Every zoo cell's PyTorch form by registry name: the equations' references that write the
    parity fixtures (`REFERENCES` in rnnzoo/tests/fixtures/*/reference.py, each a function of
    `(input, hidden)` to a module whose forward maps `x (T, B, I)` to `(output, state)`), and
    PyTorch's own modules where it has the cell."""
    import importlib.util
    from pathlib import Path

    found = {
        # PyTorch's own projection LSTM. rnnzoo's `lstm-proj` of hidden size P (its output
        # width) has cell_size 2P by default: nn.LSTM(hidden_size=2P, proj_size=P).
        "lstm-proj": lambda i, h: torch.nn.LSTM(i, 2 * h, proj_size=h),
    }
    root = Path(__file__).resolve().parents[2] / "rnnzoo/tests/fixtures"
    for path in sorted(root.glob("*/reference.py")):
        spec = importlib.util.spec_from_file_location(f"reference_{path.parent.name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        found.update(getattr(mod, "REFERENCES", {}))
    return found


def parallel_forms():
    """The parallel (log-space scan) PyTorch forms of zoo cells by registry name: `PARALLEL` in
    rnnzoo/tests/fixtures/*/reference.py (minGRU and minLSTM, as Feng et al. 2024 run them)."""
    import importlib.util
    from pathlib import Path

    found = {}
    root = Path(__file__).resolve().parents[2] / "rnnzoo/tests/fixtures"
    for path in sorted(root.glob("*/reference.py")):
        spec = importlib.util.spec_from_file_location(f"parallel_{path.parent.name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        found.update(getattr(mod, "PARALLEL", {}))
    return found


def measure_parallel(c):
    """A scan-form zoo cell in its paper's parallel PyTorch form."""
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    forms = parallel_forms()
    if c["cell"] not in forms:
        return {"error": f"no parallel PyTorch form for {c['cell']!r}"}
    m = forms[c["cell"]](c["input"], c["hidden"]).to(DTYPES[c["dtype"]])
    return measure_module(c, lambda x: m(x)[0])


def measure_reference(c):
    """A zoo cell PyTorch lacks, as its equations written in PyTorch (a loop over steps)."""
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    refs = references()
    if c["cell"] not in refs:
        return {"error": f"no PyTorch reference for {c['cell']!r}"}
    m = refs[c["cell"]](c["input"], c["hidden"]).to(DTYPES[c["dtype"]])
    return measure_module(c, lambda x: m(x)[0])


def measure_gemm(c):
    torch.set_num_threads(c["threads"])
    n, dtype = c["size"], DTYPES[c["dtype"]]
    a = torch.rand(n, n, dtype=dtype)
    b = torch.rand(n, n, dtype=dtype)
    out = torch.empty(n, n, dtype=dtype)
    torch.mm(a, b, out=out)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < c.get("seconds", 1.0):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    return {"ms": t * 1e3, "gflops": 2.0 * n**3 / t / 1e9, "threads": torch.get_num_threads()}


def info():
    """What the report says about this PyTorch."""
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "mkl": torch.backends.mkl.is_available(),
        "config": torch.__config__.show(),
    }


def serve():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            if req["kind"] == "case":
                ans = measure_case(req)
            elif req["kind"] == "reference":
                ans = measure_reference(req)
            elif req["kind"] == "trainer":
                ans = measure_trainer(req)
            elif req["kind"] == "streaming":
                ans = measure_streaming(req)
            elif req["kind"] == "parallel":
                ans = measure_parallel(req)
            elif req["kind"] == "gemm":
                ans = measure_gemm(req)
            elif req["kind"] == "info":
                ans = info()
            else:
                ans = {"error": f"unknown kind {req['kind']!r}"}
        except Exception as e:  # report, keep serving
            ans = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(ans), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--serve", action="store_true", help="JSON lines on stdin/stdout")
    p.add_argument("--cell", choices=MODULES)
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--input", type=int)
    p.add_argument("--hidden", type=int)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--dtype", choices=DTYPES, default="f32")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--min-reps", type=int, default=5)
    a = p.parse_args()
    if a.serve:
        return serve()
    if a.cell is None:
        p.error("--cell (or --serve) is required")
    case = {k: getattr(a, k) for k in
            ("cell", "steps", "batch", "input", "hidden", "layers", "bidirectional",
             "dtype", "threads", "seconds", "min_reps")}
    print(json.dumps({**case, **measure_case(case)}))


if __name__ == "__main__":
    main()
