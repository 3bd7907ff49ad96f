"""Advice regret: the advisor's pick against an oracle that tunes every applicable family.

    python bench/regret.py [--budget 30s] [--datasets iris wine ...] [--results bench/results]

For each corpus set (bench/corpus.py), the rules decide as `advisor recommend` would; then every
family the rules did not exclude is tuned with the same budget and seed (`--family F`), each in
the same Ray session. The pick's run is one of those runs, so the advisor's advice is scored on
exactly the oracle's terms: its rank among the families by test score, and its regret (the best
family's test score minus the pick's). Compute: the advisor spends profile + rules + one tuning
run; the oracle profiles once and tunes every family.

Writes RESULTS/regret.json (every run, for bench/calibrate.py and bench/flaml_compare.py) and
RESULTS/regret.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.jobs import parse_duration  # noqa: E402
from advisor.errors import InputError  # noqa: E402
from advisor.pipeline import RecommendOptions, recommend  # noqa: E402
from advisor.types import Family  # noqa: E402
from tuners.tasks import TEST_FRACTION  # noqa: E402
from tuners.finish import TuningFailed  # noqa: E402
from bench.common import ROOT, machine_line, write_results  # noqa: E402
from bench.corpus import ENTRIES, write_corpus  # noqa: E402

# The pick is "within 1%" of the oracle when its regret is at most this share of the best score.
WITHIN = 0.01


def decide_only(path: Path, seed: int, out: Path) -> dict:
    return recommend(RecommendOptions(data=path, tune=False, seed=seed, out=out))


def tune_family(path: Path, family: str, budget_s: float, seed: int, out: Path) -> dict:
    """One `advisor recommend PATH --family F` run, in this process; what the tables need from it."""
    started = time.perf_counter()
    try:
        result = recommend(RecommendOptions(data=path, family=Family(family), budget_s=budget_s, seed=seed, out=out,
                                            command=f"advisor recommend {path.name} --family {family}"))
    except (InputError, TuningFailed) as error:  # a long-format sequence offered to a flat family; no trial in time
        return {"family": family, "error": str(error), "wall_s": time.perf_counter() - started}
    best = result["best"]
    return {
        "family": family,
        "metric": best["metric"],
        "test_score": best["test_score"],
        "validation_score": best["validation_score"],
        "default_test_score": result["baseline"]["test_score"],
        "trials": len(result["trials"]),
        "tune_s": result["timings"]["tune_s"],
        "wall_s": time.perf_counter() - started,
        "run_dir": result["run_dir"],
    }


def within(score: float, best: float) -> bool:
    """The pick's score counts as the oracle's when it is at most WITHIN of the best score below it."""
    return best - score <= WITHIN * abs(best) + 1e-12


def score_advice(record: dict) -> dict:
    """Rank, regret and within-1% of the pick among the families that ran."""
    ran = [r for r in record["runs"] if r.get("test_score") is not None]
    ranked = sorted(ran, key=lambda r: -r["test_score"])
    spent = {"oracle_s": record["decide_s"] + sum(r["wall_s"] for r in record["runs"] if "wall_s" in r)}
    if not ranked:
        return {"oracle_best": None, "rank": None, "regret": None, "within": False, "advisor_s": 0.0, **spent}
    best = ranked[0]
    pick = next((r for r in ran if r["family"] == record["pick"]), None)
    if pick is None:  # the pick gave the user no model within the budget: a miss
        failed = next((r for r in record["runs"] if r["family"] == record["pick"]), {})
        return {"oracle_best": best["family"], "rank": None, "regret": None, "within": False,
                "advisor_s": record["decide_s"] + failed.get("wall_s", 0.0), **spent}
    regret = best["test_score"] - pick["test_score"]
    return {
        "oracle_best": best["family"],
        "rank": 1 + sum(1 for r in ranked if r["test_score"] > pick["test_score"]),
        "regret": regret,
        "within": within(pick["test_score"], best["test_score"]),
        "advisor_s": record["decide_s"] + pick["wall_s"],
        **spent,
    }


def decision_record(entry, path: Path, seed: int, scratch: Path) -> dict:
    """What the rules say about one set: the pick and what it was decided from."""
    started = time.perf_counter()
    decision = decide_only(path, seed, scratch / f"{entry.name}-decide")
    return {
        "dataset": entry.name, "kind": entry.kind, "modality": entry.modality, "source": entry.source,
        "known_family": entry.known_family, "samples": decision["profile"]["samples"],
        "detected_modality": decision["profile"]["modality"], "pick": decision["family"],
        "families": [r["family"] for r in decision["ranking"]],
        "probe": {k: decision["profile"]["linearity"][k] for k in ("linear", "linear_score", "nonlinear_score")},
        "fired": [t["rule"] for t in decision["trace"] if t["fired"]],
        "decide_s": time.perf_counter() - started,
    }


def rescore(records: list[dict], entries, seed: int, scratch: Path) -> list[dict]:
    """Re-decide every pick with the rules as they are now (after calibration), keeping the oracle's runs:
    the runs do not depend on the rules, only the pick does."""
    paths = {entry.name: (entry, path) for entry, path in entries}
    rescored = []
    for record in records:
        entry, path = paths[record["dataset"]]
        now = decision_record(entry, path, seed, scratch)
        updated = {**record, **{k: now[k] for k in ("pick", "probe", "fired", "samples", "detected_modality")},
                   "pick_measured": record.get("pick_measured", record["pick"])}
        updated.update(score_advice(updated))
        rescored.append(updated)
        print(f"{entry.name:24} pick {updated['pick_measured']} -> {updated['pick']}", flush=True)
    return rescored


def run_corpus(entries, budget_s: float, seed: int, scratch: Path, progress=print) -> list[dict]:
    from tuners.ray_backend import ray_session  # one local Ray for every run, started once

    records = []
    with ray_session(None):
        for entry, path in entries:
            record = {**decision_record(entry, path, seed, scratch), "runs": []}
            for family in record["families"]:
                run = tune_family(path, family, budget_s, seed, scratch / f"{entry.name}-{family}")
                record["runs"].append(run)
                progress(f"{entry.name:24} {family:12} " + (f"{run['test_score']:.4f} ({run['trials']} trials, "
                         f"{run['wall_s']:.0f} s)" if "test_score" in run else run["error"]))
            record.update(score_advice(record))
            records.append(record)
    return records


def table(records: list[dict], budget: str) -> list[str]:
    scored = [r for r in records if r["oracle_best"] is not None]  # sets where some family gave a model
    hits = sum(r["within"] for r in scored)
    contested = [r for r in scored if len([x for x in r["runs"] if "test_score" in x]) > 1]
    spent = sum(r["advisor_s"] for r in scored) / sum(r["oracle_s"] for r in scored)
    lines = [
        f"**The pick is the oracle's best or within {WITHIN:.0%} of it on {hits} of {len(scored)} datasets "
        f"({hits / len(scored):.0%}); {sum(r['within'] for r in contested)} of {len(contested)} where more than "
        f"one family could run. The advisor spent {spent:.0%} of the oracle's compute.**",
        "",
        "| dataset | kind | samples | pick | oracle best | rank | pick test | best test | regret | within 1% | "
        "every family's test score | advisor s | oracle s |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for r in records:
        scores = {x["family"]: x.get("test_score") for x in r["runs"]}
        cells = ", ".join(f"{f} {s:.3f}" if s is not None else f"{f} n/a" for f, s in scores.items())
        best = scores.get(r["oracle_best"])
        lines.append(
            f"| {r['dataset']} | {r['kind']}, {r['detected_modality']} | {r['samples']:,} | {_pick(r)} | "
            f"{r['oracle_best']} | {r['rank'] or 'no model'} | {_num(scores.get(r['pick']))} | {_num(best)} | "
            f"{_num(r['regret'])} | {'yes' if r['within'] else '**no**'} | {cells} | "
            f"{r.get('advisor_s', 0):.0f} | {r.get('oracle_s', 0):.0f} |"
        )
    misses = [r for r in scored if not r["within"]]
    if misses:
        lines += ["", "Misses (which rules fired, and what the oracle preferred):", ""]
        lines += [f"- {r['dataset']}: picked {r['pick']} (rules {', '.join(r['fired'])}); {r['oracle_best']} "
                  + (f"was better by {r['regret']:.4f}{_noise(r)}." if r["regret"] is not None else
                     f"gave a model and the pick gave none within the budget "
                     f"({next(x.get('error', '') for x in r['runs'] if x['family'] == r['pick'])}).") for r in misses]
    return lines


def _noise(record: dict) -> str:
    """How the regret compares with the test split's own noise: one binomial standard error of the
    best accuracy on the held-out rows (for R² no such simple bound; the test rows are given)."""
    test_rows = math.ceil(TEST_FRACTION * record["samples"])
    best = next(x for x in record["runs"] if x["family"] == record["oracle_best"])
    if best["metric"] not in ("accuracy", "balanced_accuracy"):
        return f" (R² on {test_rows:,} test rows)"
    p = best["test_score"]
    se = math.sqrt(max(p * (1 - p), 1e-12) / test_rows)
    where = "within" if record["regret"] <= se else "beyond"
    return f", {where} one standard error of the test split ({se:.4f} on {test_rows:,} test rows)"


def _pick(record: dict) -> str:
    before = record.get("pick_measured", record["pick"])
    return record["pick"] if before == record["pick"] else f"{record['pick']} (was {before})"


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30s", help="tuning budget for every family on every set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", choices=[e.name for e in ENTRIES])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--rescore", action="store_true",
                        help="re-decide the picks in RESULTS/regret.json with the current rules; no tuning")
    args = parser.parse_args()
    entries = write_corpus(args.data, args.datasets)
    if args.rescore:
        raw = json.loads((args.results / "regret.json").read_text())
        args.budget, args.seed = raw["budget"], raw["seed"]
        with tempfile.TemporaryDirectory() as scratch:
            records = rescore(raw["records"], write_corpus(args.data), args.seed, Path(scratch))
        raw.update(records=records, rescored=time.strftime("%Y-%m-%d"))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            records = run_corpus(entries, parse_duration(args.budget), args.seed, Path(scratch))
        raw = {"budget": args.budget, "seed": args.seed, "date": time.strftime("%Y-%m-%d"), "records": records}
        earlier = args.results / "regret.json"
        if args.datasets and earlier.exists():  # some sets rerun: merge them into the earlier runs at this budget
            before = json.loads(earlier.read_text())
            if (before["budget"], before["seed"]) == (args.budget, args.seed):
                merged = {r["dataset"]: r for r in before["records"]} | {r["dataset"]: r for r in records}
                order = [e.name for e in ENTRIES]
                raw = {**before, "records": sorted(merged.values(), key=lambda r: order.index(r["dataset"]))}
                records = raw["records"]
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "regret.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    import ray, sklearn, torch, xgboost  # noqa: E401 - versions for the record

    write_results(args.results / "regret.md", [
        "# Advice regret against an oracle",
        "",
        machine_line(ray=ray.__version__, torch=torch.__version__, xgboost=xgboost.__version__,
                     **{"scikit-learn": sklearn.__version__}),
        f"Command: `python bench/regret.py --budget {args.budget} --seed {args.seed}` (raw runs: regret.json), "
        f"{raw['date']}."
        + (f" Picks re-decided with the rules as they are now by `python bench/regret.py --rescore` ({raw['rescored']}), "
           "from the same runs: `(was F)` marks a pick the calibrated rules changed." if raw.get("rescored") else ""),
        "",
        f"For each dataset the rules pick a family (`pick`); the oracle then tunes every family the rules did not "
        f"exclude, each with the same {args.budget} budget and seed {args.seed}, on the same held-out test split "
        "(20%). The pick's tuning run is one of the oracle's runs. `rank` is the pick's place among the families "
        f"by test score; `regret` is the best family's test score minus the pick's; `within 1%` means regret "
        f"≤ 1% of the best score. Scores: accuracy (balanced accuracy where classes are imbalanced), R² for "
        "regression, silhouette for clustering. `advisor s` is profile + rules + the pick's run; `oracle s` is "
        "profile + every family's run (wall clock, this machine).",
        "",
        *table(records, args.budget),
    ])


if __name__ == "__main__":
    main()
