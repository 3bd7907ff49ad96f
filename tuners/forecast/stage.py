"""The forecast task's tune stage: every forecaster's configurations scored by rolling-origin
backtest, the simplest model family within one standard error of the lowest mean MASE chosen, then
scored once on the test window (the last `horizon` steps of every series, fitted on all steps
before it) beside the naive and seasonal naive baselines, and its configuration exported for
`advisor predict`.

Most forecasters are cheap beside the budget (a fit is milliseconds to a second), so every family
is measured rather than picked by rules alone: the rules' ranking sets the order they are tried in
(and whether the recurrent net joins), the backtest decides. Trials start only while the budget
has room for them and the test fit. They run in the job's own process; Ray Tune does not schedule
them yet.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError
from advisor.events import BestSoFar, OnEvent, StageFinished, StageStarted, TrialFinished
from advisor.types import Profile
from tuners.forecast.backtest import backtest, score
from tuners.forecast.intervals import widths
from tuners.forecast.measures import default_horizon, final_window, mase_scale, windows
from tuners.forecast.models import FORECASTERS
from tuners.forecast.panel import Panel, panel_of

STAGE = "backtest"
BASELINES = ("naive", "seasonal_naive")
COMBINATION = "combination"
COMBINED = 3  # families whose best configurations the combination averages
DUEL_WINDOWS = 2  # the duel backtests on the latest windows only (on a random half of their training windows)
PLOTTED_SERIES = 4
METRIC_REASON = ("a forecast: MASE, the mean absolute error over the horizon divided by the series' in-sample mean "
                 "absolute seasonal difference (M4's definition); 1 is as good as the seasonal naive forecast within "
                 "the history, lower is better. sMAPE is reported beside it.")
MODEL_FILE = "forecast.json"


@dataclasses.dataclass(frozen=True)
class ForecastSettings:
    budget_s: float
    seed: int = 0
    horizon: int | None = None
    family: str | None = None  # one forecaster (and the baselines) instead of all
    order: tuple[str, ...] = ()  # the rules' ranking: these forecasters are tried first


def horizon_of(panel: Panel, asked: int | None) -> tuple[int, str]:
    if asked is not None:
        if asked < 1:
            raise InputError(f"--horizon {asked}: forecast at least 1 step.")
        return asked, "--horizon"
    found = default_horizon(panel.season_length, min(panel.lengths))
    why = "one season" if panel.season_length > 1 else "10% of the shortest series (at least 1 step)"
    return found, f"the default: {why}"


def _check_series(panel: Panel, horizon: int) -> None:
    """A series constant before its test window has no MASE scale: refused, by name."""
    for name, values in zip(panel.ids, panel.values):
        try:
            mase_scale(values[:-horizon], panel.season_length)
        except InputError as error:
            raise InputError(f"series {name!r}: {error}") from None


def _candidates(settings: ForecastSettings) -> list[str]:
    nameable = [n for n, f in FORECASTERS.items() if f.kind not in ("baseline", "combination")]
    if settings.family is not None and settings.family not in nameable:
        names = ", ".join(nameable)
        raise InputError(f"{settings.family!r} is no forecaster here: name one of {names} (--forecaster; --family for "
                         "the families among them), or leave both out and every forecaster is measured.")
    wanted = [settings.family] if settings.family else [
        n for n, f in FORECASTERS.items() if n not in BASELINES and (not f.asked_only or n in settings.order)]
    cheap = [n for n in wanted if FORECASTERS[n].kind == "statistical"]  # a second or less: before the lag grids
    first = [n for n in settings.order if n in wanted and n not in cheap]
    return list(BASELINES) + cheap + first + [n for n in wanted if n not in cheap + first]


def run_trials(panel: Panel, spans, horizon: int, settings: ForecastSettings, ends: float,
               on_event: OnEvent) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every candidate's configurations in turn while the budget lasts (the baselines always), then the
    combination of the best families: (the trials, the duels by family). Public for
    bench/forecast_selection.py, which compares ways of choosing over the same trials."""
    shortest = min(s[0] for s in spans[0])
    trials: list[dict[str, Any]] = []
    duels: dict[str, dict[str, Any]] = {}
    for name in _candidates(settings):
        forecaster = FORECASTERS[name]
        configs = _with_covariates(forecaster, forecaster.space(panel.season_length, shortest, horizon), panel)
        duel_spans = spans[-DUEL_WINDOWS:]
        if forecaster.duel is not None and time.time() + 2 * len(duel_spans) * forecaster.fit_seconds < ends:
            duels[name] = _duel(trials, name, forecaster.duel(panel.season_length, shortest, horizon), panel,
                                duel_spans, settings.seed, on_event)
            configs = [c for c in configs if c.get("cell") == duels[name]["winner"]]
        elif forecaster.duel is not None:
            configs = []  # no time for the duel: the family is not backtested
        cost = max([len(spans) * forecaster.fit_seconds,  # a bounded fit's most, and the duel's
                    *(t.get("seconds", 0.0) for t in trials if t["family"] == name)])
        for config in configs:
            if name not in BASELINES and time.time() + cost + _refit_reserve(trials, spans) > ends:
                break
            cost = max(cost, _trial(trials, name, config, panel, spans, settings.seed, on_event).get("seconds", 0.0))
    members = _members(trials)
    if settings.family is None and len(members) > 1:
        cost = sum(next(t["seconds"] for t in trials if t["config"] is m["config"]) for m in members)
        if time.time() + cost <= ends:
            _trial(trials, COMBINATION, {"members": members}, panel, spans, settings.seed, on_event)
    return trials, duels


def _with_covariates(forecaster, configs: list[dict[str, Any]], panel: Panel) -> list[dict[str, Any]]:
    """With covariates in the table, a forecaster that reads them tries each configuration without and then
    with them: the backtest decides whether they help."""
    if not panel.covariates or not forecaster.reads_covariates:
        return configs
    return [c for config in configs for c in (config, {**config, "covariates": True})]


def _refit_reserve(trials: list[dict[str, Any]], spans) -> float:
    """Time kept for the test fit after the search: the slowest trial's fit of one window."""
    return max((t.get("seconds", 0.0) for t in trials), default=0.0) / len(spans)


def _duel(trials: list[dict[str, Any]], name: str, configs: list[dict[str, Any]], panel: Panel, spans, seed: int,
          on_event: OnEvent) -> dict[str, Any]:
    """The pre-search step: each cell trained on the same seeded share of the windows and backtested;
    the lower mean MASE wins (seed 001: 'try both, only on a random subset of the data')."""
    ran = [_trial(trials, name, config, panel, spans, seed, on_event) for config in configs]
    scores = {t["config"]["cell"]: t["score"] for t in ran}
    finite = {cell: value for cell, value in scores.items() if value is not None}
    winner = min(finite, key=finite.get) if finite else configs[0]["cell"]
    reason = (f"{winner} had the lower mean backtest MASE ({finite[winner]:.4f} against "
              f"{', '.join(f'{c} {v:.4f}' for c, v in finite.items() if c != winner) or 'none'}), both trained on the "
              f"same seeded {configs[0]['subset']:.0%} of the training windows and backtested on the latest "
              f"{len(spans)}" if finite else "neither cell could be fitted")
    return {"subset_share": configs[0]["subset"], "windows": len(spans), "seed": seed, "scores": scores,
            "winner": winner,
            "reason": reason, "trials": [t["trial_id"] for t in ran]}


def _trial(trials: list[dict[str, Any]], name: str, config: dict[str, Any], panel: Panel, spans, seed: int,
           on_event: OnEvent) -> dict[str, Any]:
    """One configuration backtested, appended to `trials`, and its events sent."""
    best = min((t["score"] for t in trials if t["score"] is not None), default=None)
    trial = {"trial_id": f"{len(trials):03d}", "family": name, "config": config}
    try:
        trial.update(backtest(FORECASTERS[name], config, panel, spans, seed), status="completed")
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as error:
        trial.update(score=None, status="failed", error=str(error).splitlines()[0][:200])
    trials.append(trial)
    done = sum(t["status"] == "completed" for t in trials)
    on_event(TrialFinished(STAGE, trial["trial_id"], trial["status"], trial["score"],
                           {"running": 0, "done": done, "failed": len(trials) - done}))
    if trial["score"] is not None and (best is None or trial["score"] < best):
        on_event(BestSoFar(STAGE, trial["score"]))
    return trial


def _members(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The best configuration of each of the COMBINED best model families (no baseline), best first."""
    best: dict[str, dict[str, Any]] = {}
    for t in trials:
        if t["score"] is not None and t["family"] not in BASELINES and (
                t["family"] not in best or t["score"] < best[t["family"]]["score"]):
            best[t["family"]] = t
    ranked = sorted(best.values(), key=lambda t: t["score"])[:COMBINED]
    return [{"family": t["family"], "config": t["config"]} for t in ranked]


def choose(trials: list[dict[str, Any]], family: str | None) -> dict[str, Any]:
    """The best configuration of the simplest model family (FORECASTERS' order: statistical, lag models,
    the combination) within one standard error of the lowest mean backtest MASE; a baseline only when
    it is the lowest itself; of --family's configurations when it names one. Over 12 real series
    (bench/results/forecast_selection_w5.md) this left the test MASE at 0.595 of seasonal naive's
    (geometric mean) and below it on 11 series, where the lowest alone did at 0.625 (10), and the
    simplest family with the baselines among them at 0.603 (10)."""
    scored = [t for t in trials if t["score"] is not None and family in (None, t["family"])]
    if not scored and family is not None:
        raise InputError(f"{family}: no configuration was backtested within the budget. Give a larger --budget.")
    if not scored:
        raise InputError("no forecaster could be fitted on these series; check them for gaps and constant stretches.")
    lowest = min(scored, key=lambda t: (t["score"], t["seconds"]))
    near = [t for t in scored if t["score"] <= lowest["score"] + lowest["sem"] and t["family"] not in BASELINES]
    if lowest["family"] in BASELINES or not near:
        return lowest
    simplest = min(near, key=lambda t: list(FORECASTERS).index(t["family"]))["family"]
    return min((t for t in near if t["family"] == simplest), key=lambda t: (t["score"], t["seconds"]))


def _because(chosen: dict[str, Any], trials: list[dict[str, Any]], windows_count: int, family: str | None) -> str:
    yardstick = min((t for t in trials if t["family"] == "seasonal_naive" and t["score"] is not None),
                    key=lambda t: t["score"], default=None)
    against = f", against {yardstick['score']:.4f} for seasonal naive" if yardstick else ""
    lowest = min((t for t in trials if t["score"] is not None and family in (None, t["family"])),
                 key=lambda t: t["score"])
    rule = ("the lowest mean MASE" if lowest is chosen else
            f"the simplest model family within one standard error of the lowest ({lowest['family']}, "
            f"{lowest['score']:.4f})")
    return (f"{rule} over {windows_count} backtest window(s): {chosen['score']:.4f} "
            f"(standard error {chosen['sem']:.4f}){against}: {FORECASTERS[chosen['family']].why}.")


def family_scores(trials: list[dict[str, Any]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for t in trials:
        if t["score"] is not None:
            best[t["family"]] = min(best.get(t["family"], np.inf), t["score"])
    return {k: round(v, 6) for k, v in sorted(best.items(), key=lambda kv: kv[1])}


def _lag_linearity(trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The probe on lags, by backtest: ridge against boosting on the same windows; linear when the ridge's
    best is within one standard error of boosting's best, or below it."""
    best = {}
    for t in trials:
        if t["score"] is not None and FORECASTERS[t["family"]].kind == "lags" and (
                t["family"] not in best or t["score"] < best[t["family"]]["score"]):
            best[t["family"]] = t
    linear, nonlinear = best.get("linear"), best.get("boosting")
    if linear is None or nonlinear is None:
        return None
    return {"linear_mase": round(linear["score"], 6), "nonlinear_mase": round(nonlinear["score"], 6),
            "linear": linear["score"] <= nonlinear["score"] + max(linear["sem"], nonlinear["sem"])}


def _stamp(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value.item() if hasattr(value, "item") else value


def _windows_shown(panel: Panel, spans) -> list[dict[str, Any]]:
    """Each backtest window's first and last step, by time, in the first series."""
    stamps = panel.stamps[0]
    return [{"start": _stamp(stamps.iloc[s[0][0]]), "end": _stamp(stamps.iloc[s[0][1] - 1]), "steps": s[0][1] - s[0][0]}
            for s in spans]


def _test_shown(panel: Panel, test_spans, forecasts, horizon: int) -> list[dict[str, Any]]:
    shown = []
    for k in range(min(PLOTTED_SERIES, len(panel.ids))):
        start, end = test_spans[k]
        past = max(0, start - 4 * max(horizon, panel.season_length))
        stamps = panel.stamps[k]
        shown.append({"series": panel.ids[k], "history_time": [_stamp(v) for v in stamps.iloc[past:start]],
                      "history": panel.values[k][past:start].round(6).tolist(),
                      "time": [_stamp(v) for v in stamps.iloc[start:end]],
                      "actual": panel.values[k][start:end].round(6).tolist(),
                      "predicted": np.round(forecasts[k], 6).tolist()})
    return shown


def tune_forecast(frame: pd.DataFrame, profile: Profile, settings: ForecastSettings, run_dir: Path,
                  on_event: OnEvent | None = None) -> dict[str, Any]:
    """The run's forecast: result.json's sections ("family", "best", "trials", "baselines", "forecast",
    "model", "tuning", "wall_s"), with the model and the test window's forecasts written to `run_dir`."""
    send = on_event or (lambda event: None)
    started, ends = time.perf_counter(), time.time() + settings.budget_s
    panel = panel_of(frame, profile.target, profile.forecast)
    horizon, horizon_reason = horizon_of(panel, settings.horizon)
    spans = windows(panel.lengths, horizon, panel.season_length)
    if not spans:
        raise InputError(f"a horizon of {horizon} steps leaves no backtest window before the test window in the "
                         f"shortest series ({min(panel.lengths)} steps). Give a shorter --horizon.")
    _check_series(panel, horizon)
    send(StageStarted(STAGE, settings.budget_s))
    trials, duels = run_trials(panel, spans, horizon, settings, ends, send)
    send(StageFinished(STAGE, len(trials)))
    chosen = choose(trials, settings.family)
    test_spans = final_window(panel.lengths, horizon)
    tested = {name: score(FORECASTERS[name], {}, panel, test_spans, settings.seed) for name in BASELINES}
    final = score(FORECASTERS[chosen["family"]], chosen["config"], panel, test_spans, settings.seed)
    spread = widths(chosen["_errors"])
    for trial in trials:
        trial.pop("_errors", None)  # arrays for the intervals, not for result.json
    model = export(run_dir / "model", chosen, profile, horizon, spread)
    _write_test_forecasts(run_dir / "test_forecast.csv", panel, test_spans, final, tested)
    wall = round(time.perf_counter() - started, 2)
    forecast = {"horizon": horizon, "horizon_reason": horizon_reason, "season_length": panel.season_length,
                "season_reason": profile.forecast.season_reason, "frequency": profile.forecast.frequency,
                "time_column": profile.forecast.time_column, "series_column": profile.forecast.series_column,
                "series": len(panel.ids), "lengths": profile.forecast.lengths, "windows": _windows_shown(panel, spans),
                "covariates": list(panel.covariate_names), "covariates_used": _reads_covariates(chosen["config"]),
                "family_scores": family_scores(trials), "lag_linearity": _lag_linearity(trials),
                "smape": {"model": round(final.smape, 4), **{name: round(s.smape, 4) for name, s in tested.items()}},
                "test": _test_shown(panel, test_spans, final.forecasts, horizon)}
    tuning = {"metric": "mase", "metric_reason": METRIC_REASON, "backend": "in_process", "search": "grid",
              "validation": f"rolling origin: {len(spans)} backtest window(s) of {horizon} steps before the test "
                            "window, each fitted only on the steps before it",
              "budget_s": settings.budget_s, "wall_s": wall, "trials_run": len(trials)}
    best = _best(chosen, final, tested, trials, len(spans), settings.family)
    duel = {"duel": next(iter(duels.values()))} if duels else {}
    yardstick = tested["seasonal_naive"]
    baseline = {"family": "seasonal_naive", "config": {}, "label": "for seasonal naive",
                "test_score": round(yardstick.mase, 6),
                "test_metrics": {"mase": round(yardstick.mase, 6), "smape": round(yardstick.smape, 4)}}
    return {"family": chosen["family"], "best": best, "trials": trials, "model": model, "baseline": baseline,
            "baselines": {name: round(s.mase, 6) for name, s in tested.items()},
            "forecast": forecast, "tuning": tuning, "wall_s": wall, **duel}


def _best(chosen: dict[str, Any], final, tested, trials: list[dict[str, Any]], windows_count: int,
          family: str | None) -> dict[str, Any]:
    yardstick = tested["seasonal_naive"].mase
    return {"family": chosen["family"], "config": chosen["config"], "metric": "mase", "trial_id": chosen["trial_id"],
            "validation_score": round(chosen["score"], 6), "validation_sem": round(chosen["sem"], 6),
            "test_score": round(final.mase, 6), "test_smape": round(final.smape, 4), "lower_is_better": True,
            "relative_to_seasonal_naive": round(final.mase / yardstick, 4) if yardstick > 0 else None,
            "chosen_because": _because(chosen, trials, windows_count, family)}


def export(folder: Path, chosen: dict[str, Any], profile: Profile, horizon: int,
           spread: dict[str, list[float]]) -> dict[str, str]:
    """The chosen forecaster and configuration, and its intervals' half-widths in series scales
    (tuners/forecast/intervals.py); `advisor predict` fits it on the history it is given."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = profile.forecast
    manifest = {"format": "forecast", "task": "forecast", "family": chosen["family"], "config": chosen["config"],
                "horizon": horizon, "season_length": shape.season_length, "frequency": shape.frequency,
                "time_column": shape.time_column, "series_column": shape.series_column, "target": profile.target,
                "library": _library(chosen), "intervals": spread,
                "covariates": list(shape.covariates) if _reads_covariates(chosen["config"]) else []}
    (folder / MODEL_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {"path": str(folder), "format": "forecast"}


def _reads_covariates(config: dict[str, Any]) -> bool:
    """Whether a configuration (or a combination's member) reads the covariates."""
    return bool(config.get("covariates")) or any(_reads_covariates(m["config"]) for m in config.get("members", []))


def _library(trial: dict[str, Any]) -> str:
    members = trial["config"].get("members", [])
    names = [FORECASTERS[m["family"]].library for m in members] or [FORECASTERS[trial["family"]].library]
    return ", ".join(dict.fromkeys(names))


def _write_test_forecasts(path: Path, panel: Panel, spans, final, tested) -> None:
    rows = []
    for k, (start, end) in enumerate(spans):
        rows.append(pd.DataFrame({"series": panel.ids[k], "time": panel.stamps[k].iloc[start:end].to_numpy(),
                                  "actual": panel.values[k][start:end], "prediction": final.forecasts[k],
                                  **{name: s.forecasts[k] for name, s in tested.items()}}))
    pd.concat(rows, ignore_index=True).to_csv(path, index=False)
