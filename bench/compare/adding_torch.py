"""The adding problem in PyTorch, the twin of `rnnzoo reproduce adding --quick` for one cell: the
same task, model, loss, optimizer, clipping, batch, evaluation and stopping rule.

- Task (datasets/src/adding.rs): two features per step, a value from U[0, 1) and a marker that is
  1 at two steps, one uniform in the first half `0..T/2` and one in the second `T/2..T`; the
  target, read at the last step, is the sum of the two marked values.
- Model: `nn.LSTM`/`nn.GRU`/`nn.RNN` (input 2, one layer) at PyTorch's initialisation, and
  `nn.Linear(hidden, 1)` on the last step's output; MSE.
- Training: a fresh batch every update, Adam (PyTorch's defaults but the learning rate),
  `clip_grad_norm_`, and a fixed test set evaluated every `eval_every` updates (and before the
  first); the run stops at the first evaluation whose test MSE is below `solved`.
- Time: wall seconds from the first update, evaluations included, as rnnzoo's `train_until`
  counts them.

Prints one JSON object: `solved_at` (the update, or null), `seconds` (to it, or to the budget),
`best_test_mse`, and the curve.

    .venv/bin/python bench/compare/adding_torch.py --cell lstm --steps 100 --seed 0
"""

import argparse
import json
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cell", choices=["lstm", "gru", "rnn-tanh"], default="lstm")
    p.add_argument("--steps", type=int, default=100, help="sequence length T")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--updates", type=int, default=8000)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--solved", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()

    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed ^ 0xDA7A)
    test_gen = torch.Generator().manual_seed(a.seed ^ 0x7E57 ^ a.steps)

    def sample(n, g):
        t, half = a.steps, a.steps // 2
        x = torch.zeros(t, n, 2)
        x[:, :, 0] = torch.rand(t, n, generator=g)
        first = torch.randint(0, half, (n,), generator=g)
        second = torch.randint(half, t, (n,), generator=g)
        cols = torch.arange(n)
        x[first, cols, 1] = 1.0
        x[second, cols, 1] = 1.0
        y = x[first, cols, 0] + x[second, cols, 0]
        return x, y.unsqueeze(1)

    rnn = {"lstm": lambda: nn.LSTM(2, a.hidden), "gru": lambda: nn.GRU(2, a.hidden),
           "rnn-tanh": lambda: nn.RNN(2, a.hidden)}[a.cell]()
    head = nn.Linear(a.hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=a.lr)
    mse = nn.MSELoss()

    def predict(x):
        out, _ = rnn(x)
        return head(out[-1])

    test = sample(a.test, test_gen)

    def evaluate():
        with torch.no_grad():
            return mse(predict(test[0]), test[1]).item()

    started = time.perf_counter()
    curve = [(0, evaluate(), 0.0)]
    solved_at = None
    for u in range(1, a.updates + 1):
        x, y = sample(a.batch, gen)
        loss = mse(predict(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, a.clip)
        opt.step()
        if u % a.eval_every == 0 or u == a.updates:
            curve.append((u, evaluate(), time.perf_counter() - started))
            if curve[-1][1] < a.solved:
                solved_at = u
                break
    print(json.dumps({"solved_at": solved_at, "seconds": curve[-1][2],
                      "best_test_mse": min(c[1] for c in curve), "curve": curve,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())
