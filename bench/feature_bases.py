"""Categories with many levels as their target's mean (advisor.features.target_mean), measured
through the advisor's own Problem (its seeded test split, folds and preprocessing) on the tabular
sets of bench/corpus.py and bench/tables.py that have a categorical column of more than
MAX_ONE_HOT_CATEGORIES levels:

    python bench/feature_bases.py [--seeds 0 1]

The linear and boosting families' defaults with the column one-hot encoded alone, and also as its
cross-fitted target mean; validation and test scores. Written to target_mean.md. (Until 2026-12-07
it also measured a spline basis for the linear family, bench/results/linear_splines.md: commit
bd21a64 has that part.)"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.loading import load  # noqa: E402
from advisor.profiling import drop_missing_targets, profile  # noqa: E402
from advisor.types import Family  # noqa: E402
from bench.common import machine_line, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.tables import write_tables  # noqa: E402
from tuners.data import prepare  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.metrics import score  # noqa: E402

def scores(family: Family, config: dict, problem) -> tuple[float, float]:
    """(mean validation score over the problem's folds, test score of the model fitted on all training rows)."""
    definition = FAMILIES[family]
    y = np.asarray(problem.y_train)
    folds = []
    for fit, held in problem.splits:
        model = definition.build(config, problem).fit(problem.x_train.iloc[fit], y[fit])
        folds.append(score(problem.metric, model, problem.x_train.iloc[held], y[held]))
    model = definition.build(config, problem).fit(problem.x_train, y)
    return float(np.mean(folds)), score(problem.metric, model, problem.x_test, problem.y_test)


def target_mean_rows(problem) -> list[dict]:
    one_hot_only = dataclasses.replace(problem, spec=dataclasses.replace(problem.spec, target_mean=()))
    rows = []
    for family in (Family.LINEAR, Family.BOOSTING):
        config = FAMILIES[family].defaults(problem)
        (valid_with, test_with), (valid_without, test_without) = (scores(family, config, problem),
                                                                  scores(family, config, one_hot_only))
        rows.append({"family": family.value, "valid_without": valid_without, "valid_with": valid_with,
                     "test_without": test_without, "test_with": test_with})
    return rows


def tabular_sets(folder: Path):
    """(name, loaded dataset, profile) of each tabular set with a target in the corpus and the tables."""
    for entry, path in write_corpus(folder) + write_tables(folder):
        if entry.modality != "tabular" or entry.kind == "unlabelled":
            continue
        dataset, _ = drop_missing_targets(load(path, entry.target))
        yield entry.name, dataset, profile(dataset)


def measure(seeds: list[int], folder: Path) -> list[dict]:
    mean_rows = []
    for name, dataset, found in tabular_sets(folder):
        for seed in seeds:
            problem = prepare(dataset.frame, found, seed=seed)
            if problem.spec.target_mean:
                for row in target_mean_rows(problem):
                    mean_rows.append({"set": name, "seed": seed, "columns": ", ".join(problem.spec.target_mean), **row})
                    print(name, seed, mean_rows[-1], flush=True)
    return mean_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        mean_rows = measure(args.seeds, Path(scratch))
    command = f"`python bench/feature_bases.py --seeds {' '.join(map(str, args.seeds))}`"
    write_results(args.results / "target_mean.md", mean_table(mean_rows, command))


def _header(title: str, command: str) -> list[str]:
    import sklearn

    return [f"# {title}", "", machine_line(**{"scikit-learn": sklearn.__version__}), f"Command: {command}", ""]


def _summary(gains: list[float], what: str) -> str:
    return (f"**{what}, in test points (metric x 100), over {len(gains)} set-splits: median {statistics.median(gains):+.2f}, "
            f"mean {statistics.mean(gains):+.2f}, worst {min(gains):+.2f}, best {max(gains):+.2f}; higher on "
            f"{sum(g > 0 for g in gains)}, lower on {sum(g < 0 for g in gains)}.**")


def mean_table(rows: list[dict], command: str) -> list[str]:
    lines = _header("Categories beyond one-hot's 20 levels: also as their cross-fitted target mean", command)
    for family in dict.fromkeys(r["family"] for r in rows):
        gains = [100 * (r["test_with"] - r["test_without"]) for r in rows if r["family"] == family]
        lines += [_summary(gains, f"{family}'s defaults with target means against one-hot alone"), ""]
    lines += ["| set | seed | columns | family | validation, one-hot | validation, + target mean | test, one-hot | "
              "test, + target mean |", "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['set']} | {r['seed']} | {r['columns']} | {r['family']} | {r['valid_without']:.4f} | "
              f"{r['valid_with']:.4f} | {r['test_without']:.4f} | {r['test_with']:.4f} |" for r in rows]
    return lines


if __name__ == "__main__":
    main()
