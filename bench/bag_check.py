"""Boosting's kept model: always the bag of 5, always one model, or what the bag check picks
(tuners/bagging.py: one model replaces the bag where it beats it on folds of the check's own by more
than MARGIN_SE standard errors of their fold-by-fold differences), and that margin swept.

    python bench/bag_check.py [--datasets chirps_wide parabolic ...] [--seeds 0 1] [--sampled 1]

On the boosting sets of bench/boosting_refit.py, each through the advisor's own Problem (its split,
folds and preprocessing) for each seed: XGBoost's defaults, the seeds' start and --sampled
configurations from the family's space. Each is scored by the 5-fold cross-validation as one model
(what a trial reports), then handed to the check as the run's finish hands it the chosen trial
(no time limit here, so it runs on every set), then fitted both ways on every training row and
scored on the test split. Written to bench/results/bag_check.md."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.loading import load  # noqa: E402
from advisor.profiling import profile  # noqa: E402
from advisor.types import Family  # noqa: E402
from bench.boosting_refit import SETS  # noqa: E402
from bench.common import machine_line, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.tables import write_tables  # noqa: E402
from tuners.bagging import MARGIN_SE, choose_bag, one_model_wins  # noqa: E402
from tuners.data import prepare  # noqa: E402
from tuners.evaluation import evaluate_with  # noqa: E402
from tuners.families import FAMILIES, boosting  # noqa: E402
from tuners.metrics import score  # noqa: E402
from tuners.records import TrialRecord  # noqa: E402


def _one_model_trial(definition, config, problem) -> TrialRecord:
    """The configuration's trial as a search records it: one model's mean score over the folds."""
    reports: list[dict] = []
    started = time.perf_counter()
    evaluate_with(definition, config, reports.append, problem)
    seconds = time.perf_counter() - started
    return TrialRecord("t", "random", config, reports[-1]["score"], "completed", None, None, seconds, len(problem.splits))


def _test(config, problem, bag: int) -> float:
    model = boosting.build(config, problem)
    if bag:
        model.set_params(model__bag=bag)
    return score(problem.metric, model.fit(problem.x_train, problem.y_train), problem.x_test, problem.y_test)


def measure(entry, path: Path, seed: int, sampled: int) -> list[dict]:
    dataset = load(path, entry.target)
    problem = prepare(dataset.frame, profile(dataset, seed=seed), seed)
    family = FAMILIES[Family.BOOSTING]
    space, rng = family.space(problem), np.random.default_rng(seed)
    configs = [("defaults", family.defaults(problem)), ("start", space.start),
               *((f"sampled {i + 1}", space.sample(rng)) for i in range(sampled))]
    rows = []
    for name, config in configs:
        trial = _one_model_trial(family, config, problem)
        started = time.perf_counter()
        choice = choose_bag(family, config, trial, problem, budget_s=float("inf"), until=None)
        row = {"set": entry.name, "seed": seed, "metric": problem.metric, "config": name,
               "cv_one": choice.check["one"], "cv_bag": choice.check["bag"], "sem": choice.check["sem"],
               "kept": choice.check["kept"],
               "check_s": time.perf_counter() - started, "fit_s": trial.seconds / len(problem.splits),
               "test_one": _test(config, problem, 0), "test_bag": _test(config, problem, boosting.BAG)}
        row["test_check"] = row["test_bag"] if row["kept"] == "bag" else row["test_one"]
        rows.append(row)
        print(f"{entry.name:14} seed {seed} {name:10} cv one {row['cv_one']:.4f} bag {row['cv_bag']:.4f} -> "
              f"{row['kept']:3}  test one {row['test_one']:.4f} bag {row['test_bag']:.4f}  check {row['check_s']:.1f} s",
              flush=True)
    return rows


def summary(rows: list[dict]) -> list[str]:
    def points(key: str) -> list[float]:
        return [100 * (r[key] - r["test_bag"]) for r in rows]

    check, one = points("test_check"), points("test_one")
    keys = sorted({(r["set"], r["seed"]) for r in rows})
    per_set = {k: statistics.mean(100 * (r["test_check"] - r["test_bag"]) for r in rows if (r["set"], r["seed"]) == k)
               for k in keys}
    kept_one = sum(r["kept"] == "one" for r in rows)
    ratio = statistics.median(r["check_s"] / r["fit_s"] for r in rows if r["fit_s"] > 0)
    return [f"**Against always keeping the bag, test points over {len(rows)} configurations ({len(keys)} set-splits): "
            f"the check's pick {statistics.mean(check):+.2f} on average (median {statistics.median(check):+.2f}, "
            f"{min(check):+.2f} to {max(check):+.2f}); always one model {statistics.mean(one):+.2f} on average "
            f"(median {statistics.median(one):+.2f}). The check kept one model for {kept_one} of {len(rows)}; it costs "
            f"{ratio:.0f} fits of a fold's rows at the median.**", "",
            "Mean test gain of the check's pick over the bag per set and split, points: "
            + ", ".join(f"{s} (seed {seed}) {v:+.2f}" for (s, seed), v in sorted(per_set.items(), key=lambda kv: kv[1])
                        if v) + " (others 0).", ""]


MARGINS = (0.0, 0.25, 0.5, 1.0)


def margins(rows: list[dict]) -> list[str]:
    """The check's pick with one model needing to win by each margin (in paired standard errors),
    over every configuration and over the defaults and the seeds' start alone."""
    lines = ["| one model kept where it wins by more than | test points against the bag, average | "
             "the same, defaults and start | one model kept | worst, defaults and start |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for margin in MARGINS:
        ones = [one_model_wins(r["cv_one"], r["cv_bag"], r["sem"], margin) for r in rows]
        gains = [(r, 100 * ((r["test_one"] if one else r["test_bag"]) - r["test_bag"])) for r, one in zip(rows, ones)]
        anchors = [g for r, g in gains if not r["config"].startswith("sampled")]
        kept = sum(ones)
        mark = " (as landed)" if margin == MARGIN_SE else ""
        lines.append(f"| {margin:g} s.e.{mark} | {statistics.mean(g for _, g in gains):+.2f} | "
                     f"{statistics.mean(anchors):+.2f} | {kept} of {len(rows)} | {min(anchors):+.2f} |")
    return lines + [""]


def table(rows: list[dict]) -> list[str]:
    lines = ["| set | seed | metric | configuration | CV, one | CV, bag | paired s.e. | kept | test, one | test, bag | "
             "check s |", "| --- | ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    lines += [f"| {r['set']} | {r['seed']} | {r['metric']} | {r['config']} | {r['cv_one']:.4f} | {r['cv_bag']:.4f} | "
              f"{r['sem']:.4f} | {r['kept']} | {r['test_one']:.4f} | {r['test_bag']:.4f} | {r['check_s']:.1f} |"
              for r in rows]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--sampled", type=int, default=1, help="configurations drawn from the space per set")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "bag_check.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        for entry, path in write_corpus(Path(folder), args.datasets) + write_tables(Path(folder), args.datasets):
            for seed in args.seeds:
                rows += measure(entry, path, seed, args.sampled)
    import xgboost

    seeds = " ".join(map(str, args.seeds))
    write_results(args.results, [
        "# Boosting's kept model: the bag, one model, or the bag check's pick", "",
        machine_line(xgboost=xgboost.__version__)
        + f" Command: `python bench/bag_check.py --seeds {seeds} --sampled {args.sampled}`", "",
        "The check (tuners/bagging.py) fits the configuration as a bag of 5 and as one model on each of 5 folds "
        f"of its own (the next seed's) and keeps one model only where it beats the bag by more than {MARGIN_SE:g} "
        "standard error of their fold-by-fold differences (MARGIN_SE). In a run it runs only where it takes at most "
        "a tenth of the budget; here it ran on every set.", "",
        "The first rule tried kept the bag wherever its cross-validated score was at least one model's: on the same "
        "84 configurations it gained +0.24 test points on average (chirps_wide's second split +5.83) but lost on "
        "attrition's second split (-1.45), mcycle's first (-0.92) and hpc_data's second (-0.49), and in "
        "bench/peers.py's first split mcycle scored 0.613 with it, 0.649 before. Asking one model to win beyond the "
        "fold-by-fold noise on the search's own folds switched 3 of these 84 and lost nowhere here, but in a "
        "run the chosen configuration's one-model score there is the luckiest of many (mcycle's first split kept "
        "one model, 0.6965 against the bag's 0.6732, and scored 0.610 on the test rows): the check now draws "
        "folds of its own. A set-split where it loses (hpc_data's first) is too large for it at a 30 s budget.", "",
        *summary(rows), "The margin one model must win by, swept over the same rows:", "", *margins(rows),
        *table(rows), ""])


if __name__ == "__main__":
    main()
