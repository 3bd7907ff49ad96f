"""Two ways numbers and categories enter the models, measured through the advisor's own Problem (its
seeded test split, folds and preprocessing) on the tabular sets of bench/corpus.py and bench/tables.py:

    python bench/feature_bases.py [--seeds 0 1]

- Splines (tuners.families.linear.splines): the linear family's configuration picked by
  cross-validation from strengths 0.01, 1 and 10 with numbers as they are, against the pick from the
  same strengths with 0, 4 or 6 knots; each pick's test score. Written to linear_splines.md.
- Target means (advisor.features.target_mean), on the sets with a categorical column of more than
  MAX_ONE_HOT_CATEGORIES levels: the linear and boosting families' defaults with the column one-hot
  encoded alone, and also as its cross-fitted target mean; validation and test scores. Written to
  target_mean.md."""

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
from tuners.families.linear import splines  # noqa: E402
from tuners.metrics import score  # noqa: E402

STRENGTHS = (0.01, 1.0, 10.0)
KNOTS = (0, 4, 6)


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


def spline_row(problem) -> dict:
    linear = FAMILIES[Family.LINEAR]
    grid = {(strength, knots): scores(Family.LINEAR, {**linear.defaults(problem), "strength": strength,
                                                      "splines": knots}, problem)
            for strength in STRENGTHS for knots in KNOTS}
    plain = max((key for key in grid if key[1] == 0), key=lambda key: grid[key][0])
    chosen = max(grid, key=lambda key: grid[key][0])
    return {"plain": grid[plain][1], "with_splines": grid[chosen][1], "knots": chosen[1],
            "validation_gain": grid[chosen][0] - grid[plain][0]}


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


def measure(seeds: list[int], folder: Path) -> tuple[list[dict], list[dict]]:
    spline_rows, mean_rows = [], []
    for name, dataset, found in tabular_sets(folder):
        for seed in seeds:
            problem = prepare(dataset.frame, found, seed=seed)
            if splines(problem):
                spline_rows.append({"set": name, "seed": seed, "metric": problem.metric, **spline_row(problem)})
                print(name, seed, spline_rows[-1], flush=True)
            if problem.spec.target_mean:
                for row in target_mean_rows(problem):
                    mean_rows.append({"set": name, "seed": seed, "columns": ", ".join(problem.spec.target_mean), **row})
                    print(name, seed, mean_rows[-1], flush=True)
    return spline_rows, mean_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        spline_rows, mean_rows = measure(args.seeds, Path(scratch))
    command = f"`python bench/feature_bases.py --seeds {' '.join(map(str, args.seeds))}`"
    write_results(args.results / "linear_splines.md", spline_table(spline_rows, command))
    write_results(args.results / "target_mean.md", mean_table(mean_rows, command))


def _header(title: str, command: str) -> list[str]:
    import sklearn

    return [f"# {title}", "", machine_line(**{"scikit-learn": sklearn.__version__}), f"Command: {command}", ""]


def _summary(gains: list[float], what: str) -> str:
    return (f"**{what}, in test points (metric x 100), over {len(gains)} set-splits: median {statistics.median(gains):+.2f}, "
            f"mean {statistics.mean(gains):+.2f}, worst {min(gains):+.2f}, best {max(gains):+.2f}; higher on "
            f"{sum(g > 0 for g in gains)}, lower on {sum(g < 0 for g in gains)}.**")


def spline_table(rows: list[dict], command: str) -> list[str]:
    gains = [100 * (r["with_splines"] - r["plain"]) for r in rows]
    lines = _header("The linear family with and without a spline basis for its numbers", command) + [
        _summary(gains, "Cross-validation's pick with splines offered against its pick without"), "",
        f"Each pick is the best mean validation score over strengths {STRENGTHS} (x knots {KNOTS} where offered).", "",
        "| set | seed | metric | test, numbers as they are | test, splines offered | knots picked | "
        "validation gain | points |", "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['set']} | {r['seed']} | {r['metric']} | {r['plain']:.4f} | {r['with_splines']:.4f} | {r['knots']} | "
              f"{r['validation_gain']:+.4f} | {100 * (r['with_splines'] - r['plain']):+.2f} |" for r in rows]
    return lines


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
