"""Boosting's tree count from early stopping, then what the kept model is: the early-stopped
model as it is (trained on 85% of the rows it was given, the other 15% choosing when to stop),
the same tree count, scaled by 1/0.85, grown again on every row (RefitXGB below), or a bag of 5
(the family's FamilyDef.bag: a model per fold's training rows, early-stopped on the rows that fold
leaves out, predictions averaged).

    python bench/boosting_refit.py [--datasets randhie ames ...]

On the boosting sets of bench/corpus.py and the held-out tables of bench/tables.py (the benchmark
environment's packages), each through the advisor's own Problem (its split, folds and
preprocessing): XGBoost's defaults, the seeds' start and --sampled (6) configurations drawn from the family's
space (seed 0), each scored by the same 5-fold cross-validation and on the test split (fitted on
every training row). The bag's cross-validated score would need a bag per fold (nested): only
its test score is measured. Written to bench/results/boosting_refit.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.loading import load  # noqa: E402
from advisor.profiling import profile  # noqa: E402
from advisor.types import Family  # noqa: E402
from bench.common import machine_line, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.tables import write_tables  # noqa: E402
from tuners.data import prepare  # noqa: E402
from tuners.evaluation import evaluate_with  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.families import boosting  # noqa: E402
from tuners.metrics import score  # noqa: E402

SETS = ("randhie", "interactions", "fair", "gunpoint_wide", "chirps_wide", "anes96", "concrete", "mlc_churn",
        "hpc_data", "ames", "mcycle", "parabolic", "attrition", "carseats")
SAMPLED = 6


class RefitXGB(boosting.EarlyStoppedXGB):
    """The family's model, then its early-stopped tree count / 0.85 grown again on every given row."""

    def fit(self, x, y):
        super().fit(x, y)
        trees = max(1, round((self.best_iteration_ + 1) / (1 - boosting.INNER_VALIDATION)))
        self.booster_ = self._model(trees, None, deadline=None)
        self.booster_.fit(x, y, verbose=False, **self._weights(y, "sample_weight"))
        return self


def _refitted(config, problem):
    model = boosting.build(config, problem)
    early = model.steps[-1][1]
    model.steps[-1] = ("model", RefitXGB(early.params, classes=early.classes, seed=early.seed, balanced=early.balanced))
    return model


VARIANTS = {"early-stopped": FAMILIES[Family.BOOSTING],
            "refit": dataclasses.replace(FAMILIES[Family.BOOSTING], build=_refitted)}


def _scores(definition, config, problem) -> tuple[float, float, float]:
    """(cross-validated score, test score, seconds) of one configuration."""
    reports: list[dict] = []
    started = time.perf_counter()
    evaluate_with(definition, config, reports.append, problem)
    model = definition.build(config, problem).fit(problem.x_train, problem.y_train)
    return reports[-1]["score"], score(problem.metric, model, problem.x_test, problem.y_test), time.perf_counter() - started


def _bag_test(config, problem) -> tuple[float, float, float]:
    """(no cross-validated score, test score, seconds) of the bag the family keeps."""
    started = time.perf_counter()
    model = boosting.build(config, problem).set_params(model__bag=boosting.BAG).fit(problem.x_train, problem.y_train)
    return float("nan"), score(problem.metric, model, problem.x_test, problem.y_test), time.perf_counter() - started


def measure(entry, path: Path, sampled: int = SAMPLED) -> list[dict]:
    dataset = load(path, entry.target)
    problem = prepare(dataset.frame, profile(dataset, seed=0), 0)
    family = FAMILIES[Family.BOOSTING]
    space, rng = family.space(problem), np.random.default_rng(0)
    configs = [("defaults", family.defaults(problem)), ("start", space.start),
               *((f"sampled {i + 1}", space.sample(rng)) for i in range(sampled))]
    rows = []
    for name, config in configs:
        found = {label: _scores(definition, config, problem) for label, definition in VARIANTS.items()}
        found["bag"] = _bag_test(config, problem)
        rows.append({"set": entry.name, "metric": problem.metric, "config": name, **found})
        print(f"{entry.name:14} {name:10} " + "  ".join(f"{k}: cv {v[0]:.4f} test {v[1]:.4f} {v[2]:.1f} s"
                                                     for k, v in found.items()), flush=True)
    return rows


def bag_summary(rows: list[dict]) -> list[str]:
    test = [100 * (r["bag"][1] - r["early-stopped"][1]) for r in rows]
    sets = sorted({r["set"] for r in rows})
    per_set = {s: statistics.median(100 * (r["bag"][1] - r["early-stopped"][1]) for r in rows if r["set"] == s)
               for s in sets}
    better = sum(1 for v in per_set.values() if v > 0)
    worse = sum(1 for v in per_set.values() if v < 0)
    cost = [r["bag"][2] / r["early-stopped"][2] for r in rows]
    return [f"**The bag of {boosting.BAG} against the early-stopped model, test score over {len(rows)} configurations: "
            f"{statistics.median(test):+.2f} points at the median ({min(test):+.2f} to {max(test):+.2f}); the median "
            f"configuration gains on {better} of {len(sets)} sets and loses on {worse}; time x{statistics.median(cost):.2f} "
            "at the median (the early-stopped column's time includes its cross-validation).**", "",
            "Median test gain of the bag per set, points: "
            + ", ".join(f"{s} {v:+.2f}" for s, v in sorted(per_set.items(), key=lambda kv: kv[1])) + ".", "",
            "So the family keeps the bag (tuners/families/boosting.py, BAG); the library's defaults, the baseline the "
            "report compares with, stay one model as XGBoost fits them.", ""]


def summary(rows: list[dict]) -> list[str]:
    cv = [100 * (r["refit"][0] - r["early-stopped"][0]) for r in rows]
    test = [100 * (r["refit"][1] - r["early-stopped"][1]) for r in rows]
    cost = [r["refit"][2] / r["early-stopped"][2] for r in rows]
    sets = sorted({r["set"] for r in rows})
    per_set = {s: statistics.median(100 * (r["refit"][0] - r["early-stopped"][0]) for r in rows if r["set"] == s)
               for s in sets}
    better = sum(1 for v in per_set.values() if v > 0)
    return [f"**Refit against early-stopped, over {len(rows)} configurations on {len(sets)} sets: cross-validated "
            f"score {statistics.median(cv):+.2f} points at the median ({min(cv):+.2f} to {max(cv):+.2f}), test score "
            f"{statistics.median(test):+.2f} at the median; the median configuration gains on {better} of {len(sets)} "
            f"sets; time x{statistics.median(cost):.2f} at the median.**", "",
            "Median cross-validated gain per set, points: "
            + ", ".join(f"{s} {v:+.2f}" for s, v in sorted(per_set.items(), key=lambda kv: kv[1])) + ".", "",
            "What the user gets is the test score: unless it gains beside the cross-validated one, the family keeps "
            "the early-stopped model (tuners/families/boosting.py).", ""]


def table(rows: list[dict]) -> list[str]:
    lines = ["| set | metric | configuration | CV, early-stopped | CV, refit | test, early-stopped | test, refit | "
             "test, bag | s, early-stopped | s, refit | s, bag |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        a, b, c = r["early-stopped"], r["refit"], r["bag"]
        lines.append(f"| {r['set']} | {r['metric']} | {r['config']} | {a[0]:.4f} | {b[0]:.4f} | {a[1]:.4f} | {b[1]:.4f} "
                     f"| {c[1]:.4f} | {a[2]:.1f} | {b[2]:.1f} | {c[2]:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(SETS))
    parser.add_argument("--sampled", type=int, default=SAMPLED, help="configurations drawn from the space per set")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "boosting_refit.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        for entry, path in write_corpus(Path(folder), args.datasets) + write_tables(Path(folder), args.datasets):
            rows += measure(entry, path, args.sampled)
    import xgboost

    write_results(args.results, [
        "# Boosting: the early-stopped model, the same trees grown again on every row, or a bag of the folds' models", "",
        machine_line(xgboost=xgboost.__version__) + f" Command: `python bench/boosting_refit.py --sampled {args.sampled}`",
        "",
        f"Early stopping holds out {boosting.INNER_VALIDATION:.0%} of the rows a model is given to choose its tree "
        f"count (patience {boosting.EARLY_STOPPING_ROUNDS} rounds). 'early-stopped' keeps that model; 'refit' grows "
        f"that count / {1 - boosting.INNER_VALIDATION:.2f} trees again on every given row. The same 5 folds, "
        "preprocessing and test split as the advisor's (seed 0).", "",
        *bag_summary(rows), *summary(rows), *table(rows), ""])


if __name__ == "__main__":
    main()
