"""The advisor beside AutoGluon and FLAML at the same budget on the same test rows (issue 18).

    pip install -e '.[bench]'        # FLAML, AutoGluon and the tables' packages: benchmark only
    python bench/peers.py [--budget 30s] [--datasets ...] [--results bench/results]

Sets: every labelled set of bench/corpus.py (the rules' calibration corpus) and the held-out real
tables of bench/tables.py (no rule was calibrated on them). Per set:
  - the advisor: `advisor recommend FILE --budget B --seed S --json` in a fresh process, as a user
    runs it (the rules, the race where they are unsure, the search, the refit, the export), timed
    from start to exit;
  - AutoGluon: `TabularPredictor(eval_metric=the advisor's metric).fit(train, time_limit=B,
    presets="medium_quality")`, then predict, in a fresh process as its user runs it, timed from
    start to exit (and its fit + predict alone, beside it);
  - FLAML: `AutoML().fit(train, time_budget=B, metric=the advisor's metric)`, then predict.
Both peers get the advisor's own training rows (its seeded 20% test split, recomputed with its
functions, bench/flaml_compare.advisor_split) as raw columns, and all three are scored once on the
same test rows with the advisor's metric. One tool at a time on this machine's cores.

Points are the metric x 100 (accuracy, balanced accuracy, R^2). The gap is the advisor's test
score minus the better peer's. Goals: within 0.5 point of the better peer on >= 85% of the sets,
never more than 1 point below; the advisor's median wall time <= 1.5 x AutoGluon's.
Rows are saved as they finish (RESULTS/peers_BUDGET.json; another seed's split in peers_BUDGET_seedS.json,
which bench/peers_seeds.py reads beside seed 0's); a rerun skips sets already there.
`--rerun advisor [autogluon flaml]` runs those tools again on every saved set and keeps the others'
recorded scores and times (the same splits and metric): the advisor's change measured without
rerunning every peer. `--advisor-only` is `--rerun advisor`. With `--datasets`, the sets not named
keep their saved rows, so the table stays whole when a few sets are rerun.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.jobs import parse_duration  # noqa: E402
from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from bench.corpus import ENTRIES, write_corpus  # noqa: E402
from bench.flaml_compare import METRICS, advisor_split, constant_score, normalised, run_flaml  # noqa: E402
from bench.tables import TABLES, write_tables  # noqa: E402

TOOLS = ("advisor", "autogluon", "flaml")
PEERS = ("autogluon", "flaml")


# AutoGluon as its user runs it: a fresh Python process that imports it, fits, predicts and exits,
# timed from start to exit as the advisor is. argv: folder, metric, problem type, seconds.
AUTOGLUON_SCRIPT = """
import json, sys, time, warnings
import logging; logging.disable(logging.INFO)
import numpy as np, pandas as pd
from autogluon.tabular import TabularPredictor
folder, metric, kind, budget = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
train, test = pd.read_pickle(folder + "/train.pkl"), pd.read_pickle(folder + "/test.pkl")
started = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    predictor = TabularPredictor(label="__target__", problem_type=kind, eval_metric=metric, path=folder + "/model",
                                 verbosity=0).fit(train, time_limit=budget, presets="medium_quality")
    np.save(folder + "/predicted.npy", predictor.predict(test).to_numpy(), allow_pickle=True)
json.dump({"fit_predict_s": time.perf_counter() - started, "learner": predictor.model_best}, open(folder + "/run.json", "w"))
"""


def run_autogluon(split, metric: str, budget_s: float, folder: Path) -> dict:
    """`TabularPredictor(eval_metric=metric).fit(train, time_limit=budget_s, presets="medium_quality")`, then
    predict, in a fresh process (AUTOGLUON_SCRIPT): its wall time is the process's, start to exit, and
    fit_predict_s the fit and predict alone."""
    x_train, y_train, x_test, y_test, task = split
    folder.mkdir(parents=True, exist_ok=True)
    x_train.assign(**{"__target__": y_train}).to_pickle(folder / "train.pkl")
    x_test.to_pickle(folder / "test.pkl")
    kind = "regression" if task == "regression" else ("binary" if len(set(y_train)) == 2 else "multiclass")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", AUTOGLUON_SCRIPT, str(folder), metric, kind, str(budget_s)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError((done.stderr.strip().splitlines() or ["AutoGluon's process failed"])[-1])
    run = json.loads((folder / "run.json").read_text())
    predicted = np.load(folder / "predicted.npy", allow_pickle=True)
    return {"test_score": float(METRICS[metric](y_test, predicted)), "wall_s": wall, "learner": run["learner"],
            "fit_predict_s": run["fit_predict_s"]}


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


def measure(entry, path: Path, budget: str, seed: int, scratch: Path, saved: dict | None = None,
            rerun: tuple[str, ...] = TOOLS) -> dict:
    """Every tool in `rerun` run on the set; the others' scores and times from `saved`, the recorded
    row of the same set, split, metric and budget."""
    budget_s = parse_duration(budget)
    runs = {"advisor": _guarded(run_the_advisor, path, budget, seed, scratch / f"{entry.name}-advisor", entry.target)
            } if "advisor" in rerun else {}
    split = advisor_split(path, seed, entry.target)
    metric = saved["metric"] if saved else (runs["advisor"].get("metric") or ("r2" if split[4] == "regression"
                                                                              else "accuracy"))
    runners = {"autogluon": (run_autogluon, split, metric, budget_s, scratch / f"{entry.name}-autogluon"),
               "flaml": (run_flaml, split, metric, budget_s, seed)}
    for tool in TOOLS:
        if tool not in runs:
            runs[tool] = _guarded(*runners[tool]) if tool in rerun else _recorded(saved, tool)
    runs["flaml"]["learner"] = runs["flaml"].pop("best_estimator", runs["flaml"].get("learner"))
    return _row(entry, metric, len(split[1]) + len(split[3]), constant_score(split, metric), runs, len(split[3]))


def _recorded(saved: dict, tool: str) -> dict:
    run = {"test_score": saved["scores"][tool], "wall_s": saved["wall_s"][tool], "learner": saved["learner"][tool],
           "error": saved["errors"][tool]}
    if tool == "advisor":
        run.update(default=saved.get("default"), chosen_by=saved.get("chosen_by"))
    if tool == "autogluon":  # absent from a row of before AutoGluon ran in its own process (_fit_predict)
        run["fit_predict_s"] = saved.get("autogluon_fit_predict_s")
    return run


def _row(entry, metric: str, rows: int, floor: float, runs: dict, test_rows: int) -> dict:
    scores = {tool: runs[tool]["test_score"] for tool in TOOLS}
    top = max([s for s in scores.values() if s is not None], default=floor)
    peers = [scores[p] for p in PEERS if scores[p] is not None]
    # Rounded: 2 test rows of 400 are a gap of exactly 0.5 points, not 0.5000000000000004.
    gap = None if scores["advisor"] is None or not peers else round(100 * (scores["advisor"] - max(peers)), 9)
    return {"dataset": entry.name, "kind": entry.kind, "modality": entry.modality, "source": entry.source,
            "metric": metric, "rows": rows, "test_rows": test_rows, "scores": scores, "constant": floor,
            "default": runs["advisor"].get("default"), "chosen_by": runs["advisor"].get("chosen_by"),
            "normalised": {t: None if s is None else normalised(s, floor, top) for t, s in scores.items()},
            "gap_points": gap, "wall_s": {t: runs[t]["wall_s"] for t in TOOLS},
            "autogluon_fit_predict_s": runs["autogluon"].get("fit_predict_s"),
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
    within = sum(1 for g in gaps if round(g, 9) >= -0.5)
    medians = {t: statistics.median(r["normalised"][t] for r in rows if r["normalised"][t] is not None) for t in TOOLS}
    walls = {t: statistics.median(r["wall_s"][t] for r in rows if r["scores"][t] is not None) for t in TOOLS}
    fitted = statistics.median(_fit_predict(r) for r in rows if r["scores"]["autogluon"] is not None)
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
        f"{walls['advisor'] / walls['autogluon']:.2f} (goal <= 1.5; AutoGluon's fit + predict alone: median "
        f"{fitted:.1f} s, advisor / that = {walls['advisor'] / fitted:.2f}). Whole advisor runs over budget x 1.1 + 30 s "
        f"= {bound:.0f} s: {', '.join(over) or 'none'}.",
        "",
        *([f"Failures (left out where they have no score): {'; '.join(failed)}.", ""] if failed else []),
        *_behind(scored),
    ]


def _behind(scored: list[dict]) -> list[str]:
    """The sets more than 0.5 point below the better peer, with what an accuracy gap is in test rows."""
    below = sorted((r for r in scored if round(r["gap_points"], 9) < -0.5), key=lambda r: r["gap_points"])
    if not below:
        return []
    def words(r: dict) -> str:
        rows = r.get("test_rows")
        if r["metric"] != "accuracy" or not rows:
            return f"{r['dataset']} {r['gap_points']:+.2f} ({r['metric']})"
        return f"{r['dataset']} {r['gap_points']:+.2f} ({round(-r['gap_points'] * rows / 100)} of {rows} test rows)"
    return [f"More than 0.5 point below the better peer: {'; '.join(words(r) for r in below)}.", ""]


def table(rows: list[dict]) -> list[str]:
    lines = []
    for title, group in (("The calibration corpus (bench/corpus.py)", [r for r in rows if not r.get("held_out")]),
                         ("Held-out tables (bench/tables.py)", [r for r in rows if r.get("held_out")])):
        lines += ["", f"### {title}", "", *_rows(group)] if group else []
    return lines


def _rows(rows: list[dict]) -> list[str]:
    lines = ["| set | kind | rows | metric | advisor (family) | AutoGluon (best model) | FLAML (learner) | "
             "advisor's default | gap, points | wall s: advisor / AutoGluon (its fit + predict) / FLAML |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        s, learner, wall = r["scores"], r["learner"], r["wall_s"]
        cells = [f"{_num(s[t])} ({learner[t] or 'failed'})" for t in TOOLS]
        gap = "n/a" if r["gap_points"] is None else f"{r['gap_points']:+.2f}"
        lines.append(f"| {r['dataset']} | {r['kind']}, {r['modality']} | {r['rows']:,} | {r['metric']} | "
                     f"{' | '.join(cells)} | {_num(r['default'])} | {gap} | "
                     f"{wall['advisor']:.0f} / {wall['autogluon']:.0f} ({_fit_predict(r):.0f}) / {wall['flaml']:.0f} |")
    return lines


def _fit_predict(row: dict) -> float:
    return row.get("autogluon_fit_predict_s") or row["wall_s"]["autogluon"]


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
    parser.add_argument("--rerun", nargs="+", choices=TOOLS,
                        help="run these tools again on every saved set and keep the others' recorded runs")
    parser.add_argument("--advisor-only", action="store_true", help="the same as --rerun advisor")
    args = parser.parse_args()
    rerun = tuple(args.rerun or (["advisor"] if args.advisor_only else []))
    logging.disable(logging.INFO)  # FLAML's and AutoGluon's advice on every fit
    try:
        import autogluon.tabular  # noqa: F401
        import flaml
    except ImportError as error:
        raise SystemExit(f"{error.name} is not installed: pip install -e '.[bench]' (the benchmark environment only).")
    entries = [(e, p) for e, p in write_corpus(args.data, args.datasets) + write_tables(args.data, args.datasets)
               if e.kind != "unlabelled"]  # the peers have no clustering task
    args.results.mkdir(parents=True, exist_ok=True)
    stem = args.results / (f"peers_{args.budget}" + (f"_seed{args.seed}" if args.seed else ""))  # seed 0: the table
    saved_rows = _saved(stem.with_suffix(".json"), args.budget, args.seed)
    named = {e.name for e, _ in entries}
    others = [r for r in saved_rows if r["dataset"] not in named] if args.datasets else []  # kept as recorded
    rows = [r for r in saved_rows if r["dataset"] in named]
    with tempfile.TemporaryDirectory() as scratch:
        saved = {r["dataset"]: r for r in rows} if rerun else {}
        rows = [] if rerun else rows
        for entry, path in entries:
            if rerun and entry.name in saved:
                rows.append(measure(entry, path, args.budget, args.seed, Path(scratch), saved[entry.name], rerun))
            elif rerun or any(r["dataset"] == entry.name for r in rows):
                continue
            else:
                rows.append(measure(entry, path, args.budget, args.seed, Path(scratch)))
            r = rows[-1]
            print(f"{entry.name:24} " + "  ".join(f"{t} {_num(r['scores'][t])} ({r['wall_s'][t]:.0f} s)" for t in TOOLS)
                  + "".join(f"  [{t}: {e}]" for t, e in r["errors"].items() if e), flush=True)
            stem.with_suffix(".json").write_text(json.dumps({"budget": args.budget, "seed": args.seed,
                                                             "rows": rows + others, "rerun": list(rerun)},
                                                            indent=1), encoding="utf-8")
    order = {e.name: i for i, e in enumerate(ENTRIES + TABLES)}
    rows = sorted(rows + others, key=lambda r: order.get(r["dataset"], len(order)))
    write_table(stem, rows, args.budget, args.seed, rerun, sorted(named) if others else None)


def write_table(stem: Path, rows: list[dict], budget: str, seed: int, rerun: tuple[str, ...],
                only: list[str] | None = None) -> None:
    import autogluon.core
    import flaml
    import sklearn

    write_results(stem.with_suffix(".md"), [
        f"# The advisor beside AutoGluon and FLAML at an equal budget ({budget})", "",
        machine_line(autogluon=autogluon.core.__version__, flaml=flaml.__version__,
                     **{"scikit-learn": sklearn.__version__}),
        f"Command: `python bench/peers.py --budget {budget} --seed {seed}"
        f"{' --rerun ' + ' '.join(rerun) if rerun else ''}{' --datasets ' + ' '.join(only) if only else ''}`"
        + (" (the other sets' rows are the run's before)" if only else ""), "",
        "Same training rows and test rows (the advisor's seeded 20% split), the advisor's metric, "
        f"{budget} each: the advisor's `--budget` (the whole run), AutoGluon's `time_limit` (preset "
        "medium_quality), FLAML's `time_budget`. The advisor's wall time is `advisor recommend` in a fresh "
        "process from start to exit (Python's, Ray's and the libraries' start-up, the report and the export "
        "included); AutoGluon's is its fresh process's from start to exit too (Python's start, its import, fit, "
        "predict), and its fit + predict alone is given beside it; FLAML's is fit + predict in this process. A gap "
        "is the advisor's test score minus the better peer's, in points (metric x 100).", "",
        *([f"With `--rerun {' '.join(rerun)}`: those columns are from this run; the others are the recorded run's of "
           "the same sets, splits and budget, on this machine.", ""] if rerun else []),
        *summary(rows, parse_duration(budget)),
        *table(rows),
    ])


if __name__ == "__main__":
    main()
