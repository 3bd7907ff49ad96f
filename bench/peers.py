"""The advisor beside AutoGluon and FLAML at the same budget on the same test rows (issue 18).

    pip install -e '.[bench]'        # FLAML, AutoGluon and the tables' packages: benchmark only
    python bench/peers.py [--budget 30s] [--datasets ...] [--results bench/results]

Sets: every labelled set of bench/corpus.py (the rules' calibration corpus) and the held-out real
tables of bench/tables.py (no rule was calibrated on them). Per set:
  - the advisor: `advisor recommend FILE --budget B --seed S --json` in a fresh process, as a user
    runs it (the rules, the race where they are unsure, the search, the refit, the export), timed
    from start to exit;
  - AutoGluon: `TabularPredictor(eval_metric=the advisor's metric).fit(train, time_limit=B,
    presets="medium_quality")`, then predict; timed fit + predict;
  - FLAML: `AutoML().fit(train, time_budget=B, metric=the advisor's metric)`, then predict.
Both peers get the advisor's own training rows (its seeded 20% test split, recomputed with its
functions, bench/flaml_compare.advisor_split) as raw columns, and all three are scored once on the
same test rows with the advisor's metric. One tool at a time on this machine's cores.

Points are the metric x 100 (accuracy, balanced accuracy, R^2). The gap is the advisor's test
score minus the better peer's. Goals: within 0.5 point of the better peer on >= 85% of the sets,
never more than 1 point below; the advisor's median wall time <= 1.5 x AutoGluon's.
Rows are saved as they finish (RESULTS/peers_BUDGET.json); a rerun skips sets already there.
`--advisor-only` runs the advisor again on every saved set and keeps the peers' recorded scores
and times (the same splits and metric): the advisor's change measured without rerunning the peers.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.jobs import parse_duration  # noqa: E402
from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.flaml_compare import METRICS, advisor_split, constant_score, normalised, run_flaml  # noqa: E402
from bench.tables import TABLES, write_tables  # noqa: E402

TOOLS = ("advisor", "autogluon", "flaml")
PEERS = ("autogluon", "flaml")


def run_autogluon(split, metric: str, budget_s: float, folder: Path) -> dict:
    from autogluon.tabular import TabularPredictor

    x_train, y_train, x_test, y_test, task = split
    train = x_train.assign(**{"__target__": y_train})
    kind = "regression" if task == "regression" else ("binary" if len(set(y_train)) == 2 else "multiclass")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictor = TabularPredictor(label="__target__", problem_type=kind, eval_metric=metric, path=str(folder),
                                     verbosity=0).fit(train, time_limit=budget_s, presets="medium_quality")
        predicted = predictor.predict(x_test).to_numpy()
    return {"test_score": float(METRICS[metric](y_test, predicted)), "wall_s": time.perf_counter() - started,
            "learner": predictor.model_best}


def run_the_advisor(path: Path, budget: str, seed: int, folder: Path, target: str | None) -> dict:
    named = ("--target", target) if target else ()
    try:
        result, wall = run_advisor("recommend", str(path), *named, "--budget", budget, "--seed", str(seed),
                                   "--out", str(folder))
    except SystemExit as failed:  # bench.common.timed: the command failed; its last line says why
        raise RuntimeError(str(failed).strip().splitlines()[-1]) from None
    best = result.get("best") or {}
    learner = result["family"] + (f" (race: {result['race']['winner']})" if result.get("race") else "")
    return {"test_score": best.get("test_score"), "metric": best.get("metric"), "wall_s": wall, "learner": learner,
            "default": (result.get("baseline") or {}).get("test_score"), "chosen_by": result.get("chosen_by")}


def _guarded(run, *args) -> dict:
    """A peer's failure is a row in the table (what it does with this data), not the end of the run."""
    try:
        return run(*args)
    except Exception as error:  # noqa: BLE001
        return {"test_score": None, "wall_s": 0.0, "learner": None,
                "error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:160]}"}


def measure(entry, path: Path, budget: str, seed: int, scratch: Path) -> dict:
    budget_s = parse_duration(budget)
    advisor = _guarded(run_the_advisor, path, budget, seed, scratch / f"{entry.name}-advisor", entry.target)
    split = advisor_split(path, seed, entry.target)
    metric = advisor.get("metric") or ("r2" if split[4] == "regression" else "accuracy")
    runs = {"advisor": advisor,
            "autogluon": _guarded(run_autogluon, split, metric, budget_s, scratch / f"{entry.name}-autogluon"),
            "flaml": _guarded(run_flaml, split, metric, budget_s, seed)}
    runs["flaml"]["learner"] = runs["flaml"].pop("best_estimator", None)
    return _row(entry, metric, len(split[1]) + len(split[3]), constant_score(split, metric), runs)


def remeasure(entry, path: Path, budget: str, seed: int, scratch: Path, saved: dict) -> dict:
    """The advisor run again beside the peers' recorded run of the same set (same split, metric, budget)."""
    advisor = _guarded(run_the_advisor, path, budget, seed, scratch / f"{entry.name}-advisor", entry.target)
    recorded = {t: {"test_score": saved["scores"][t], "wall_s": saved["wall_s"][t], "learner": saved["learner"][t],
                    "error": saved["errors"][t]} for t in PEERS}
    return _row(entry, saved["metric"], saved["rows"], saved["constant"], {"advisor": advisor, **recorded})


def _row(entry, metric: str, rows: int, floor: float, runs: dict) -> dict:
    scores = {tool: runs[tool]["test_score"] for tool in TOOLS}
    top = max([s for s in scores.values() if s is not None], default=floor)
    peers = [scores[p] for p in PEERS if scores[p] is not None]
    gap = None if scores["advisor"] is None or not peers else 100 * (scores["advisor"] - max(peers))
    return {"dataset": entry.name, "kind": entry.kind, "modality": entry.modality, "source": entry.source,
            "metric": metric, "rows": rows, "scores": scores, "constant": floor,
            "default": runs["advisor"].get("default"), "chosen_by": runs["advisor"].get("chosen_by"),
            "normalised": {t: None if s is None else normalised(s, floor, top) for t, s in scores.items()},
            "gap_points": gap, "wall_s": {t: runs[t]["wall_s"] for t in TOOLS},
            "learner": {t: runs[t].get("learner") for t in TOOLS}, "errors": {t: runs[t].get("error") for t in TOOLS},
            "held_out": entry in TABLES}


def _num(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary(rows: list[dict], budget_s: float) -> list[str]:
    scored = [r for r in rows if r["gap_points"] is not None]
    if not scored:
        return ["No set where the advisor and a peer both produced a score."]
    gaps = [r["gap_points"] for r in scored]
    worst = min(scored, key=lambda r: r["gap_points"])
    within = sum(1 for g in gaps if g >= -0.5)
    medians = {t: statistics.median(r["normalised"][t] for r in rows if r["normalised"][t] is not None) for t in TOOLS}
    walls = {t: statistics.median(r["wall_s"][t] for r in rows if r["scores"][t] is not None) for t in TOOLS}
    bound = budget_s * 1.1 + 30
    over = [r["dataset"] for r in rows if r["wall_s"]["advisor"] > bound]
    failed = [f"{r['dataset']} ({t}: {e})" for r in rows for t, e in r["errors"].items() if e]
    return [
        f"**Within 0.5 point of the better peer (or above it) on {within} of {len(scored)} sets "
        f"({100 * within / len(scored):.0f}%; goal 85%). Never more than 1 point below: "
        f"{'yes' if min(gaps) >= -1 else 'no'}; worst gap {worst['gap_points']:+.2f} points ({worst['dataset']}). "
        f"Median gap {statistics.median(gaps):+.2f} points.**",
        "",
        f"Median normalised test score: advisor {medians['advisor']:.3f}, AutoGluon {medians['autogluon']:.3f}, "
        f"FLAML {medians['flaml']:.3f}. Median wall time: advisor {walls['advisor']:.1f} s, AutoGluon "
        f"{walls['autogluon']:.1f} s, FLAML {walls['flaml']:.1f} s; advisor / AutoGluon = "
        f"{walls['advisor'] / walls['autogluon']:.2f} (goal <= 1.5). Whole advisor runs over budget x 1.1 + 30 s "
        f"= {bound:.0f} s: {', '.join(over) or 'none'}.",
        "",
        *([f"Failures (left out where they have no score): {'; '.join(failed)}.", ""] if failed else []),
    ]


def table(rows: list[dict]) -> list[str]:
    lines = []
    for title, group in (("The calibration corpus (bench/corpus.py)", [r for r in rows if not r.get("held_out")]),
                         ("Held-out tables (bench/tables.py)", [r for r in rows if r.get("held_out")])):
        lines += ["", f"### {title}", "", *_rows(group)] if group else []
    return lines


def _rows(rows: list[dict]) -> list[str]:
    lines = ["| set | kind | rows | metric | advisor (family) | AutoGluon (best model) | FLAML (learner) | "
             "advisor's default | gap, points | wall s: advisor / AutoGluon / FLAML |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        s, learner, wall = r["scores"], r["learner"], r["wall_s"]
        cells = [f"{_num(s[t])} ({learner[t] or 'failed'})" for t in TOOLS]
        gap = "n/a" if r["gap_points"] is None else f"{r['gap_points']:+.2f}"
        lines.append(f"| {r['dataset']} | {r['kind']}, {r['modality']} | {r['rows']:,} | {r['metric']} | "
                     f"{' | '.join(cells)} | {_num(r['default'])} | {gap} | "
                     f"{' / '.join(f'{wall[t]:.0f}' for t in TOOLS)} |")
    return lines


def _saved(path: Path, budget: str, seed: int) -> list[dict]:
    if not path.exists():
        return []
    raw = json.loads(path.read_text())
    return raw["rows"] if raw.get("budget") == budget and raw.get("seed") == seed else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", help="names from bench/corpus.py and bench/tables.py (default: all)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--advisor-only", action="store_true",
                        help="run the advisor again beside the peers' recorded run of each saved set")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # FLAML's and AutoGluon's advice on every fit
    try:
        import autogluon.tabular  # noqa: F401
        import flaml
    except ImportError as error:
        raise SystemExit(f"{error.name} is not installed: pip install -e '.[bench]' (the benchmark environment only).")
    entries = [(e, p) for e, p in write_corpus(args.data, args.datasets) + write_tables(args.data, args.datasets)
               if e.kind != "unlabelled"]  # the peers have no clustering task
    args.results.mkdir(parents=True, exist_ok=True)
    stem = args.results / f"peers_{args.budget}"
    rows = [r for r in _saved(stem.with_suffix(".json"), args.budget, args.seed) if r["dataset"] in {e.name for e, _ in entries}]
    with tempfile.TemporaryDirectory() as scratch:
        saved = {r["dataset"]: r for r in rows} if args.advisor_only else {}
        rows = [] if args.advisor_only else rows
        for entry, path in entries:
            if args.advisor_only and entry.name in saved:
                rows.append(remeasure(entry, path, args.budget, args.seed, Path(scratch), saved[entry.name]))
            elif args.advisor_only or any(r["dataset"] == entry.name for r in rows):
                continue
            else:
                rows.append(measure(entry, path, args.budget, args.seed, Path(scratch)))
            r = rows[-1]
            print(f"{entry.name:24} " + "  ".join(f"{t} {_num(r['scores'][t])} ({r['wall_s'][t]:.0f} s)" for t in TOOLS)
                  + "".join(f"  [{t}: {e}]" for t, e in r["errors"].items() if e), flush=True)
            stem.with_suffix(".json").write_text(json.dumps({"budget": args.budget, "seed": args.seed, "rows": rows,
                                                             "advisor_only": args.advisor_only}, indent=1),
                                                 encoding="utf-8")
    order = {e.name: i for i, (e, _) in enumerate(entries)}
    rows.sort(key=lambda r: order[r["dataset"]])
    import autogluon.core
    import sklearn

    write_results(stem.with_suffix(".md"), [
        f"# The advisor beside AutoGluon and FLAML at an equal budget ({args.budget})", "",
        machine_line(autogluon=autogluon.core.__version__, flaml=flaml.__version__,
                     **{"scikit-learn": sklearn.__version__}),
        f"Command: `python bench/peers.py --budget {args.budget} --seed {args.seed}"
        f"{' --advisor-only' if args.advisor_only else ''}`", "",
        "Same training rows and test rows (the advisor's seeded 20% split), the advisor's metric, "
        f"{args.budget} each: the advisor's `--budget` (the whole run), AutoGluon's `time_limit` (preset "
        "medium_quality), FLAML's `time_budget`. The advisor's wall time is `advisor recommend` in a fresh "
        "process from start to exit (Python's, Ray's and the libraries' start-up, the report and the export "
        "included); the peers' are fit + predict in this process. A gap is the "
        "advisor's test score minus the better peer's, in points (metric x 100).", "",
        *(["With `--advisor-only`: the advisor's columns are from this run; AutoGluon's and FLAML's are the "
           "recorded run's of the same sets, splits and budget, on this machine.", ""] if args.advisor_only else []),
        *summary(rows, parse_duration(args.budget)),
        *table(rows),
    ])


if __name__ == "__main__":
    main()
