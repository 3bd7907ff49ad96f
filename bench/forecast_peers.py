"""The advisor's forecasts beside statsforecast's AutoETS, AutoARIMA and SeasonalNaive (issue 19).

    pip install -e '.[bench]'          # statsforecast and pmdarima: benchmark only
    python bench/forecast_peers.py [--budget 60s] [--series co2_monthly ...] [--results bench/results]

Per series of bench/forecast_corpus.py: the advisor runs as a user runs it, `advisor recommend
FILE --target value --horizon H --budget B --seed 0 --json` in a fresh process, timed to its exit;
its test-window forecasts are read from the run's test_forecast.csv. The peers fit on the same
history (every step before the last H of each series) with the calendar season and forecast the
same last H steps. Every tool is scored the same way: MASE with the calendar season, scaled by the
history before the test window (M4), the mean over a panel's series. The summary is each tool's
geometric mean of MASE relative to seasonal naive's. Goals: the advisor's geometric mean below every
peer's, and the advisor below seasonal naive on every series.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_line, run_advisor, write_results  # noqa: E402
from bench.forecast_corpus import CORPUS, Series, write_corpus  # noqa: E402
from tuners.forecast.measures import mase  # noqa: E402

PEERS = ("AutoETS", "AutoARIMA", "SeasonalNaive")
# Left out unless named with --series, and why (the results page says so):
LEFT_OUT = {"taylor": "half-hourly, 4,032 steps, season 48: statsforecast's AutoARIMA(season_length=48) had not "
                      "finished it after 10 minutes here; the advisor's own selection on it is in "
                      "bench/results/forecast_selection_w5.md"}


def _long(entry: Series) -> pd.DataFrame:
    """unique_id, ds (the step), y: each series in time order, as statsforecast takes it."""
    frame = entry.frame()
    if "series" not in frame:
        frame = frame.assign(series="series")
    time_column = [c for c in frame.columns if c not in ("series", "value")][0]
    frame = frame.sort_values(["series", time_column], kind="stable")
    frame["ds"] = frame.groupby("series").cumcount()
    return frame.rename(columns={"series": "unique_id", "value": "y"})[["unique_id", "ds", "y"]]


def _peers(long: pd.DataFrame, horizon: int, season: int) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    train = long[long.groupby("unique_id").cumcount(ascending=False) >= horizon]
    made = {"AutoETS": AutoETS(season_length=season), "AutoARIMA": AutoARIMA(season_length=season),
            "SeasonalNaive": SeasonalNaive(season_length=season)}
    forecasts, seconds = {}, {}
    for name, model in made.items():
        clock = time.perf_counter()
        found = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=train, h=horizon)
        seconds[name] = time.perf_counter() - clock
        forecasts[name] = found.rename(columns={found.columns[-1]: "prediction"})
    return forecasts, seconds


def _score(long: pd.DataFrame, predicted: dict[str, np.ndarray], horizon: int, season: int) -> float:
    """The mean over series of MASE on the last `horizon` steps, scaled by the steps before them."""
    scores = []
    for name, group in long.groupby("unique_id"):
        values = group["y"].to_numpy(dtype=float)
        scores.append(mase(values[-horizon:], predicted[str(name)], values[:-horizon], season))
    return float(np.mean(scores))


def _advisor(path: Path, entry: Series, budget: str, scratch: Path) -> tuple[dict, float, dict[str, np.ndarray]]:
    out = scratch / f"{entry.name}-run"
    shutil.rmtree(out, ignore_errors=True)  # a rerun's
    result, wall = run_advisor("recommend", str(path), "--target", "value", "--horizon", str(entry.horizon),
                               "--budget", budget, "--seed", "0", "--out", str(out))
    written = pd.read_csv(out / "test_forecast.csv")
    return result, wall, {str(k): g["prediction"].to_numpy() for k, g in written.groupby("series")}


def measure(entry: Series, path: Path, budget: str, scratch: Path) -> dict:
    long = _long(entry)
    horizon, season = entry.horizon, entry.season
    result, wall, ours = _advisor(path, entry, budget, scratch)
    if set(ours) == {"series"}:
        ours = {str(long["unique_id"].iloc[0]): ours["series"]}
    forecasts, seconds = _peers(long, horizon, season)
    row = {"series": entry.name, "about": entry.about, "steps": int(long.groupby("unique_id").size().min()),
           "count": int(long["unique_id"].nunique()), "horizon": horizon, "season": season,
           "advisor_season": result["forecast"]["season_length"], "family": result["family"],
           "frequency": result["forecast"]["frequency"], "advisor_wall_s": round(wall, 1),
           "mase": {"advisor": _score(long, ours, horizon, season)}, "seconds": {}}
    for name, found in forecasts.items():
        predicted = {str(k): g["prediction"].to_numpy() for k, g in found.groupby("unique_id")}
        row["mase"][name] = _score(long, predicted, horizon, season)
        row["seconds"][name] = round(seconds[name], 2)
    return row


def _geomean(values: list[float]) -> float:
    return math.exp(float(np.mean(np.log(values))))


def _table(rows: list[dict], budget: str) -> list[str]:
    tools = ("advisor", *PEERS)
    lines = ["| series | steps × series | H | season (advisor's) | advisor's family | " + " | ".join(
        f"{t} MASE" for t in tools) + " | advisor s | AutoETS s | AutoARIMA s |", "|" + " --- |" * (9 + len(PEERS))]
    for r in rows:
        best = min(r["mase"].values())
        cells = [f"**{r['mase'][t]:.3f}**" if r["mase"][t] == best else f"{r['mase'][t]:.3f}" for t in tools]
        lines.append(f"| {r['series']} | {r['steps']} × {r['count']} | {r['horizon']} | {r['season']} "
                     f"({r['advisor_season']}) | {r['family']} | " + " | ".join(cells) +
                     f" | {r['advisor_wall_s']} | {r['seconds']['AutoETS']} | {r['seconds']['AutoARIMA']} |")
    relative = {t: _geomean([r["mase"][t] / r["mase"]["SeasonalNaive"] for r in rows]) for t in tools}
    beaten = sum(r["mase"]["advisor"] < r["mase"]["SeasonalNaive"] for r in rows)
    lines += ["", "Geometric mean of MASE relative to seasonal naive (lower is better): " +
              ", ".join(f"{t} {v:.3f}" for t, v in relative.items()) + ".",
              f"The advisor below seasonal naive on {beaten} of {len(rows)} series.",
              f"Goals: the advisor's geometric mean below every peer's ("
              f"{'met' if all(relative['advisor'] < relative[t] for t in PEERS) else 'not met'}); below seasonal "
              f"naive on every series ({'met' if beaten == len(rows) else 'not met'}). Budget {budget}."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--series", nargs="*", help="names from bench/forecast_corpus.py (default: all)")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/forecast-peers"))
    args = parser.parse_args()
    chosen = [e for e in CORPUS if e.name in args.series] if args.series else [
        e for e in CORPUS if e.name not in LEFT_OUT]
    paths = write_corpus(args.scratch / "data")
    args.results.mkdir(parents=True, exist_ok=True)
    rows = []
    for entry in chosen:
        rows.append(measure(entry, paths[entry.name], args.budget, args.scratch))
        print(json.dumps(rows[-1]), flush=True)
    (args.results / "forecast.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    import statsforecast

    head = ["# The advisor's forecasts beside statsforecast (issue 19)", "",
            f"`python bench/forecast_peers.py --budget {args.budget}`. " + machine_line(
                statsforecast=statsforecast.__version__), "",
            "MASE on the last H steps of every series (the calendar season, scaled by the history before them; a "
            "panel's is the mean over its series). Bold: the lowest. The advisor chose its family by backtest on "
            "the steps before the test window; the peers fit on the same steps.", ""]
    left_out = [f"- {name}: {why}" for name, why in LEFT_OUT.items() if name not in {e.name for e in chosen}]
    write_results(args.results / "forecast.md", head + _table(rows, args.budget) + [
        "", "Series:", *[f"- {e.name}: {e.about}" for e in chosen]] + (["", "Left out:", *left_out] if left_out else []))


if __name__ == "__main__":
    main()
