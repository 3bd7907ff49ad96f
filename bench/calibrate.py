"""Set the rules' thresholds from the oracle's measurements (bench/regret.py's regret.json).

    python bench/calibrate.py [--regret bench/results/regret.json] [--write advisor/calibration.json]

Three thresholds are decided by evidence rather than by the seeds alone:
- LINEARITY_TOLERANCE: the probe calls a problem linear when the linear model's CV score is within
  this much of the non-linear reference's. Chosen to agree best with the oracle: "the tuned linear
  family is within 1% of the best family" (ties: the value closest to the seed's 0.01).
- LOTS_OF_DATA_SAMPLES: the table size from which the MLP, not boosting, is picked for non-linear
  tables (seed 002: "Lots of data, complex situation? Deep learning"). Set to the smallest measured
  size from which the MLP was within 1% of boosting on every larger non-linear table; when it never
  was, above the largest size measured, and the rule follows the evidence, saying so.
- NAIVE_BAYES_MAX_DOCUMENTS: kept from shared/DATASETS.md unless the corpus has text sets on both
  sides of it.

Writes the values with their evidence to advisor/calibration.json (read by advisor/thresholds.py;
the rules cite it) and a table to bench/results/calibration.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.linearity import looks_linear  # noqa: E402
from bench.common import ROOT, write_results  # noqa: E402
from bench.regret import within  # noqa: E402

SEED_VALUES = {"LINEARITY_TOLERANCE": 0.01, "LOTS_OF_DATA_SAMPLES": 100_000, "NAIVE_BAYES_MAX_DOCUMENTS": 5_000}
TOLERANCES = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1)
CITATION = "bench/results/calibration.md"


def scores(record: dict) -> dict[str, float]:
    return {r["family"]: r["test_score"] for r in record["runs"] if r.get("test_score") is not None}


def linearity_tolerance(records: list[dict]) -> dict:
    cases = []
    for r in records:
        s, probe = scores(r), r["probe"]
        if "linear" in s and len(s) > 1 and probe["linear_score"] is not None:
            cases.append({"dataset": r["dataset"], "gap": probe["nonlinear_score"] - probe["linear_score"],
                          "se": probe.get("gap_se") or 0.0,  # runs before the probe recorded it: the gap alone
                          "linear_ok": within(s["linear"], max(s.values()))})

    def agreement(tol: float) -> int:
        return sum(looks_linear(c["gap"], c["se"], tol) == c["linear_ok"] for c in cases)

    seed = SEED_VALUES["LINEARITY_TOLERANCE"]
    value = max(TOLERANCES, key=lambda t: (agreement(t), -abs(t - seed)))
    return {
        "value": value, "seed_value": seed, "contradicts_seed": False,
        "agreement": f"{agreement(value)} of {len(cases)}",
        "evidence": (f"probe gap within {value} (plus its standard error where the run recorded it) agreed with the oracle (tuned linear family within 1% of the best) "
                     f"on {agreement(value)} of {len(cases)} labelled sets; the seed's 0.01 agreed on {agreement(seed)}"),
        "cases": cases,
    }


def lots_of_data(records: list[dict]) -> dict:
    cases = []
    for r in records:
        s = scores(r)
        if r["detected_modality"] == "tabular" and "mlp" in s and "boosting" in s and r["probe"]["linear"] is False:
            cases.append({"dataset": r["dataset"], "samples": r["samples"], "mlp": s["mlp"], "boosting": s["boosting"],
                          "mlp_ok": within(s["mlp"], max(s["mlp"], s["boosting"]))})
    cases.sort(key=lambda c: c["samples"])
    seed = SEED_VALUES["LOTS_OF_DATA_SAMPLES"]
    # The smallest size from which the MLP held its own on every larger non-linear table measured.
    value = None
    for i, case in enumerate(cases):
        if all(c["mlp_ok"] for c in cases[i:]):
            value = case["samples"]
            break
    if not cases:
        return {"value": seed, "seed_value": seed, "contradicts_seed": False, "cases": [],
                "evidence": "no non-linear table with both an MLP and a boosting run: the seed's value is kept"}
    largest = cases[-1]["samples"]
    contradicts = value is None or value > seed
    if value is None:
        value = max(seed, 10 ** math.ceil(math.log10(largest + 1)))  # beyond what was measured
        evidence = (f"boosting beat the MLP by more than 1% on every non-linear table measured, the largest "
                    f"{largest:,} rows, so deep learning for tables needs more rows than that: {value:,}")
    else:
        won = [c for c in cases if c["samples"] >= value]
        evidence = (f"the MLP was within 1% of boosting on all {len(won)} non-linear tables of {value:,} rows or more "
                    f"measured ({', '.join(c['dataset'] for c in won)}); below that boosting led")
    return {"value": int(value), "seed_value": seed, "contradicts_seed": contradicts, "evidence": evidence,
            "cases": cases}


def naive_bayes_documents(records: list[dict]) -> dict:
    seed = SEED_VALUES["NAIVE_BAYES_MAX_DOCUMENTS"]
    cases = [{"dataset": r["dataset"], "samples": r["samples"], "nb_ok": within(s["naive_bayes"], max(s.values()))}
             for r in records if r["detected_modality"] == "text" and "naive_bayes" in (s := scores(r))]
    if not cases:
        return {"value": seed, "seed_value": seed, "contradicts_seed": False, "cases": [],
                "evidence": "no text set measured: the value stays from shared/DATASETS.md"}
    above = [c for c in cases if c["samples"] > seed]
    ok = sum(c["nb_ok"] for c in cases)
    sizes = ", ".join(format(c["samples"], ",") for c in cases)
    evidence = f"naive Bayes within 1% of the best on {ok} of {len(cases)} text sets measured ({sizes} documents)"
    if not above:
        evidence += f"; none above {seed:,} documents, so the value stays from shared/DATASETS.md"
    return {"value": seed, "seed_value": seed, "contradicts_seed": False, "evidence": evidence, "cases": cases}


def calibrate(raw: dict) -> dict:
    records = raw["records"]
    return {
        "measured": f"bench/regret.py --budget {raw['budget']} --seed {raw['seed']} on {len(records)} datasets, {raw['date']}",
        "citation": CITATION,
        "thresholds": {
            "LINEARITY_TOLERANCE": linearity_tolerance(records),
            "LOTS_OF_DATA_SAMPLES": lots_of_data(records),
            "NAIVE_BAYES_MAX_DOCUMENTS": naive_bayes_documents(records),
        },
    }


def report(calibration: dict, regret: Path) -> list[str]:
    lines = [
        "# Rule thresholds, calibrated from the oracle",
        "",
        f"Command: `python bench/calibrate.py --regret {regret.relative_to(ROOT) if regret.is_relative_to(ROOT) else regret}"
        f" --write advisor/calibration.json`. Date: {time.strftime('%Y-%m-%d')}.",
        f"Measurements: {calibration['measured']} (bench/results/regret.md).",
        "",
        "| threshold | seed value | calibrated | contradicts the seed | evidence |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, t in calibration["thresholds"].items():
        lines.append(f"| {name} | {t['seed_value']:,} | {t['value']:,} | {'yes' if t['contradicts_seed'] else 'no'} | "
                     f"{t['evidence']} |")
    for name, t in calibration["thresholds"].items():
        lines += ["", f"## {name}: the cases", "", "| " + " | ".join(t["cases"][0]) + " |" if t["cases"] else "none",
                  *(["| " + " | ".join("---" for _ in t["cases"][0]) + " |"] if t["cases"] else [])]
        lines += ["| " + " | ".join(_cell(v) for v in c.values()) + " |" for c in t["cases"]]
    return lines


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regret", type=Path, default=ROOT / "bench" / "results" / "regret.json")
    parser.add_argument("--write", type=Path, help="where to write the thresholds (advisor/calibration.json sets the "
                                                    "advisor's own); without it only the table is written")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "calibration.md")
    args = parser.parse_args()
    calibration = calibrate(json.loads(args.regret.read_text()))
    if args.write:
        values = {"measured": calibration["measured"], "citation": calibration["citation"],
                  "thresholds": {k: {f: v[f] for f in ("value", "seed_value", "contradicts_seed", "evidence")}
                                 for k, v in calibration["thresholds"].items()}}
        args.write.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write}")
    write_results(args.results, report(calibration, args.regret.resolve()))


if __name__ == "__main__":
    main()
