"""The advisor beside AutoGluon and FLAML over several seeded splits (issue 18): bench/peers.py's rows
of seed 0 (RESULTS/peers_BUDGET.json) and of other seeds (peers_BUDGET_seedS.json), set by set.

    python bench/peers.py --budget 30s --seed 1        # each seed: its own 20% test split, all three tools
    python bench/peers.py --budget 30s --seed 2
    python bench/peers_seeds.py --budget 30s --seeds 0 1 2

One split's test rows are few on the small sets (iris: 30, a row is 3.3 points of accuracy), so a
gap on one split is mostly which rows fell in it. Per set this lists each split's gap to the better
peer, and the gap of the mean scores over the splits (each tool's test score averaged over the
seeds, then the advisor's mean minus the better peer's mean, in points). The goals are bench/peers.py's,
read on each split and on the means. Writes RESULTS/peers_BUDGET_seeds.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, write_results  # noqa: E402

TOOLS = ("advisor", "autogluon", "flaml")
PEERS = ("autogluon", "flaml")


def load_seed(results: Path, budget: str, seed: int) -> dict[str, dict]:
    path = results / (f"peers_{budget}" + (f"_seed{seed}" if seed else "") + ".json")
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python bench/peers.py --budget {budget} --seed {seed}` first.")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("seed", 0) != seed or raw.get("budget") != budget:
        raise SystemExit(f"{path} holds seed {raw.get('seed')} at {raw.get('budget')}, not seed {seed} at {budget}.")
    return {r["dataset"]: r for r in raw["rows"]}


def _mean(values: list[float | None]) -> float | None:
    """The mean over the seeds, or None when a seed has no score (a tool that failed on that split)."""
    return None if any(v is None for v in values) else statistics.fmean(values)


def _gap(scores: dict[str, float | None]) -> float | None:
    peers = [scores[t] for t in PEERS if scores[t] is not None]
    if scores["advisor"] is None or not peers:
        return None
    return round(100 * (scores["advisor"] - max(peers)), 9)


def pooled(seeds: list[dict[str, dict]]) -> list[dict]:
    """One row per set scored on every seed: each seed's gap, each tool's mean score and the gap of the means."""
    rows = []
    for name in [n for n in seeds[0] if all(n in s for s in seeds)]:
        runs = [s[name] for s in seeds]
        means = {t: _mean([r["scores"][t] for r in runs]) for t in TOOLS}
        rows.append({"dataset": name, "metric": runs[0]["metric"], "test_rows": runs[0].get("test_rows"),
                     "gaps": [r["gap_points"] for r in runs], "means": means, "gap": _gap(means),
                     "walls": [r["wall_s"] for r in runs]})
    return rows


def _goals(gaps: list[float]) -> str:
    within = sum(g >= -0.5 for g in gaps)
    return (f"within 0.5 point on {within} of {len(gaps)} ({100 * within / len(gaps):.0f}%; goal 85%), "
            f"worst {min(gaps):+.2f}, never more than 1 below: {'yes' if min(gaps) >= -1 else 'no'}")


def summary(rows: list[dict], seeds: list[int]) -> list[str]:
    lines = []
    for k, seed in enumerate(seeds):
        gaps = [r["gaps"][k] for r in rows if r["gaps"][k] is not None]
        ratio = statistics.median(r["walls"][k]["advisor"] for r in rows) / statistics.median(
            r["walls"][k]["autogluon"] for r in rows)
        lines.append(f"- Split of seed {seed}: {_goals(gaps)}; median wall time advisor / AutoGluon {ratio:.2f}.")
    pooled_gaps = [r["gap"] for r in rows if r["gap"] is not None]
    worst = min((r for r in rows if r["gap"] is not None), key=lambda r: r["gap"])
    lines.append(f"- **The mean scores over the {len(seeds)} splits: {_goals(pooled_gaps)} ({worst['dataset']}).**")
    return lines


def table(rows: list[dict], seeds: list[int]) -> list[str]:
    def num(value, digits=4):
        return "n/a" if value is None else f"{value:.{digits}f}"

    def gap(value):
        return "n/a" if value is None else f"{value:+.2f}"

    head = ["| set | metric | test rows | " + " | ".join(f"gap, seed {s}" for s in seeds) +
            " | advisor mean | AutoGluon mean | FLAML mean | gap of the means |",
            "|" + " --- |" * 3 + " ---: |" * (len(seeds) + 4)]
    return head + [f"| {r['dataset']} | {r['metric']} | {r['test_rows'] or ''} | " +
                   " | ".join(gap(g) for g in r["gaps"]) + " | " +
                   " | ".join(num(r["means"][t]) for t in TOOLS) + f" | {gap(r['gap'])} |" for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    rows = pooled([load_seed(args.results, args.budget, s) for s in args.seeds])
    write_results(args.results / f"peers_{args.budget}_seeds.md", [
        f"# The advisor beside AutoGluon and FLAML over {len(args.seeds)} seeded splits ({args.budget})", "",
        f"`python bench/peers_seeds.py --budget {args.budget} --seeds {' '.join(map(str, args.seeds))}`, from "
        f"`python bench/peers.py --budget {args.budget} --seed S` for each seed (seed 0's is peers_{args.budget}.md). "
        "Each seed draws the advisor's own 20% test split, which all three tools are scored on; a gap is the "
        "advisor's test score minus the better peer's, in points (metric x 100). The gap of the means averages each "
        "tool's test score over the splits first.", "",
        *summary(rows, args.seeds), "", *table(rows, args.seeds)])


if __name__ == "__main__":
    main()
