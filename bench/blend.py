"""The blend check (tuners/blending.py), measured through the advisor's own Problem (its seeded
test split, folds and preprocessing) on the labelled tabular sets of bench/corpus.py and
bench/tables.py:

    python bench/blend.py [--seeds 0 1]

For each set-split and each family with a partner (linear at its defaults, boosting at the seeds'
start, the configurations runs keep most), the check as a run makes it; then the chosen model alone
and the best blend the check found, both fitted on all training rows as the run refits them (one
model each; the partner's start one model), scored on the test rows. The rule's margin is swept over
the rows: the blend kept where its validation gain is over MARGIN x the paired standard error.
Written to bench/results/blend.md and blend.json."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.types import Family  # noqa: E402
from bench.common import machine_line, write_results  # noqa: E402
from bench.feature_bases import tabular_sets  # noqa: E402
from tuners.blending import METRICS, Blend, choose_blend  # noqa: E402
from tuners.data import prepare  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.metrics import score  # noqa: E402
from tuners.records import TrialRecord  # noqa: E402

MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0)
CHOSEN = {Family.LINEAR: lambda problem: FAMILIES[Family.LINEAR].defaults(problem),
          Family.BOOSTING: lambda problem: FAMILIES[Family.BOOSTING].space(problem).start}


def measured(problem, family: Family) -> dict | None:
    """The check on `family`'s configuration, and the test scores alone and blended at its best weight."""
    definition = FAMILIES[family]
    partner = FAMILIES[definition.blend_with]
    config = CHOSEN[family](problem)
    trial = TrialRecord("t", "random", config, 0.0, "completed", None, None, 0.01, len(problem.splits))
    check = choose_blend(definition, config, trial, problem, partner, 1e9, None).check
    if check["scores"] is None:
        return None
    alone = definition.build(config, problem).fit(problem.x_train, problem.y_train)
    other = partner.build(partner.space(problem).start, problem).fit(problem.x_train, problem.y_train)
    weight = check["best_weight"]
    blend = Blend([alone, other], [1 - weight, weight], bool(problem.classes))
    return {"family": family.value, "weight": weight, "valid_alone": check["scores"]["alone"],
            "valid_partner": check["scores"]["partner"], "valid_blend": check["scores"]["blend"], "sem": check["sem"],
            "test_alone": score(problem.metric, alone, problem.x_test, problem.y_test),
            "test_blend": score(problem.metric, blend, problem.x_test, problem.y_test)}


def measure(seeds: list[int], folder: Path) -> list[dict]:
    rows = []
    for name, dataset, found in tabular_sets(folder):
        for seed in seeds:
            problem = prepare(dataset.frame, found, seed=seed)
            if problem.metric not in METRICS:
                continue
            for family in CHOSEN:
                row = measured(problem, family)
                if row is not None:
                    rows.append({"set": name, "seed": seed, "metric": problem.metric, **row})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def kept(row: dict, margin: float) -> bool:
    return row["valid_blend"] - row["valid_alone"] > margin * row["sem"]


def gains(rows: list[dict], margin: float) -> list[float]:
    """Test points the rule at `margin` gains over the chosen model alone, row by row."""
    return [100 * (r["test_blend"] - r["test_alone"]) if kept(r, margin) else 0.0 for r in rows]


def sweep(rows: list[dict]) -> list[str]:
    lines = ["| margin (s.e.) | blends kept | mean gain | median gain | worst | best | higher | lower |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for margin in MARGINS:
        found = gains(rows, margin)
        lines.append(f"| {margin:g} | {sum(kept(r, margin) for r in rows)} of {len(rows)} | {statistics.mean(found):+.2f} | "
                     f"{statistics.median(found):+.2f} | {min(found):+.2f} | {max(found):+.2f} | "
                     f"{sum(g > 0 for g in found)} | {sum(g < 0 for g in found)} |")
    return lines


def table(rows: list[dict], command: str) -> list[str]:
    import sklearn

    leading = [r for r in rows if r["valid_alone"] >= r["valid_partner"]]
    lines = ["# The blend check: the chosen model alone or blended with its family's partner", "",
             machine_line(**{"scikit-learn": sklearn.__version__}), f"Command: {command}", "",
             "The margin sweep: the blend kept where its validation gain over the chosen model alone is over "
             "MARGIN paired standard errors (on the check's folds); the test points gained over the chosen model "
             "alone. First where the chosen family validates at least as high as its partner (the family a run "
             "keeps, the rules or the race having chosen well), then over every set-split and family (a family "
             "the partner leads gains most: mcycle's linear model +84 points).", "",
             f"**Where the chosen family leads its partner in validation ({len(leading)} set-split-families):**", ""]
    lines += sweep(leading) + ["", f"**Every set-split and family ({len(rows)}):**", ""] + sweep(rows)
    lines += ["", "| set | seed | metric | chosen | partner's weight | validation: alone / partner / blend (s.e.) | "
              "test: alone / blend | kept at 1 s.e. |", "| --- | ---: | --- | --- | ---: | --- | --- | --- |"]
    lines += [f"| {r['set']} | {r['seed']} | {r['metric']} | {r['family']} | {r['weight']:.1f} | {r['valid_alone']:.4f} / "
              f"{r['valid_partner']:.4f} / {r['valid_blend']:.4f} ({r['sem']:.4f}) | {r['test_alone']:.4f} / "
              f"{r['test_blend']:.4f} | {'blend' if kept(r, 1.0) else 'alone'} |" for r in rows]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--tables-only", action="store_true", help="write blend.md again from blend.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.tables_only:
        rows = json.loads((args.results / "blend.json").read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            rows = measure(args.seeds, Path(scratch))
        (args.results / "blend.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    write_results(args.results / "blend.md", table(rows, f"`python bench/blend.py --seeds {' '.join(map(str, args.seeds))}`"))


if __name__ == "__main__":
    main()
