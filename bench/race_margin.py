"""How close the rules' top two families must be for the advisor to race them (tuners/race.py).

    python bench/race_margin.py [--regret bench/results/regret.json]

From the oracle benchmark's runs (bench/regret.py: every family tuned at the same budget on the
same test rows), each set's ranking is re-scored with the rules as they are now (the rules that
fired there, the points the catalog gives them today). For each candidate gap in points between
the first and the second family it counts the races it would start, and the sets where the
runner-up beat the pick by more than 1% (bench.regret.within) that those races would catch. The
margin kept is the smallest that catches every such set: below it the rules decide alone.
Writes bench/results/race_margin.md; advisor/thresholds.py's RACE_MAX_POINT_GAP cites it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.types import Family  # noqa: E402
from bench.common import ROOT, write_results  # noqa: E402
from bench.regret import within  # noqa: E402
from rules import RULES  # noqa: E402

GAPS = (0, 5, 10, 15, 20, 30, 40)


def top_two(fired: list[str]) -> tuple[tuple[str, float], tuple[str, float] | None]:
    """The first and second family, with their points, from the ids of the rules that fired."""
    by_id = {rule.id: rule for rule in RULES}
    points = {family: 0.0 for family in Family}
    excluded: set[Family] = set()
    for rule_id in fired:
        for effect in by_id[rule_id].effects if rule_id in by_id else ():
            if effect.exclude:
                excluded.add(effect.family)
            else:
                points[effect.family] += effect.points
    order = list(Family)
    ranked = sorted((f for f in Family if f not in excluded), key=lambda f: (-points[f], order.index(f)))
    first = (ranked[0].value, points[ranked[0]])
    return first, ((ranked[1].value, points[ranked[1]]) if len(ranked) > 1 else None)


def rows(records: list[dict]) -> list[dict]:
    found = []
    for record in records:
        scores = {r["family"]: r["test_score"] for r in record["runs"] if r.get("test_score") is not None}
        first, second = top_two(record["fired"])
        if second is None or first[0] not in scores or second[0] not in scores:
            continue
        lost = not within(scores[first[0]], max(scores[first[0]], scores[second[0]]))
        found.append({"dataset": record["dataset"], "first": first, "second": second, "gap": first[1] - second[1],
                      "first_score": scores[first[0]], "second_score": scores[second[0]], "runner_up_better": lost})
    return found


def choose(table: list[dict]) -> tuple[int, list[str]]:
    """The smallest gap that races every set where the runner-up was better, with the lines that say so."""
    lines = ["| races when the gap is at most | races | of the sets where the runner-up won by more than 1%, raced |",
             "| ---: | ---: | ---: |"]
    lost = [row for row in table if row["runner_up_better"]]
    chosen = None
    for gap in GAPS:
        raced = [row for row in table if row["gap"] <= gap]
        caught = [row for row in lost if row["gap"] <= gap]
        lines.append(f"| {gap} | {len(raced)} of {len(table)} | {len(caught)} of {len(lost)} |")
        if chosen is None and len(caught) == len(lost):
            chosen = gap
    return (GAPS[-1] if chosen is None else chosen), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regret", type=Path, default=ROOT / "bench" / "results" / "regret.json")
    args = parser.parse_args()
    payload = json.loads(args.regret.read_text(encoding="utf-8"))
    table = rows(payload["records"])
    margin, summary = choose(table)
    lines = ["# The family race's margin", "",
             f"From `{args.regret.relative_to(ROOT)}` (`bench/regret.py --budget {payload['budget']} --seed "
             f"{payload['seed']}`, {payload['date']}), re-scored with today's rules by `python bench/race_margin.py`. "
             "Rules added after those runs (time-conv1d) did not fire in them, so they are not in these rankings.",
             "", f"**Kept: race the top two families when their points differ by at most {margin}.**", "",
             *summary, "", "| dataset | first (points) | second (points) | gap | first's test | second's test | "
             "runner-up better by >1% |", "| --- | --- | --- | ---: | ---: | ---: | --- |"]
    for row in table:
        lines.append(f"| {row['dataset']} | {row['first'][0]} ({row['first'][1]:g}) | {row['second'][0]} "
                     f"({row['second'][1]:g}) | {row['gap']:g} | {row['first_score']:.4f} | {row['second_score']:.4f} | "
                     f"{'**yes**' if row['runner_up_better'] else 'no'} |")
    write_results(ROOT / "bench" / "results" / "race_margin.md", lines)


if __name__ == "__main__":
    main()
