"""CatBoost's defaults as a further blend partner: the blend check (tuners/blending.py) with the picked
family's other partners alone, and with CatBoost (its partner configuration: 300 trees, its learning
rate set from them) after them, on the labelled tabular sets of bench/corpus.py and bench/tables.py:

    python bench/catboost_partner.py [--seeds 0 1] [--max-rows 10000]

For each set-split, the family is the one the advisor kept in bench/results/peers_30s.json (seed 0)
or peers_30s_seed<S>.json (a stand-in for a run's pick; linear or boosting, others left out), at
the configuration a run keeps most (the linear family's defaults, boosting's start). The check runs
as in a run, without its deadline; each kept blend is refitted on all training rows and scored on
the test rows. Written to bench/results/catboost_partner.md and catboost_partner.json."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.types import Family  # noqa: E402
from bench.common import write_results  # noqa: E402
from bench.labelled_splits import header, labelled_splits, split_arguments  # noqa: E402
from tuners.blending import Blend, choose_blend  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.metrics import score  # noqa: E402
from tuners.records import TrialRecord  # noqa: E402

CHOSEN = (Family.LINEAR, Family.BOOSTING)


def picked(results: Path, seeds: list[int]) -> dict[tuple[str, int], str]:
    """(set, seed) -> the family the advisor kept in the recorded peers runs."""
    found = {}
    for seed in seeds:
        path = results / ("peers_30s.json" if seed == 0 else f"peers_30s_seed{seed}.json")
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"] if path.exists() else []:
            found[(row["dataset"], seed)] = (row.get("learner") or {}).get("advisor")
    return found


def checked(definition, config: dict, problem, partners, alone) -> dict:
    """The check with `partners`: what it keeps, its seconds, and the kept model's test score."""
    trial = TrialRecord("t", "random", config, 0.0, "completed", None, None, 0.01, len(problem.splits))
    started = time.perf_counter()
    choice = choose_blend(definition, config, trial, problem, partners, 1e9, None)
    seconds = round(time.perf_counter() - started, 1)
    if choice.partner is None:
        return {"kept": "alone", "test": score(problem.metric, alone, problem.x_test, problem.y_test), "s": seconds}
    other = FAMILIES[choice.partner].build(choice.config, problem).fit(problem.x_train, problem.y_train)
    blend = Blend([alone, other], [1 - choice.weight, choice.weight], bool(problem.classes))
    return {"kept": f"{choice.partner.value} at {choice.weight:.0%}", "s": seconds,
            "test": score(problem.metric, blend, problem.x_test, problem.y_test)}


def measured(family: Family, problem) -> dict:
    definition = FAMILIES[family]
    config = definition.defaults(problem) if family is Family.LINEAR else definition.space(problem).start
    alone = definition.build(config, problem).fit(problem.x_train, problem.y_train)
    without = [FAMILIES[p] for p in definition.blend_with if p is not Family.CATBOOST]
    return {"family": family.value, "without": checked(definition, config, problem, without, alone),
            "with": checked(definition, config, problem, without + [FAMILIES[Family.CATBOOST]], alone)}


def measure(seeds: list[int], folder: Path, max_rows: int, results: Path) -> list[dict]:
    families, rows = picked(results, seeds), []
    for name, seed, problem in labelled_splits(seeds, folder, max_rows):
        family = families.get((name, seed))
        if family not in {f.value for f in CHOSEN}:
            continue
        rows.append({"set": name, "seed": seed, "metric": problem.metric, **measured(Family(family), problem)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict], command: str) -> list[str]:
    gains = [100 * (r["with"]["test"] - r["without"]["test"]) for r in rows]
    lines = header("CatBoost's defaults as a further blend partner", command,
                   "Test points the picked family's kept model (alone or blended, as the check decides) gains when "
                   "CatBoost joins its partners, and the check's seconds without a deadline.", "")
    lines += [f"**{len(rows)} set-splits: mean {statistics.mean(gains):+.2f} test points, median "
              f"{statistics.median(gains):+.2f}; {sum(g > 0 for g in gains)} higher, {sum(g < 0 for g in gains)} lower, "
              f"best {max(gains):+.2f}, worst {min(gains):+.2f}. Check's median seconds: "
              f"{statistics.median(r['without']['s'] for r in rows):.1f} without CatBoost, "
              f"{statistics.median(r['with']['s'] for r in rows):.1f} with.**", "",
              "| set | seed | metric | family | kept without CatBoost (test) | kept with it (test) | gain, points | "
              "check s: without / with |", "| --- | ---: | --- | --- | --- | --- | ---: | --- |"]
    for r, gain in zip(rows, gains):
        w, c = r["without"], r["with"]
        lines.append(f"| {r['set']} | {r['seed']} | {r['metric']} | {r['family']} | {w['kept']} ({w['test']:.4f}) | "
                     f"{c['kept']} ({c['test']:.4f}) | {gain:+.2f} | {w['s']} / {c['s']} |")
    return lines


def main() -> None:
    args = split_arguments(__doc__).parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        rows = measure(args.seeds, Path(scratch), args.max_rows, args.results)
    (args.results / "catboost_partner.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    command = f"`python bench/catboost_partner.py --seeds {' '.join(map(str, args.seeds))} --max-rows {args.max_rows}`"
    write_results(args.results / "catboost_partner.md", table(rows, command))


if __name__ == "__main__":
    main()
