"""How many finished trials without a rise beyond noise mean a search has converged (the default of
`--patience`, tuners/convergence.py).

    python bench/convergence.py [--budget 60s] [--sets iris wine ...] [--replay]

Each set (bench/corpus.py's or bench/tables.py's) is tuned with the rules' family and the whole
budget (`--patience 0 --no-race`); its run replaces the set's earlier one in convergence.json and
the others stay (`--replay` measures nothing). The trials are then replayed in the order they
finished through tuners.convergence.Convergence for each candidate patience, counting every trial
that ended (ASHA's stops as trials that did not raise the best, as a run counts them) and, beside
it, only those that finished every fold: where it would have stopped, the best validation score
found by then against the run's final best. A patience agrees on a run when the score it stops at is within one
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
from bench.corpus import ENTRIES, write_entries  # noqa: E402
from bench.tables import TABLES  # noqa: E402
from tuners.convergence import PATIENCE, Convergence  # noqa: E402

SETS = ("iris", "wine", "breast_cancer", "diabetes", "digits", "interactions", "linear_regression_10k", "fair",
        "anes96", "star98")
# Boosting's searches, where ASHA stops most trials before the last fold (bench/tables.py's sets and
# the corpus's, that the rules send to boosting; carseats goes to the linear family): measured too.
BOOSTING = ("parabolic", "gunpoint_wide", "chirps_wide", "mcycle", "concrete", "carseats", "mlc_churn", "hpc_data",
            "ames", "randhie", "large_nonlinear")
PATIENCES = (10, 20, 30, 40, 60, 80, 120)


def replay(trials: list[dict], patience: int, count_stopped: bool = True) -> dict:
    """Where a stage watch with `patience` would have stopped this run, and what it would have kept.
    With `count_stopped`, a trial ASHA stopped before its last fold counts as one that did not raise
    the best (as the run counts it); without, only trials that finished every fold count."""
    ended = sorted((t for t in trials if t["finished_at"] and (
        t["status"] == "completed" and t["score"] is not None or count_stopped and t["status"] == "stopped")),
        key=lambda t: t["finished_at"])
    done = [t for t in ended if t["status"] == "completed"]
    if not done:
        return {"stopped": False, "agrees": True, "saved": 0.0}
    final = max(done, key=lambda t: t["score"])
    watch = Convergence(patience)
    stop = None
    for index, trial in enumerate(ended):
        if trial["status"] == "completed" and watch.update(trial["score"], trial.get("score_sem")) or (
                trial["status"] == "stopped" and watch.passed()):
            stop = index
            break
    if stop is None:
        return {"stopped": False, "agrees": True, "saved": 0.0}
    start, end = min(t["finished_at"] - (t["seconds"] or 0.0) for t in ended), ended[-1]["finished_at"]
    saved = (end - ended[stop]["finished_at"]) / max(1e-9, end - start)
    agrees = final["score"] - watch.best <= (final.get("score_sem") or 0.0) + 1e-12
    return {"stopped": True, "agrees": agrees, "saved": saved, "loss": final["score"] - watch.best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--sets", nargs="*", default=list(SETS + BOOSTING))
    parser.add_argument("--replay", action="store_true", help="analyse the trials saved in convergence.json again")
    args = parser.parse_args()
    saved = ROOT / "bench" / "results" / "convergence.json"
    runs = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    if not args.replay:  # the sets measured now replace their earlier runs; the others stay
        runs.update(measure(args))
    saved.write_text(json.dumps(runs), encoding="utf-8")
    write_results(ROOT / "bench" / "results" / "convergence.md", table(runs, args.budget))


def measure(args) -> dict:
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        for entry, path in write_entries(ENTRIES + TABLES, ROOT / "bench" / "data", args.sets):
            named = ("--target", entry.target) if entry.target else ()
            result, wall = run_advisor("recommend", str(path), *named, "--budget", args.budget, "--patience", "0",
                                       "--no-race", "--out", str(Path(scratch) / entry.name))
            runs[entry.name] = {"family": result["family"], "trials": result["trials"], "wall_s": round(wall, 1)}
            print(f"{entry.name}: {result['family']}, {len(result['trials'])} trials in {wall:.0f} s", flush=True)
    return runs


def table(runs: dict, budget: str) -> list[str]:
    lines = ["# When a search has converged: the default --patience", "", machine_line(ray=version("ray")),
             f"Command: `python bench/convergence.py --budget {budget}` (raw trials: convergence.json; a run's "
             "sets replace their earlier runs). Each set "
             "tuned with the rules' family and the whole budget, the trials replayed in the order they finished. "
             "Counted trials: every one that ended (those ASHA stopped before their last fold count as not raising "
             "the best, as tuners/convergence.py counts them), or only those that finished every fold.", "",
             "| patience | counted trials | runs it stops | stops within 1 SE of the final best | "
             "median time saved (stopped runs) |", "| ---: | --- | ---: | ---: | ---: |"]
    chosen = None
    for patience in PATIENCES:
        for count_stopped, words in ((True, "every one that ended"), (False, "finished every fold")):
            found = [replay(run["trials"], patience, count_stopped) for run in runs.values()]
            stopped = [f for f in found if f["stopped"]]
            agree = sum(f["agrees"] for f in found)
            saved = statistics.median(f["saved"] for f in stopped) if stopped else 0.0
            lines.append(f"| {patience} | {words} | {len(stopped)} of {len(found)} | {agree} of {len(found)} | "
                         f"{saved:.0%} |")
            if chosen is None and count_stopped and agree == len(found):
                chosen = patience
    lines += ["", f"**The smallest patience that agrees on every run, counting every trial that ended: "
              f"{chosen if chosen is not None else 'none'}.** tuners/convergence.py keeps {PATIENCE}.", "",
              "| set | family | trials | of them stopped by ASHA | wall s |", "| --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {run['family']} | {len(run['trials'])} | "
              f"{sum(t['status'] == 'stopped' for t in run['trials'])} | {run['wall_s']:g} |" for name, run in runs.items()]
    return lines


if __name__ == "__main__":
    main()
