"""char-rnn's recipe in PyTorch, the twin of `rnnzoo train --text` (and of `rnnzoo reproduce
charlm`): the same text, split, vocabulary, streams, chunks, model, loss, optimizer and clipping.

- Text: the file given (the repository's embedded corpus is datasets/data/shakespeare.txt), its
  vocabulary the sorted set of its characters, split at round(0.9 * len) characters in order.
- Streams: the training ids cut into `batch` contiguous streams (PyTorch's word_language_model
  `batchify`), read in chunks of `bptt` steps; the last chunk may be shorter. The state is carried
  across chunks (truncated BPTT) and reset at every epoch; validation does the same over the
  held-out part with the same batch and chunk length.
- Model: one-hot inputs, `nn.LSTM`/`nn.GRU` of `layers` x `hidden` at PyTorch's initialisation,
  `nn.Linear(hidden, vocab)` at every step; mean cross-entropy over the chunk's characters.
- Optimizer: Adam (PyTorch's defaults but the learning rate), `clip_grad_norm_` before every step.
- Time: wall seconds from the first update, validation included, as `rnnzoo train` counts them.

Prints one JSON object per validation (`step`, `seconds`, `train_bpc`, `valid_bpc`), as the
lines of `rnnzoo train`'s metrics.jsonl, then a last line `{"done": ...}`.

    .venv/bin/python bench/compare/charlm_torch.py --text datasets/data/shakespeare.txt \
        --cell lstm --steps 6000 --eval-every 500 --seed 0
"""

import argparse
import json
import math
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--text", required=True)
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--bptt", type=int, default=50)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--init", help="start from the weights of an rnnzoo checkpoint (PyTorch's "
                   "names: weight_ih_l0, ..., head.weight, head.bias) instead of a seeded draw")
    a = p.parse_args()

    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.text, encoding="utf-8").read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = min(round(len(ids) * (1 - a.valid_fraction)), len(ids))
    train, valid = ids[:cut], ids[cut:]
    v = len(vocab)

    def batchify(x, b):
        steps = len(x) // b
        return x[: steps * b].view(b, steps).t().contiguous()  # (steps, b), time-major

    def chunks(data):
        usable = data.shape[0] - 1
        for s in range(0, usable, a.bptt):
            k = min(a.bptt, usable - s)
            yield data[s : s + k], data[s + 1 : s + 1 + k]

    rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[a.cell](v, a.hidden, a.layers)
    head = nn.Linear(a.hidden, v)
    if a.init:
        from safetensors.torch import load_file
        w = load_file(a.init)
        with torch.no_grad():
            for name, t in rnn.named_parameters():
                t.copy_(w[name])
            for name, t in head.named_parameters():
                t.copy_(w["head." + name])
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    def detach(state):
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    def run_chunk(x, state):
        out, state = rnn(nn.functional.one_hot(x, v).float(), state)
        return head(out).reshape(-1, v), state

    def validate():
        data = batchify(valid, a.batch)
        nats, count, state = 0.0, 0, None
        with torch.no_grad():
            for x, y in chunks(data):
                logits, state = run_chunk(x, state)
                nats += loss_fn(logits, y.reshape(-1)).item() * y.numel()
                count += y.numel()
        return nats / count / math.log(2)

    data = batchify(train, a.batch)
    epoch_chunks = list(chunks(data))
    started = time.perf_counter()
    step, state, nats, count = 0, None, 0.0, 0
    while step < a.steps:
        if step % len(epoch_chunks) == 0:
            state = None
        x, y = epoch_chunks[step % len(epoch_chunks)]
        if state is not None:
            state = detach(state)
        logits, state = run_chunk(x, state)
        loss = loss_fn(logits, y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, a.clip)
        opt.step()
        nats += loss.item() * y.numel()
        count += y.numel()
        step += 1
        if step % a.eval_every == 0 or step == a.steps:
            line = {"step": step, "train_bpc": nats / count / math.log(2), "valid_bpc": validate()}
            line["seconds"] = time.perf_counter() - started
            print(json.dumps(line), flush=True)
            nats, count = 0.0, 0
    print(json.dumps({"done": True, "torch": torch.__version__, "params":
                      sum(p.numel() for p in params), "vocab": v}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
