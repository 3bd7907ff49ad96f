"""How many finished trials without a rise beyond noise mean a search has converged (the default of
`--patience`, tuners/convergence.py).

    python bench/convergence.py [--budget 60s] [--sets iris wine ...]

Each set is tuned with the rules' family and the whole budget (`--patience 0 --no-race`). The
trials are then replayed in the order they finished through tuners.convergence.Convergence for
each candidate patience: where it would have stopped, the best validation score found by then
against the run's final best. A patience agrees on a run when the score it stops at is within one
standard error (over the folds) of the final best. The table gives the smallest patience that agrees on
every run, and the share of the search's time each would have saved.
Written to bench/results/convergence.md and .json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from tuners.convergence import PATIENCE, Convergence  # noqa: E402

SETS = ("iris", "wine", "breast_cancer", "diabetes", "digits", "interactions", "linear_regression_10k", "fair",
        "anes96", "star98")
PATIENCES = (10, 20, 30, 40, 60, 80, 120)


def replay(trials: list[dict], patience: int) -> dict:
    """Where a stage watch with `patience` would have stopped this run, and what it would have kept."""
    done = sorted((t for t in trials if t["status"] == "completed" and t["score"] is not None and t["finished_at"]),
                  key=lambda t: t["finished_at"])
    if not done:
        return {"stopped": False, "agrees": True, "saved": 0.0}
    final = max(done, key=lambda t: t["score"])
    watch = Convergence(patience)
    stop = None
    for index, trial in enumerate(done):
        if watch.update(trial["score"], trial.get("score_sem")):
            stop = index
            break
    if stop is None:
        return {"stopped": False, "agrees": True, "saved": 0.0}
    start, end = min(t["finished_at"] - t["seconds"] for t in done), done[-1]["finished_at"]
    saved = (end - done[stop]["finished_at"]) / max(1e-9, end - start)
    agrees = final["score"] - watch.best <= (final.get("score_sem") or 0.0) + 1e-12
    return {"stopped": True, "agrees": agrees, "saved": saved, "loss": final["score"] - watch.best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--replay", action="store_true", help="analyse the trials saved in convergence.json again")
    args = parser.parse_args()
    saved = ROOT / "bench" / "results" / "convergence.json"
    runs = json.loads(saved.read_text(encoding="utf-8")) if args.replay else measure(args)
    saved.write_text(json.dumps(runs), encoding="utf-8")
    write_results(ROOT / "bench" / "results" / "convergence.md", table(runs, args.budget))


def measure(args) -> dict:
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        for entry, path in write_corpus(Path(scratch) / "data", args.sets):
            result, wall = run_advisor("recommend", str(path), "--budget", args.budget, "--patience", "0", "--no-race",
                                       "--out", str(Path(scratch) / entry.name))
            runs[entry.name] = {"family": result["family"], "trials": result["trials"], "wall_s": round(wall, 1)}
            print(f"{entry.name}: {result['family']}, {len(result['trials'])} trials in {wall:.0f} s", flush=True)
    return runs


def table(runs: dict, budget: str) -> list[str]:
    lines = ["# When a search has converged: the default --patience", "", machine_line(ray=version("ray")),
             f"Command: `python bench/convergence.py --budget {budget}` (raw trials: convergence.json). Each set "
             "tuned with the rules' family and the whole budget, the trials replayed in the order they finished.", "",
             "| patience | runs it stops | stops within 1 SE of the final best | median time saved (stopped runs) |",
             "| ---: | ---: | ---: | ---: |"]
    chosen = None
    for patience in PATIENCES:
        found = [replay(run["trials"], patience) for run in runs.values()]
        stopped = [f for f in found if f["stopped"]]
        agree = sum(f["agrees"] for f in found)
        saved = statistics.median(f["saved"] for f in stopped) if stopped else 0.0
        lines.append(f"| {patience} | {len(stopped)} of {len(found)} | {agree} of {len(found)} | {saved:.0%} |")
        if chosen is None and agree == len(found):
            chosen = patience
    lines += ["", f"**The smallest patience that agrees on every run: {chosen if chosen is not None else 'none'}.** "
              f"tuners/convergence.py keeps {PATIENCE}: twice that while the corpus holds few runs, most of one family, "
              "for a small cost in time saved.", "", "| set | family | trials | wall s |", "| --- | --- | ---: | ---: |"]
    lines += [f"| {name} | {run['family']} | {len(run['trials'])} | {run['wall_s']:g} |" for name, run in runs.items()]
    return lines


if __name__ == "__main__":
    main()
