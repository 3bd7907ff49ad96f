"""The blend check (tuners/blending.py), measured through the advisor's own Problem (its seeded
test split, folds and preprocessing) on the labelled tabular sets of bench/corpus.py and
bench/tables.py:

    python bench/blend.py [--seeds 0 1]

For each set-split and each family with partners (linear at its defaults, boosting at the seeds'
start, the configurations runs keep most), the check as a run makes it, with all of the family's
partners (FamilyDef.blend_with); then the chosen model alone and its blend with each partner at that
partner's best weight, fitted on all training rows (one model each), scored on the test rows. The
rule's margin is swept over the rows (the best partner's blend, as a run keeps it): the blend kept
where its validation gain is over MARGIN x the paired standard error; and at 1 s.e. the rule is
rerun with each partner alone, to show what each adds. Written to bench/results/blend.md and
blend.json."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.types import Family  # noqa: E402
from bench.common import write_results  # noqa: E402
from bench.labelled_splits import collected, header, labelled_splits, split_arguments  # noqa: E402
from tuners.blending import Blend, choose_blend  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.families.base import partner_config  # noqa: E402
from tuners.metrics import score  # noqa: E402
from tuners.records import TrialRecord  # noqa: E402

MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0)
CHOSEN = {Family.LINEAR: lambda problem: FAMILIES[Family.LINEAR].defaults(problem),
          Family.BOOSTING: lambda problem: FAMILIES[Family.BOOSTING].space(problem).start}


def measured(problem, family: Family) -> dict | None:
    """The check on `family`'s configuration with all its partners, and the test scores alone and
    blended with each partner fitted in time at its best weight."""
    definition = FAMILIES[family]
    config = CHOSEN[family](problem)
    trial = TrialRecord("t", "random", config, 0.0, "completed", None, None, 0.01, len(problem.splits))
    check = choose_blend(definition, config, trial, problem, [FAMILIES[f] for f in definition.blend_with], 1e9,
                         None).check
    if check["scores"] is None:
        return None
    alone = definition.build(config, problem).fit(problem.x_train, problem.y_train)
    partners = {}
    for found in (p for p in check["partners"] if p["scores"]):
        partner = FAMILIES[Family(found["family"])]
        other = partner.build(partner_config(partner, problem), problem).fit(problem.x_train, problem.y_train)
        weight = found["best_weight"]
        blend = Blend([alone, other], [1 - weight, weight], bool(problem.classes))
        partners[found["family"]] = {"weight": weight, "valid_partner": found["scores"]["partner"],
                                     "valid_blend": found["scores"]["blend"], "sem": found["sem"],
                                     "test_blend": score(problem.metric, blend, problem.x_test, problem.y_test)}
    best = partners[check["partner"]]
    return {"family": family.value, "partner": check["partner"], "weight": best["weight"],
            "valid_alone": check["scores"]["alone"], "valid_partner": best["valid_partner"],
            "valid_blend": best["valid_blend"], "sem": best["sem"],
            "test_alone": score(problem.metric, alone, problem.x_test, problem.y_test),
            "test_blend": best["test_blend"], "partners": partners}


def restricted(row: dict, names: tuple[str, ...]) -> dict | None:
    """The row as the check would have made it with only the partners `names` (the best of them)."""
    found = {n: p for n, p in row["partners"].items() if n in names}
    if not found:
        return None
    name = max(found, key=lambda n: found[n]["valid_blend"])
    return dict(row, partner=name, **{k: found[name][k] for k in ("weight", "valid_partner", "valid_blend", "sem",
                                                                  "test_blend")})


def measure(seeds: list[int], folder: Path, max_rows: int, names: list[str] | None) -> list[dict]:
    return collected(labelled_splits(seeds, folder, max_rows, names),
                     lambda problem: [row for row in (measured(problem, family) for family in CHOSEN) if row is not None])


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


def by_partners(rows: list[dict]) -> list[str]:
    """The rule at 1 s.e. with each family's partners one at a time and all together, on the rows
    where the chosen family validates at least as high as every partner."""
    lines = ["| chosen | partners | blends kept | mean gain | median gain | worst | best | higher | lower |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for family in CHOSEN:
        mine = [r for r in rows if r["family"] == family.value
                and all(r["valid_alone"] >= p["valid_partner"] for p in r["partners"].values())]
        partners = FAMILIES[family].blend_with
        for names in [(p.value,) for p in partners] + [tuple(p.value for p in partners)]:
            found = [r for r in (restricted(r, names) for r in mine) if r is not None]
            if not found:
                continue
            gained = gains(found, 1.0)
            lines.append(f"| {family.value} | {' and '.join(names)} | {sum(kept(r, 1.0) for r in found)} of {len(found)} | "
                         f"{statistics.mean(gained):+.2f} | {statistics.median(gained):+.2f} | {min(gained):+.2f} | "
                         f"{max(gained):+.2f} | {sum(g > 0 for g in gained)} | {sum(g < 0 for g in gained)} |")
    return lines


def table(rows: list[dict], command: str) -> list[str]:
    leading = [r for r in rows if r["valid_alone"] >= r["valid_partner"]]
    lines = header("The blend check: the chosen model alone or blended with one of its family's partners", command,
                   "The margin sweep: the blend kept where its validation gain over the chosen model alone is over "
                   "MARGIN paired standard errors (on the check's folds); the test points gained over the chosen model "
                   "alone. First where the chosen family validates at least as high as its partner (the family a run "
                   "keeps, the rules or the race having chosen well), then over every set-split and family (a family "
                   "the partner leads gains most: mcycle's linear model +84 points).", "",
                   f"**Where the chosen family leads its partner in validation ({len(leading)} set-split-families):**", "")
    lines += sweep(leading) + ["", f"**Every set-split and family ({len(rows)}):**", ""] + sweep(rows)
    lines += ["", "**Each partner alone and all of a family's partners (the best blend of them, as a run checks them), "
              "at 1 s.e., where the chosen family validates at least as high as every partner:**", ""] + by_partners(rows)
    lines += ["", "| set | seed | metric | chosen | partner | partner's weight | validation: alone / partner / blend (s.e.) | "
              "test: alone / blend | kept at 1 s.e. |", "| --- | ---: | --- | --- | --- | ---: | --- | --- | --- |"]
    lines += [f"| {r['set']} | {r['seed']} | {r['metric']} | {r['family']} | {r['partner']} | {r['weight']:.1f} | {r['valid_alone']:.4f} / "
              f"{r['valid_partner']:.4f} / {r['valid_blend']:.4f} ({r['sem']:.4f}) | {r['test_alone']:.4f} / "
              f"{r['test_blend']:.4f} | {'blend' if kept(r, 1.0) else 'alone'} |" for r in rows]
    return lines


def main() -> None:
    parser = split_arguments(__doc__)
    parser.add_argument("--tables-only", action="store_true", help="write blend.md again from blend.json")
    parser.add_argument("--datasets", nargs="+", help="only these sets (default: every labelled tabular set)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.tables_only:
        rows = json.loads((args.results / "blend.json").read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            rows = measure(args.seeds, Path(scratch), args.max_rows, args.datasets)
        (args.results / "blend.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    named = f" --datasets {' '.join(args.datasets)}" if args.datasets else ""
    command = f"`python bench/blend.py --seeds {' '.join(map(str, args.seeds))} --max-rows {args.max_rows}{named}`"
    write_results(args.results / "blend.md", table(rows, command))


if __name__ == "__main__":
    main()
