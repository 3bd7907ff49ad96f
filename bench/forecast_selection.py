"""How the forecast stage should choose (issue 19): every family's best backtested configuration, and
the combination of the best three, scored on the test window of every corpus series, and the
choice each policy would have made.

    python bench/forecast_selection.py [--windows 3] [--also arima] [--results bench/results]

Per series of bench/forecast_corpus.py (with the calendar season and horizon of
bench/forecast_peers.py): the stage's backtest on W windows before the last-H test window
(tuners/forecast/stage.py's trials, no time limit), then each family's best configuration and the
combination fitted on all steps before the test window and scored on it (MASE, the calendar season).
Policies: `lowest` (the lowest mean backtest MASE: the stage's rule), `combination` (always the
mean of the three best families), the simplest family (in FORECASTERS' order) within one standard
error of the lowest, and `seasonal_naive`. The recurrent net is left out (the stage backtests it
when the rules rank it; here it would cost minutes a series); `--also NAME...` adds forecasters the stage
runs only when asked (ARIMA: the measurement that left it out of the default set). The summary is each policy's geometric mean of
test MASE relative to seasonal naive's, and on how many series it is below seasonal naive.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_line, write_results  # noqa: E402
from bench.forecast_corpus import CORPUS  # noqa: E402
from advisor.loading import load  # noqa: E402
from advisor.profiling import profile  # noqa: E402
from tuners.forecast import stage  # noqa: E402
from tuners.forecast.backtest import score  # noqa: E402
from tuners.forecast.measures import final_window, mase, windows  # noqa: E402
from tuners.forecast.models import FORECASTERS  # noqa: E402
from tuners.forecast.panel import panel_of  # noqa: E402


def _test_mase(panel, name: str, config: dict, horizon: int, season: int) -> float:
    spans = final_window(panel.lengths, horizon)
    found = score(FORECASTERS[name], config, panel, spans, seed=0)
    return float(np.mean([mase(v[s:e], f, v[:s], season) for v, f, (s, e) in zip(panel.values, found.forecasts,
                                                                                  spans)]))


def measure(entry, folder: Path, most: int, also: tuple[str, ...] = ()) -> dict:
    path = folder / f"{entry.name}.csv"
    entry.frame().to_csv(path, index=False)
    dataset = load(path, "value")
    shape = profile(dataset, task=None).forecast
    panel = panel_of(dataset.frame, "value", shape)
    horizon = entry.horizon
    spans = windows(panel.lengths, horizon, panel.season_length, most=most)
    settings = stage.ForecastSettings(budget_s=1e9, seed=0, horizon=horizon, order=also)
    trials, _ = stage.run_trials(panel, spans, horizon, settings, math.inf, lambda event: None)
    best = {}
    for t in trials:
        if t["score"] is not None and (t["family"] not in best or t["score"] < best[t["family"]]["score"]):
            best[t["family"]] = t
    tests = {name: _test_mase(panel, name, t["config"], horizon, entry.season) for name, t in best.items()}
    lowest = min(best.values(), key=lambda t: t["score"])["family"]
    floor = best[lowest]["score"] + best[lowest]["sem"]
    simplest = next(n for n in FORECASTERS if n in best and best[n]["score"] <= floor)
    models = next((n for n in FORECASTERS if n in best and n not in stage.BASELINES and best[n]["score"] <= floor),
                  lowest)
    return {"series": entry.name, "windows": len(spans), "backtest": {n: t["score"] for n, t in best.items()},
            "sem": {n: t["sem"] for n, t in best.items()}, "test": tests, "lowest": lowest, "simplest": simplest,
            "simplest_model": models if lowest not in stage.BASELINES else lowest,
            "stage": stage.choose(trials, None)["family"]}


def _geomean(values) -> float:
    return math.exp(float(np.mean(np.log(list(values)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/forecast-selection"))
    parser.add_argument("--also", nargs="+", default=[], choices=[n for n, f in FORECASTERS.items() if f.asked_only],
                        help="forecasters the stage runs only when asked, backtested here beside the others")
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    rows = [measure(entry, args.scratch, args.windows, tuple(args.also)) for entry in CORPUS]
    stem = f"forecast_selection_w{args.windows}" + "".join(f"_{n}" for n in args.also)
    policies = {"lowest": lambda r: r["test"][r["lowest"]], "combination": lambda r: r["test"]["combination"],
                "simplest within one standard error": lambda r: r["test"][r["simplest"]],
                "simplest model within one standard error (a baseline only when it is the lowest)":
                    lambda r: r["test"][r["simplest_model"]],
                "the stage's choice (tuners/forecast/stage.py)": lambda r: r["test"][r["stage"]],
                "seasonal_naive": lambda r: r["test"]["seasonal_naive"]}
    lines = [f"# Choosing a forecaster: the backtest's lowest against the combination ({args.windows} windows)", "",
             f"`python bench/forecast_selection.py --windows {args.windows}"
             f"{' --also ' + ' '.join(args.also) if args.also else ''}`. " + machine_line(), "",
             "Test MASE (calendar season) of each family's best backtested configuration; the family the backtest "
             "chose (lowest mean backtest MASE) in bold.", "",
             "| series | windows | " + " | ".join(FORECASTERS) + " |", "|" + " --- |" * (2 + len(FORECASTERS))]
    for r in rows:
        cells = [(f"**{r['test'][n]:.3f}**" if n == r["lowest"] else f"{r['test'][n]:.3f}") if n in r["test"] else "-"
                 for n in FORECASTERS]
        lines.append(f"| {r['series']} | {r['windows']} | " + " | ".join(cells) + " |")
    lines += ["", "| policy | geometric mean of test MASE / seasonal naive's | series below seasonal naive |",
              "| --- | --- | --- |"]
    for name, pick in policies.items():
        relative = [pick(r) / r["test"]["seasonal_naive"] for r in rows]
        lines.append(f"| {name} | {_geomean(relative):.3f} | {sum(v < 1 for v in relative)} of {len(rows)} |")
    write_results(args.results / f"{stem}.md", lines)
    (args.results / f"{stem}.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
