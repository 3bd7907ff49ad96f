"""What a partner brings to the linear model's blend: boosting at the seeds' start of its space
(depth up to 6, step 0.1) against its partner configuration (FamilyDef.partner_start: depth 3,
step 0.05), each through the blend check as a run makes it (tuners/blending.py), on the labelled
tabular sets of bench/corpus.py and bench/tables.py:

    python bench/partner_start.py [--seeds 0 1]

For each set-split: the linear model at its defaults (the configuration runs keep most), the check
with one partner configuration and then the other, and the test scores of the linear model alone,
of each partner alone and of each blend at its best weight (one model each, fitted on all training
rows). The rule's margin is swept as in bench/blend.py. Written to bench/results/partner_start.md
and partner_start.json."""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.types import Family  # noqa: E402
from bench.blend import kept, sweep  # noqa: E402
from bench.labelled_splits import collected, header, labelled_splits, split_arguments  # noqa: E402
from bench.common import write_results  # noqa: E402
from tuners.blending import Blend, choose_blend  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.families.base import partner_config  # noqa: E402
from tuners.metrics import score  # noqa: E402
from tuners.records import TrialRecord  # noqa: E402

BOOSTING = FAMILIES[Family.BOOSTING]
VARIANTS = {"start": dataclasses.replace(BOOSTING, partner_start=None), "partner_start": BOOSTING}


def measured(problem) -> dict | None:
    """The linear model's blend check with each variant of its boosting partner, and the test scores."""
    linear = FAMILIES[Family.LINEAR]
    config = linear.defaults(problem)
    trial = TrialRecord("t", "random", config, 0.0, "completed", None, None, 0.01, len(problem.splits))
    alone = linear.build(config, problem).fit(problem.x_train, problem.y_train)
    row = {"test_alone": score(problem.metric, alone, problem.x_test, problem.y_test)}
    for name, partner in VARIANTS.items():
        check = choose_blend(linear, config, trial, problem, [partner], 1e9, None).check
        if check["scores"] is None:
            return None
        other = partner.build(partner_config(partner, problem), problem).fit(problem.x_train, problem.y_train)
        weight = check["best_weight"]
        blend = Blend([alone, other], [1 - weight, weight], bool(problem.classes))
        row[name] = {"weight": weight, "valid_alone": check["scores"]["alone"],
                     "valid_partner": check["scores"]["partner"], "valid_blend": check["scores"]["blend"],
                     "sem": check["sem"], "test_alone": row["test_alone"],
                     "test_partner": score(problem.metric, other, problem.x_test, problem.y_test),
                     "test_blend": score(problem.metric, blend, problem.x_test, problem.y_test)}
    return row


def measure(seeds: list[int], folder: Path, max_rows: int) -> list[dict]:
    return collected(labelled_splits(seeds, folder, max_rows), measured)


def table(rows: list[dict], command: str) -> list[str]:
    lines = header("Boosting as the linear model's blend partner: the start of its space or its partner configuration",
                   command, "Test points the blend check gains over the linear model alone (at its defaults), with "
                   "boosting's partner at the seeds' start (depth up to 6, step 0.1) or at its partner configuration "
                   "(depth 3, step 0.05), the blend kept where its validation gain is over MARGIN paired standard "
                   "errors.", "")
    for name in VARIANTS:
        leading = [r[name] for r in rows if r[name]["valid_alone"] >= r[name]["valid_partner"]]
        lines += [f"**{name}, where the linear model leads its partner in validation ({len(leading)} set-splits):**", ""]
        lines += sweep(leading) + ["", f"**{name}, every set-split ({len(rows)}):**", ""] + sweep([r[name] for r in rows]) + [""]
    lines += ["| set | seed | metric | linear alone | partner: start / partner_start | blend, start (kept at 1 s.e.) | "
              "blend, partner_start (kept at 1 s.e.) |", "| --- | ---: | --- | ---: | --- | --- | --- |"]
    for r in rows:
        s, p = r["start"], r["partner_start"]
        lines.append(f"| {r['set']} | {r['seed']} | {r['metric']} | {r['test_alone']:.4f} | {s['test_partner']:.4f} / "
                     f"{p['test_partner']:.4f} | {s['test_blend']:.4f} ({'blend' if kept(s, 1.0) else 'alone'}) | "
                     f"{p['test_blend']:.4f} ({'blend' if kept(p, 1.0) else 'alone'}) |")
    return lines


def main() -> None:
    parser = split_arguments(__doc__)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        rows = measure(args.seeds, Path(scratch), args.max_rows)
    (args.results / "partner_start.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    command = f"`python bench/partner_start.py --seeds {' '.join(map(str, args.seeds))} --max-rows {args.max_rows}`"
    write_results(args.results / "partner_start.md", table(rows, command))


if __name__ == "__main__":
    main()
