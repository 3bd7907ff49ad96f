"""The linearity probe's noise: does weighing the gap by its standard error pick better families?

    python bench/probe_noise.py [--seeds 0 1 ... 9] [--budget 30s] [--results bench/results]

The probe cross-validates a linear model and a non-linear reference on the same folds. Its verdict
was "linear when the gap (reference - linear) is at most LINEARITY_TOLERANCE"; it is now "at most
LINEARITY_TOLERANCE plus one standard error of the per-fold differences" (advisor.linearity.looks_linear).
For every labelled set of bench/corpus.py and bench/tables.py that the probe decides (tables,
series, text; images go to the CNN whatever it says) and every seed, the probe runs as the advisor
runs it; where the two verdicts differ, the rules rank the families under each verdict and each
verdict's pick is run (`advisor recommend --family F --budget B --seed S`, a fresh process) and
scored on the same test split. Also: agreement of both verdicts with the oracle of regret.json
(seed 0: the tuned linear family within 1% of the best family).

Writes RESULTS/probe_noise.json and RESULTS/probe_noise.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.linearity import looks_linear  # noqa: E402
from advisor.loading import load  # noqa: E402
from advisor.profiling import profile  # noqa: E402
from advisor.types import Modality  # noqa: E402
from bench.calibrate import scores as oracle_scores  # noqa: E402
from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from bench.corpus import ENTRIES, write_corpus  # noqa: E402
from bench.regret import within  # noqa: E402
from bench.tables import TABLES, write_tables  # noqa: E402
from rules import RULES, decide  # noqa: E402

DECIDED_BY_PROBE = (Modality.TABULAR, Modality.SEQUENCE, Modality.TEXT)


def probes(paths: list[tuple], seeds: list[int]) -> list[dict]:
    """The probe on every set and seed: its gap, standard error and both verdicts, and each verdict's pick."""
    found = []
    for entry, path in paths:
        dataset = load(path, entry.target)
        for seed in seeds:
            measured = profile(dataset, seed=seed)
            probe = measured.linearity
            if probe.linear_score is None or measured.modality not in DECIDED_BY_PROBE:
                continue
            gap = probe.nonlinear_score - probe.linear_score
            before, now = looks_linear(gap, 0.0, probe.tolerance), looks_linear(gap, probe.gap_se, probe.tolerance)
            found.append({"set": entry.name, "path": str(path), "target": entry.target, "seed": seed,
                          "gap": round(gap, 4), "se": probe.gap_se, "before": before, "now": now,
                          "picks": {"before": _pick(measured, before), "now": _pick(measured, now)}})
            print(f"{entry.name:22} seed {seed}: gap {gap:+.4f}, se {probe.gap_se:.4f}"
                  + ("  <- the verdicts differ" if before != now else ""), flush=True)
    return found


def _pick(measured, linear: bool) -> str:
    flipped = dataclasses.replace(measured, linearity=dataclasses.replace(measured.linearity, linear=linear))
    return decide(flipped, RULES).family.value


def run_picks(case: dict, budget: str, scratch: Path) -> dict[str, float | None]:
    """Each verdict's pick tuned as a user runs it, scored on the advisor's test split for the seed."""
    named = ("--target", case["target"]) if case["target"] else ()
    scored = {}
    for family in sorted(set(case["picks"].values())):
        result, _ = run_advisor("recommend", case["path"], *named, "--family", family, "--budget", budget,
                                "--seed", str(case["seed"]), "--out", str(scratch / f"{case['set']}-{case['seed']}-{family}"))
        scored[family] = (result.get("best") or {}).get("test_score")
        print(f"  {case['set']} seed {case['seed']} --family {family}: test {scored[family]}", flush=True)
    return scored


def oracle_agreement(cases: list[dict], regret: Path) -> dict[str, str]:
    """Seed 0's verdicts, before and now, against regret.json's oracle on the sets it measured."""
    records = {r["dataset"]: r for r in json.loads(regret.read_text(encoding="utf-8"))["records"]}
    agree, total = {"before": 0, "now": 0}, 0
    for case in (c for c in cases if c["seed"] == 0 and c["set"] in records):
        s = oracle_scores(records[case["set"]])
        if "linear" not in s or len(s) < 2:
            continue
        total += 1
        for verdict in agree:
            agree[verdict] += case[verdict] == within(s["linear"], max(s.values()))
    return {verdict: f"{count} of {total}" for verdict, count in agree.items()}


def page(cases: list[dict], agreement: dict[str, str], budget: str, seeds: list[int]) -> list[str]:
    differ = [c for c in cases if c["before"] != c["now"]]
    lines = ["# The linearity probe's noise", "",
             f"`python bench/probe_noise.py --seeds {' '.join(map(str, seeds))} --budget {budget}`. "
             f"{machine_line(**{name: importlib.metadata.version(name) for name in ('scikit-learn', 'xgboost')})}", "",
             "The verdict was *linear when the probe's gap (non-linear reference - linear model, cross-validated on the "
             "same folds) is at most LINEARITY_TOLERANCE*; it is now *at most LINEARITY_TOLERANCE plus one standard error "
             "of the per-fold differences* (the one-standard-error rule: within noise the simpler model is kept).", "",
             f"- Set-splits the probe decides: {len(cases)}; the verdicts differ on {len(differ)}.",
             f"- Seed 0 against the oracle of regret.json (the tuned linear family within 1% of the best): "
             f"before {agreement['before']}, now {agreement['now']}."]
    if differ:
        gains = [c["gain"] for c in differ if c.get("gain") is not None]
        lines += [f"- Where they differ, the pick now minus the pick before, in test points: "
                  f"mean {statistics.mean(gains):+.2f}, median {statistics.median(gains):+.2f}, "
                  f"{sum(g > 0 for g in gains)} better, {sum(g < 0 for g in gains)} worse, "
                  f"{sum(g == 0 for g in gains)} level." if gains else "- No pick finished."]
    lines += ["", "| set | seed | gap | standard error | pick before | test | pick now | test | points |",
              "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |"]
    for c in differ:
        before, now = c["picks"]["before"], c["picks"]["now"]
        lines.append(f"| {c['set']} | {c['seed']} | {c['gap']:+.4f} | {c['se']:.4f} | {before} | {_num(c['tests'].get(before))} "
                     f"| {now} | {_num(c['tests'].get(now))} | {_num(c.get('gain'), 2)} |")
    return lines


def _num(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--page", action="store_true", help="write the page again from RESULTS/probe_noise.json")
    args = parser.parse_args()
    saved = args.results / "probe_noise.json"
    if args.page:
        run = json.loads(saved.read_text(encoding="utf-8"))
        write_results(args.results / "probe_noise.md", page(run["cases"], run["agreement"], run["budget"], run["seeds"]))
        return
    paths = write_corpus(args.data) + write_tables(args.data)
    cases = probes([(e, p) for e, p in paths if e.kind != "unlabelled"], args.seeds)
    with tempfile.TemporaryDirectory() as scratch:
        for case in (c for c in cases if c["before"] != c["now"]):
            case["tests"] = run_picks(case, args.budget, Path(scratch))
            before, now = (case["tests"].get(case["picks"][v]) for v in ("before", "now"))
            case["gain"] = None if None in (before, now) else round(100 * (now - before), 2)
    agreement = oracle_agreement(cases, args.results / "regret.json")
    saved.write_text(json.dumps({"budget": args.budget, "seeds": args.seeds,
                                                               "agreement": agreement, "cases": cases}, indent=1))
    write_results(args.results / "probe_noise.md", page(cases, agreement, args.budget, args.seeds))


if __name__ == "__main__":
    main()
