"""Same recipe, both libraries: whole training runs of `rnnzoo reproduce`'s settings in rnnzoo and
in PyTorch, seeds 0 to 4 on each side, one process per core, each at one thread.

- `charlm`: char-rnn's model (2 x 128 LSTM, and a GRU of the same size) on the embedded
  Shakespeare, `rnnzoo train --text` against charlm_torch.py (the same split, streams, model,
  loss, Adam and clipping). Reported: the best validation bits per character of each seed, the
  update and the wall time at which it first reached the quick target (2.5 bpc), and the run's
  wall time.
- `adding`: the adding problem at T = 100, LSTM H64 (reproduce adding's quick settings),
  `rnnzoo reproduce adding --cells lstm` against adding_torch.py. Reported: the update and the
  wall time at which the test MSE first fell below 0.01.

The two sides draw their initial weights and batches from their own random sources, so a seed
is not the same run on both sides; the comparison is of the spread over seeds. (From the same
initial weights, charlm_torch.py --init and `rnnzoo train` agree to 4 digits of the training loss
over 300 updates: the arithmetic is the same.)

Writes `results.json` into --out and the block between `<!-- recipes: begin -->` and
`<!-- recipes: end -->` of --markdown (BENCHMARKS.md).

    python3 bench/compare/recipes.py --rnnzoo target/release/rnnzoo --torch-python .venv/bin/python
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import compare  # noqa: E402  (machine(), versions(), splice())

BEGIN, END = "<!-- recipes: begin -->", "<!-- recipes: end -->"
TEXT = ROOT / "datasets" / "data" / "shakespeare.txt"
BPC_TARGET = 2.5
ADDING_SOLVED = 0.01


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def charlm_zoo(args, cell, seed, work):
    out = Path(work) / f"zoo-{cell}-{seed}"
    subprocess.run([args.rnnzoo, "train", "--out", str(out), "--cell", cell, "--seed", str(seed),
                    "--steps", str(args.charlm_steps), "--eval-every", str(args.eval_every),
                    "--threads", "1", "--json"], check=True, capture_output=True)
    return [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines() if l.strip()]


def charlm_torch(args, cell, seed, work):
    p = subprocess.run([args.torch_python, str(HERE / "charlm_torch.py"), "--text", str(TEXT),
                        "--cell", cell, "--seed", str(seed), "--steps", str(args.charlm_steps),
                        "--eval-every", str(args.eval_every)],
                       check=True, capture_output=True, text=True)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return [l for l in lines if "step" in l]


def charlm_summary(curve):
    best = min(curve, key=lambda r: r["valid_bpc"])
    hit = next((r for r in curve if r["valid_bpc"] <= BPC_TARGET), None)
    return {"best_valid_bpc": best["valid_bpc"], "best_at": best["step"],
            "final_valid_bpc": curve[-1]["valid_bpc"], "seconds": curve[-1]["seconds"],
            "reached_at": hit and hit["step"], "reached_seconds": hit and hit["seconds"],
            "curve": [(r["step"], r["valid_bpc"], r["seconds"]) for r in curve]}


def adding_zoo(args, seed, work):
    out = Path(work) / f"adding-zoo-{seed}"
    subprocess.run([args.rnnzoo, "reproduce", "adding", "--quick", "--seed", str(seed), "--cells",
                    "lstm", "--lengths", "100", "--threads", "1", "--out", str(out)],
                   check=True, capture_output=True)
    runs = json.loads((out / "adding.json").read_text())["results"]["runs"]
    r = next(r for r in runs if r["cell"] == "lstm" and r["steps"] == 100)
    return {"solved_at": r.get("solved_at"), "seconds": r["seconds"],
            "best_test_mse": r["best_test_mse"]}


def adding_torch(args, seed, work):
    p = subprocess.run([args.torch_python, str(HERE / "adding_torch.py"), "--seed", str(seed)],
                       check=True, capture_output=True, text=True)
    return json.loads(p.stdout.splitlines()[-1])


def run(args):
    jobs = []
    for cell in args.cells:
        for seed in args.seeds:
            for side in ("zoo", "torch"):
                jobs.append(("charlm", cell, seed, side))
    if args.adding:
        for seed in args.seeds:
            for side in ("zoo", "torch"):
                jobs.append(("adding", "lstm", seed, side))
    results = {"date": date.today().isoformat(), "machine": compare.machine(),
               "versions": compare.versions(), "charlm_steps": args.charlm_steps,
               "eval_every": args.eval_every, "charlm": {}, "adding": {}}
    with tempfile.TemporaryDirectory() as work:
        def one(job):
            task, cell, seed, side = job
            started = time.perf_counter()
            if task == "charlm":
                f = charlm_zoo if side == "zoo" else charlm_torch
                res = charlm_summary(f(args, cell, seed, work))
            else:
                res = (adding_zoo if side == "zoo" else adding_torch)(args, seed, work)
            log(f"{task} {cell} seed {seed} {side}: {time.perf_counter() - started:.0f} s, "
                + json.dumps({k: v for k, v in res.items() if k != "curve"}))
            return job, res

        with ThreadPoolExecutor(args.workers) as pool:
            for (task, cell, seed, side), res in pool.map(one, jobs):
                results[task].setdefault(cell, {}).setdefault(side, {})[str(seed)] = res
    return results


def spread(vals, nd=3):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "n/a"
    return f"{statistics.median(vals):.{nd}f} ({min(vals):.{nd}f}-{max(vals):.{nd}f})"


def markdown(res):
    lines = [BEGIN, "## Same recipe, both libraries: whole training runs", "",
             f"Measured {res['date']} at rnnzoo {res['versions']['commit']} on {res['machine']}. "
             "`python3 bench/compare/recipes.py` (`make recipes-compare`): every run on one core "
             "at one thread, two runs at a time; the seeds are 0 to 4 on each side, and each "
             "side draws its weights and batches from its own random source, so the columns "
             "compare spreads over seeds. Figures: median (min-max).", ""]
    if res["charlm"]:
        lines += [f"Character-level language model (char-rnn's 2 x 128 model on the embedded "
                  f"Shakespeare: batch 50, BPTT 50, Adam 2e-3, clip 5, {res['charlm_steps']} "
                  f"updates, validation every {res['eval_every']}): `rnnzoo train --text` "
                  "against bench/compare/charlm_torch.py.", "",
                  f"| cell | side | best valid bpc | final valid bpc | seeds <= {BPC_TARGET} | "
                  f"update first <= {BPC_TARGET} | seconds to it | seconds, whole run | "
                  "ms per update |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for cell, sides in res["charlm"].items():
            for side in ("zoo", "torch"):
                runs = list(sides.get(side, {}).values())
                if not runs:
                    continue
                ok = sum(r["best_valid_bpc"] <= BPC_TARGET for r in runs)
                lines.append(
                    f"| {cell} | {'rnnzoo' if side == 'zoo' else 'PyTorch'} | "
                    f"{spread([r['best_valid_bpc'] for r in runs])} | "
                    f"{spread([r['final_valid_bpc'] for r in runs])} | {ok}/{len(runs)} | "
                    f"{spread([r['reached_at'] for r in runs], 0)} | "
                    f"{spread([r['reached_seconds'] for r in runs], 0)} | "
                    f"{spread([r['seconds'] for r in runs], 0)} | "
                    f"{spread([1e3 * r['seconds'] / res['charlm_steps'] for r in runs], 1)} |")
        lines.append("")
    if res["adding"]:
        lines += ["Adding problem, T = 100, LSTM H64 (Adam 1e-3, clip 1, batch 32, evaluation "
                  "every 100 updates on 1,000 test sequences): time to a test MSE below 0.01. "
                  "`rnnzoo reproduce adding --cells lstm --lengths 100` against "
                  "bench/compare/adding_torch.py.", "",
                  "| side | seeds solved | update solved at | seconds to solve | ms per update |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for side in ("zoo", "torch"):
            runs = list(res["adding"].get("lstm", {}).get(side, {}).values())
            if runs:
                lines.append(
                    f"| {'rnnzoo' if side == 'zoo' else 'PyTorch'} | "
                    f"{sum(r['solved_at'] is not None for r in runs)}/{len(runs)} | "
                    f"{spread([r['solved_at'] for r in runs], 0)} | "
                    f"{spread([r['seconds'] if r['solved_at'] else None for r in runs], 1)} | "
                    f"{spread([1e3 * r['seconds'] / r['solved_at'] if r['solved_at'] else None for r in runs], 2)} |")
        lines.append("")
    return lines + [END]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rnnzoo", default=str(ROOT / "target" / "release" / "rnnzoo"))
    p.add_argument("--torch-python", default=str(ROOT / ".venv" / "bin" / "python"))
    p.add_argument("--cells", default="lstm,gru", type=lambda s: [c for c in s.split(",") if c])
    p.add_argument("--seeds", default="0,1,2,3,4", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--charlm-steps", type=int, default=8000)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--adding", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--out", default=str(ROOT / "results" / "recipes"))
    p.add_argument("--markdown", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--from-json", help="only rewrite the markdown block from a results.json")
    args = p.parse_args()
    if args.from_json:
        res = json.loads(Path(args.from_json).read_text())
    else:
        res = run(args)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "results.json").write_text(json.dumps(res, indent=1))
    Path(args.markdown).write_text(compare.splice(args.markdown, markdown(res), BEGIN, END))
    log(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
