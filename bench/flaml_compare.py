"""Quality at equal budget: the advisor end to end against FLAML's AutoML and against the default-
parameter model of the advisor's family, on the same splits with the same wall-clock budget.

    pip install -e '.[bench]'        # FLAML lives in the benchmark environment only
    python bench/flaml_compare.py [--budget 30s] [--datasets ...] [--results bench/results]

Splits: the advisor's own held-out test split (20%, seed 0), recomputed with the advisor's
functions, so FLAML trains on exactly the advisor's training rows and both are scored once on the
same test rows with the advisor's metric. FLAML gets the raw columns, as a user would hand them
over, `time_budget` = the advisor's tuning budget, and the advisor's metric to optimise. The
advisor's runs are reused from RESULTS/regret.json when it was run with the same budget and seed
(the pick's run there is exactly `advisor recommend FILE --budget B`); otherwise run here.

Normalised score per dataset: (score - constant predictor's) / (best of the three - constant
predictor's), so 1.0 is the best of advisor, FLAML and default there, 0.0 no better than always
predicting the majority class or the mean. Writes RESULTS/flaml_BUDGET.md and .json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import accuracy_score, balanced_accuracy_score, r2_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.jobs import parse_duration  # noqa: E402
from advisor.loading import load  # noqa: E402
from advisor.profiling import drop_missing_targets, profile as profile_dataset  # noqa: E402
from bench.common import ROOT, machine_line, write_results  # noqa: E402
from bench.corpus import ENTRIES, write_corpus  # noqa: E402
from bench.regret import tune_family  # noqa: E402
from tuners.data import prepare  # noqa: E402

METRICS = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score, "r2": r2_score}


def advisor_split(path: Path, seed: int, target: str | None = None):
    """(x_train, y_train, x_test, y_test, task) on the advisor's own split, raw columns."""
    dataset = load(path, target)
    profile = profile_dataset(dataset, seed=seed)
    clean, _ = drop_missing_targets(dataset)
    test = prepare(clean.frame, profile, seed).test_rows
    frame = clean.frame
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[test] = True
    x = frame.drop(columns=[profile.target])
    # pandas 3 keeps strings as Arrow arrays; FLAML's transformers expect NumPy-backed columns.
    x = x.astype({c: object for c in x.columns if x[c].dtype == "string" or x[c].dtype == "str"})
    y = frame[profile.target].to_numpy()
    task = "regression" if profile.task.value == "regression" else "classification"
    return x[~is_test], y[~is_test], x[is_test], y[is_test], task


def _balanced_accuracy_loss(X_val, y_val, estimator, *args, **kwargs):
    score = balanced_accuracy_score(y_val, estimator.predict(X_val))
    return 1 - score, {"balanced_accuracy": score}


def run_flaml(split, metric: str, budget_s: float, seed: int) -> dict:
    from flaml import AutoML

    x_train, y_train, x_test, y_test, task = split
    automl = AutoML()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(x_train, y_train, task=task, time_budget=budget_s, seed=seed, verbose=0, n_jobs=-1,
                   metric=_balanced_accuracy_loss if metric == "balanced_accuracy" else metric)
        predicted = automl.predict(x_test)
    return {"test_score": float(METRICS[metric](y_test, predicted)), "wall_s": time.perf_counter() - started,
            "best_estimator": automl.best_estimator}


def constant_score(split, metric: str) -> float:
    x_train, y_train, x_test, y_test, task = split
    model = DummyRegressor() if task == "regression" else DummyClassifier(strategy="most_frequent")
    model.fit(np.zeros((len(y_train), 1)), y_train)
    return float(METRICS[metric](y_test, model.predict(np.zeros((len(y_test), 1)))))


def normalised(score: float, floor: float, top: float) -> float:
    return 1.0 if top <= floor else (score - floor) / (top - floor)


def advisor_runs(results: Path, budget: str, seed: int) -> dict[str, dict]:
    """The pick's run per dataset from regret.json, when that used this budget and seed."""
    path = results / "regret.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    if raw["budget"] != budget or raw["seed"] != seed:
        return {}
    return {r["dataset"]: {**next(x for x in r["runs"] if x["family"] == r["pick"]), "decide_s": r["decide_s"]}
            for r in raw["records"] if any(x["family"] == r["pick"] and "test_score" in x for x in r["runs"])}


def compare(entries, budget: str, seed: int, results: Path, scratch: Path) -> list[dict]:
    budget_s = parse_duration(budget)
    reused = advisor_runs(results, budget, seed)
    rows = []
    for entry, path in entries:
        if entry.kind == "unlabelled":
            continue  # FLAML's AutoML has no clustering task
        advisor = reused.get(entry.name)
        if advisor is None:
            from advisor.pipeline import RecommendOptions, recommend

            started = time.perf_counter()
            family = recommend(RecommendOptions(data=path, tune=False, seed=seed, out=scratch / f"{entry.name}-d"))["family"]
            advisor = tune_family(path, family, budget_s, seed, scratch / entry.name)
            advisor["decide_s"] = time.perf_counter() - started - advisor.get("wall_s", 0)
        split = advisor_split(path, seed)
        metric = advisor.get("metric") or ("r2" if split[4] == "regression" else "accuracy")
        try:
            flaml = run_flaml(split, metric, budget_s, seed)
        except Exception as error:  # noqa: BLE001 - recorded in the table: what FLAML does with this data
            flaml = {"test_score": None, "wall_s": 0.0, "best_estimator": None,
                     "error": f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"}
        floor = constant_score(split, metric)
        scores = {"advisor": advisor.get("test_score"), "flaml": flaml["test_score"],
                  "default": advisor.get("default_test_score")}
        top = max([s for s in scores.values() if s is not None], default=floor)
        row = {"dataset": entry.name, "kind": entry.kind, "modality": entry.modality, "metric": metric,
               "family": advisor["family"], "scores": scores, "constant": floor,
               "normalised": {k: None if s is None else normalised(s, floor, top) for k, s in scores.items()},
               "advisor_wall_s": advisor.get("decide_s", 0) + advisor.get("wall_s", 0), "flaml_wall_s": flaml["wall_s"],
               "flaml_estimator": flaml["best_estimator"], "flaml_error": flaml.get("error"),
               "advisor_error": advisor.get("error")}
        rows.append(row)
        print(f"{entry.name:24} advisor {_num(scores['advisor'])}  flaml {_num(scores['flaml'])} "
              f"({flaml['best_estimator']})  default {_num(scores['default'])}"
              + "".join(f"  [{who}: {row[who + '_error']}]" for who in ("advisor", "flaml") if row[who + "_error"]),
              flush=True)
    return rows


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def table(rows: list[dict]) -> list[str]:
    both = [r for r in rows if r["scores"]["flaml"] is not None and r["scores"]["advisor"] is not None]
    if not both:
        return ["No dataset where both the advisor and FLAML produced a score."]
    medians = {k: statistics.median(r["normalised"][k] for r in both) for k in ("advisor", "flaml", "default")}
    wins = sum(1 for r in both if r["scores"]["advisor"] >= r["scores"]["flaml"])
    failed = [f"{r['dataset']} (FLAML: {r['flaml_error']})" for r in rows if r["scores"]["flaml"] is None] + [
        f"{r['dataset']} (advisor: {r['advisor_error']})" for r in rows if r["scores"]["advisor"] is None]
    lines = [
        f"**Median normalised test score over the {len(both)} datasets where both ran: advisor "
        f"{medians['advisor']:.3f}, FLAML {medians['flaml']:.3f}, default parameters {medians['default']:.3f}; "
        f"advisor / FLAML = {medians['advisor'] / medians['flaml']:.3f}. The advisor scored at least FLAML's test "
        f"score on {wins} of {len(both)}.**",
        "",
        *([f"No score (left out of the medians): {'; '.join(failed)}.", ""] if failed else []),
        "",
        "| dataset | kind | metric | advisor family | advisor test | FLAML test (learner) | default test | constant | "
        "normalised advisor / FLAML / default | advisor wall s | FLAML wall s |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        s, n = r["scores"], r["normalised"]
        learner = f" ({r['flaml_estimator']})" if r["flaml_estimator"] else " (failed)"
        lines.append(
            f"| {r['dataset']} | {r['kind']}, {r['modality']} | {r['metric']} | {r['family']} | {_num(s['advisor'])} | "
            f"{_num(s['flaml'])}{learner} | {_num(s['default'])} | {r['constant']:.4f} | "
            f"{' / '.join(_num(n[k]) for k in ('advisor', 'flaml', 'default'))} | {r['advisor_wall_s']:.0f} | "
            f"{r['flaml_wall_s']:.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", choices=[e.name for e in ENTRIES])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    try:
        import flaml
    except ImportError:
        raise SystemExit("FLAML is not installed: pip install -e '.[bench]' (the benchmark environment only).")
    entries = write_corpus(args.data, args.datasets)
    from tuners.ray_backend import ray_session

    with tempfile.TemporaryDirectory() as scratch, ray_session(None):
        rows = compare(entries, args.budget, args.seed, args.results, Path(scratch))
    args.results.mkdir(parents=True, exist_ok=True)
    stem = f"flaml_{args.budget}"
    (args.results / f"{stem}.json").write_text(json.dumps({"budget": args.budget, "seed": args.seed, "rows": rows},
                                                          indent=1), encoding="utf-8")
    import sklearn

    write_results(args.results / f"{stem}.md", [
        f"# The advisor against FLAML at an equal budget ({args.budget})",
        "",
        machine_line(flaml=flaml.__version__, **{"scikit-learn": sklearn.__version__}),
        f"Command: `python bench/flaml_compare.py --budget {args.budget} --seed {args.seed}`",
        "",
        f"Same training rows, same test rows (the advisor's seeded 20% split), same metric, {args.budget} of "
        "tuning each: the advisor's `--budget`, FLAML's `time_budget`. `advisor test` is `advisor recommend FILE` "
        "end to end (the rules' family, tuned); `default test` is that family with its library defaults on the "
        "same rows; `constant` always predicts the training majority class or mean. Wall times are whole runs "
        "(the advisor's includes loading, profiling, the probe, the final refit and export; FLAML's its fit and "
        "predict). Both used this machine's 2 cores, one run at a time.",
        "",
        *table(rows),
    ])


if __name__ == "__main__":
    main()
