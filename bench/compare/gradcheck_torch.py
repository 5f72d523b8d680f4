"""torch.autograd.gradcheck on planted gradient errors: what PyTorch's checker catches.

The same cells as rnnzoo's registry in PyTorch's gate order (nn.RNN tanh, nn.LSTM, nn.GRU), unrolled
T=6 steps on a batch of 3 (input 4, hidden 5, float64, an initial state), as one custom
torch.autograd.Function whose backward is autograd's vjp of the same unroll with one block of the
gradient scaled by 1 + e: the planted error of `rnnzoo reproduce gradcheck` (each gate's rows of
d weight_ih and d weight_hh, each bias, d input, d initial state). Each is run through
torch.autograd.gradcheck at its defaults (eps 1e-6, atol 1e-5, rtol 1e-3, the full Jacobian) for
e = 1e-1, 1e-2, ... 1e-8; the table gives the smallest e caught (with every larger one).

    /work/main/.venv/bin/python bench/compare/gradcheck_torch.py [--markdown]

Deterministic (torch.manual_seed(0)); CPU only; a few seconds.
"""

import argparse

import torch

T, B, I, H = 6, 3, 4, 5
LEVELS = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
GATES = {"rnn-tanh": 1, "lstm": 4, "gru": 3}


def unroll(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Every h_t and the final state, flattened into one vector (PyTorch's equations)."""
    h, c, outs = h0, c0, []
    for t in range(x.shape[0]):
        gi = x[t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if cell == "rnn-tanh":
            h = torch.tanh(gi + gh)
        elif cell == "lstm":
            i, f, g, o = (gi + gh).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            ir, iz, in_ = gi.chunk(3, dim=1)
            hr, hz, hn = gh.chunk(3, dim=1)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            n = torch.tanh(in_ + r * hn)
            h = (1 - z) * n + z * h
        outs.append(h)
    final = [h] + ([c] if cell == "lstm" else [])
    return torch.cat([torch.stack(outs).reshape(-1)] + [s.reshape(-1) for s in final])


NAMES = ["input", "initial_state", "initial_state_c", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]


class PlantedUnroll(torch.autograd.Function):
    """The unroll, with autograd's gradient of one block scaled by 1 + level in backward."""

    @staticmethod
    def forward(ctx, cell, block, level, *tensors):
        ctx.cell, ctx.block, ctx.level = cell, block, level
        ctx.save_for_backward(*tensors)
        return unroll(cell, *tensors)

    @staticmethod
    def backward(ctx, grad_out):
        tensors = [t.detach().requires_grad_(t is not None) for t in ctx.saved_tensors]
        with torch.enable_grad():
            out = unroll(ctx.cell, *tensors)
            grads = list(torch.autograd.grad(out, tensors, grad_out, allow_unused=True))
        group, rows = ctx.block
        k = NAMES.index(group)
        g = grads[k].clone()
        if rows is None:
            g *= 1 + ctx.level
        else:
            g[rows[0] : rows[1]] *= 1 + ctx.level
        grads[k] = g
        return (None, None, None, *grads)


def blocks(cell):
    gates = GATES[cell]
    out = []
    for w in ["weight_ih", "weight_hh"]:
        out += [(f"{w} gate {g}", (w, (g * H, (g + 1) * H))) for g in range(gates)]
    out += [("bias_ih", ("bias_ih", None)), ("bias_hh", ("bias_hh", None))]
    out += [("input", ("input", None)), ("initial_state", ("initial_state", None))]
    if cell == "lstm":
        out.append(("initial_state (c)", ("initial_state_c", None)))
    return out


def tensors(cell):
    torch.manual_seed(0)
    gates = GATES[cell]
    k = 1 / H**0.5
    u = lambda *s: (torch.rand(*s, dtype=torch.float64) * 2 - 1) * k
    x = torch.randn(T, B, I, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64)
    c0 = torch.randn(B, H, dtype=torch.float64)
    ts = [x, h0, c0, u(gates * H, I), u(gates * H, H), u(gates * H), u(gates * H)]
    return [t.requires_grad_() for t in ts]


def smallest_caught(cell, block):
    ts = tensors(cell)
    if cell != "lstm":
        # c0 does not enter: give gradcheck a tensor it need not check.
        ts[2] = ts[2].detach()
    smallest = None
    for level in LEVELS:
        f = lambda *t: PlantedUnroll.apply(cell, block, level, *t)
        ok = torch.autograd.gradcheck(f, ts, raise_exception=False)
        if ok:
            break
        smallest = level
    return smallest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args()
    # A check that cannot fail proves nothing: the clean unroll passes, a 10 % error fails.
    for cell in GATES:
        ts = tensors(cell)
        if cell != "lstm":
            ts[2] = ts[2].detach()
        clean = lambda *t: PlantedUnroll.apply(cell, ("input", None), 0.0, *t)
        assert torch.autograd.gradcheck(clean, ts, raise_exception=False), cell
    rows = []
    for cell in GATES:
        for name, block in blocks(cell):
            s = smallest_caught(cell, block)
            rows.append((cell, name, s))
    if args.markdown:
        print("| cell | block | smallest caught by torch.autograd.gradcheck (defaults) |")
        print("| --- | --- | ---: |")
    for cell, name, s in rows:
        shown = "missed 1e-1" if s is None else f"{s:.0e}"
        print(f"| {cell} | {name} | {shown} |" if args.markdown else f"{cell:10} {name:20} {shown}")
    worst = max((s if s is not None else float("inf")) for _, _, s in rows)
    print(f"\nevery block caught at: {worst:.0e}" if worst != float("inf") else "\nsome block missed 1e-1")


if __name__ == "__main__":
    main()
