"""Whether a blend of all three tabular families beats the blend check's pair: AutoGluon's weighted
ensemble (Caruana et al. 2004) mixes many models, the advisor's check (tuners/blending.py) one
chosen model and one partner of its FamilyDef.blend_with.

    python bench/ensemble_size.py [--seeds 0 1] [--max-rows 10000] [--skip ames]

On each labelled tabular set of bench/corpus.py and bench/tables.py and each seeded split (the
advisor's own Problem: its test rows, folds and preprocessing): the linear family at its defaults,
boosting and the forest at their partner configurations, each scored on 5 fresh folds (the check's:
the next seed) and refitted on all training rows. The chosen model is the family the folds score
highest alone (a stand-in for the run's pick). Every weighting of the three on a 0.1 grid is scored
over the folds, and three rules are compared on the test rows, each keeping its blend only where it
beats the chosen model alone by more than one paired standard error:
- pair (the check as runs make it): the chosen model and one of its blend_with partners, at 0.1-0.9;
- any pair: the chosen model and either other family;
- all three: any weighting with the chosen model in it.
Written to bench/results/ensemble_size.md and ensemble_size.json."""

from __future__ import annotations

import dataclasses
import itertools
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.stats import paired_se  # noqa: E402
from advisor.types import Family  # noqa: E402
from bench.labelled_splits import collected, header, labelled_splits, split_arguments  # noqa: E402
from bench.common import write_results  # noqa: E402
from tuners.blending import fold_scores, held_out, output_of, score_output  # noqa: E402
from tuners.data import validation_splits  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.families.base import partner_config  # noqa: E402

FAMILY_ORDER = (Family.LINEAR, Family.BOOSTING, Family.FOREST)
GRID = tuple(w for w in itertools.product(range(11), repeat=3) if sum(w) == 10)  # tenths of each family


def configuration(family: Family, problem) -> dict:
    definition = FAMILIES[family]
    return definition.defaults(problem) if family is Family.LINEAR else partner_config(definition, problem)


def weightings(problem) -> dict | None:
    """Each weighting's fold scores (fresh folds) and test score; None where a family's folds failed."""
    fresh = validation_splits(len(problem.y_train), problem.y_train, problem.task, problem.seed + 1, len(problem.splits))
    checked = dataclasses.replace(problem, splits=fresh)
    folds, tests = [], []
    for family in FAMILY_ORDER:
        definition, config = FAMILIES[family], configuration(family, problem)
        folds.append(held_out(definition, config, checked, None))
        model = definition.build(config, problem).fit(problem.x_train, problem.y_train)
        tests.append(output_of(model, problem.x_test, bool(problem.classes)))
    if any(found is None for found in folds):
        return None
    grid = {}
    for weights in GRID:
        blended = sum(w / 10 * f for w, f in zip(weights, folds))
        tested = sum(w / 10 * t for w, t in zip(weights, tests))
        grid[weights] = (fold_scores(problem.metric, problem.y_train, blended, fresh),
                         score_output(problem.metric, problem.y_test, tested))
    return grid


def alone(index: int) -> tuple[int, ...]:
    return tuple(10 if k == index else 0 for k in range(len(FAMILY_ORDER)))


def ruled(grid: dict, chosen: int, allowed) -> tuple[tuple[int, ...], float]:
    """The weighting a rule keeps (its best over the folds, where over one paired standard error
    above the chosen model alone) and its test score."""
    candidates = [w for w in GRID if w[chosen] and w[chosen] < 10 and allowed({k for k in range(3) if w[k]} - {chosen})]
    best = max(candidates, key=lambda w: (grid[w][0].mean(), w[chosen]))
    base = grid[alone(chosen)][0]
    kept = best if grid[best][0].mean() - base.mean() > paired_se(grid[best][0], base) else alone(chosen)
    return kept, grid[kept][1]


def rules(chosen: int) -> dict:
    partners = {FAMILY_ORDER.index(f) for f in FAMILIES[FAMILY_ORDER[chosen]].blend_with if f in FAMILY_ORDER}
    return {"pair": lambda others: len(others) == 1 and others <= partners,
            "any pair": lambda others: len(others) == 1,
            "all three": lambda others: True}


def measured(problem) -> dict | None:
    grid = weightings(problem)
    if grid is None:
        return None
    chosen = max(range(3), key=lambda k: grid[alone(k)][0].mean())
    row = {"chosen": FAMILY_ORDER[chosen].value, "test_alone": grid[alone(chosen)][1],
           "families": {f.value: grid[alone(k)][1] for k, f in enumerate(FAMILY_ORDER)}}
    for name, allowed in rules(chosen).items():
        weights, tested = ruled(grid, chosen, allowed)
        row[name] = {"weights": list(weights), "test": tested}
    return row


def measure(seeds: list[int], folder: Path, max_rows: int, skip: list[str]) -> list[dict]:
    return collected(labelled_splits(seeds, folder, max_rows, skip=skip), timed(measured))


def timed(measure_one):
    def measure_timed(problem) -> dict | None:
        started = time.monotonic()
        row = measure_one(problem)
        return None if row is None else {**row, "seconds": round(time.monotonic() - started, 1)}
    return measure_timed


def table(rows: list[dict], command: str) -> list[str]:
    lines = header("A blend of all three tabular families against the blend check's pair", command,
                   "Test points each rule gains over the chosen model alone (the family scoring highest alone on 5 "
                   "fresh folds: linear at its defaults, boosting and the forest at their partner configurations), a "
                   "blend kept where it beats the chosen model by more than one paired standard error over the folds.",
                   "", "| rule | blends kept | mean gain | median gain | worst | best | higher | lower |",
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("pair", "any pair", "all three"):
        gains = [100 * (r[name]["test"] - r["test_alone"]) for r in rows]
        blends = sum(max(r[name]["weights"]) < 10 for r in rows)
        lines.append(f"| {name} | {blends} of {len(rows)} | {statistics.mean(gains):+.2f} | {statistics.median(gains):+.2f} "
                     f"| {min(gains):+.2f} | {max(gains):+.2f} | {sum(g > 0 for g in gains)} | {sum(g < 0 for g in gains)} |")
    lines += ["", "Weights in tenths of linear, boosting, forest.", "",
              "| set | seed | metric | chosen | alone | pair | any pair | all three |", "| --- | ---: | --- | --- | ---: | --- | --- | --- |"]
    for r in rows:
        cells = " | ".join(f"{r[n]['test']:.4f} ({'/'.join(map(str, r[n]['weights']))})" for n in ("pair", "any pair", "all three"))
        lines.append(f"| {r['set']} | {r['seed']} | {r['metric']} | {r['chosen']} | {r['test_alone']:.4f} | {cells} |")
    return lines


def main() -> None:
    parser = split_arguments(__doc__)
    parser.add_argument("--skip", nargs="*", default=["ames"], help="sets left out (default ames: an unbounded forest "
                                                                    "on its ~300 columns takes minutes a split)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        rows = measure(args.seeds, Path(scratch), args.max_rows, args.skip)
    (args.results / "ensemble_size.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    command = (f"`python bench/ensemble_size.py --seeds {' '.join(map(str, args.seeds))} --max-rows {args.max_rows} "
               f"--skip {' '.join(args.skip)}`")
    write_results(args.results / "ensemble_size.md", table(rows, command))


if __name__ == "__main__":
    main()
