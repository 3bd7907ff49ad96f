"""The one place that wires the stages: load -> profile -> rules -> tune -> report."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from advisor import __version__
from advisor.errors import InputError
from advisor.thresholds import RACE_MAX_POINT_GAP
from advisor.loading import load, training_arrays
from advisor.profiling import drop_missing_targets, profile as profile_dataset
from advisor.events import OnEvent, RunFailed, RunFinished, RunStarted
from advisor.types import Family, Task, to_jsonable
from advisor.writing import write_rows
from reports import write_report
from rules import RULES, Decision, contenders, decide, settle
from rules.catalog import SUPERVISED
from tuners.backends import BACKENDS
from tuners.tasks import TASKS

DEFAULT_RUNS_FOLDER = "advisor-runs"
# result.json's layout: 2 adds schema_version, tuning.defaults and best.anchor (keys are only ever added).
SCHEMA_VERSION = 2
FINISH_SLACK = 0.05  # of the budget: how far past it a refit may start its last epoch or round
RUN_OPTIONS = "run.json"  # what `advisor resume` reads to continue a run
SEARCHES = {name: entry.searches for name, entry in BACKENDS.items()}
DEFAULT_SEARCH = {name: entry.default_search for name, entry in BACKENDS.items()}
BACKEND_NAMES = {name: entry.title for name, entry in BACKENDS.items()}
# --task's words -> the task it asks for (classification: binary or multiclass by the classes)
ASKED_TASKS = {None: None, "forecast": Task.FORECAST, "classification": Task.BINARY, "regression": Task.REGRESSION,
               "clustering": Task.CLUSTERING}


@dataclasses.dataclass(frozen=True)
class RecommendOptions:
    data: Path
    target: str | None = None
    family: Family | None = None
    tune: bool = True
    out: Path | None = None
    seed: int = 0
    command: str = ""
    budget_s: float = 60.0
    trials: int | None = None
    search: str | None = None  # None: the tuner's default (random for Ray Tune, hyperband for KerasTuner)
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    address: str | None = None
    tuner: str = "ray"  # ray or keras (KerasTuner, for the neural families)
    population: int | None = None  # configurations per trial for the neural families under Ray Tune; None: by device
    # Trials at once at most; None: as many as the cluster's CPUs hold. A batch sets each job's share.
    max_concurrent_trials: int | None = None
    test: Path | None = None  # the user's own test file, scored instead of a random 20%
    refit_all: bool = False  # after scoring, refit the chosen configuration on every row (train + test) and export it
    patience: int | None = None  # finished trials without a rise beyond noise that end a stage; None: measured default; 0: never
    race: bool = True  # race the rules' top two families on a random subset when they are close (tuners/family_race.py)
    task: str | None = None  # --task: forecast, classification, regression or clustering; None: detected
    time: str | None = None  # --time: the forecast's time column
    series: str | None = None  # --series: the column telling a panel's series apart
    horizon: int | None = None  # --horizon: steps to forecast; None: one season, else 10% of the shortest series
    forecaster: str | None = None  # --forecaster: backtest this one forecaster (and the baselines) of a forecast

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values.update(data=str(Path(self.data).resolve()), out=str(self.out) if self.out else None,
                      family=self.family.value if self.family else None,
                      test=str(Path(self.test).resolve()) if self.test else None)
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> "RecommendOptions":
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k in names}
        values.update(data=Path(values["data"]), out=Path(values["out"]) if values.get("out") else None,
                      family=Family(values["family"]) if values.get("family") else None,
                      test=Path(values["test"]) if values.get("test") else None)
        return cls(**values)


Progress = Callable[[str], None]


def recommend(options: RecommendOptions, progress: Progress = lambda m: None, on_event: OnEvent | None = None,
              resume: bool = False) -> dict[str, Any]:
    """Run the pipeline into a run folder; return the result (the JSON contract). `on_event`
    receives the run's typed events (advisor/events.py), the same whichever backend tunes."""
    send = on_event or (lambda event: None)
    check_search(options.tuner, options.search)
    run_dir = options.out if resume else prepare_run_dir(options.out, options.data)
    options = dataclasses.replace(options, out=run_dir)
    send(RunStarted(str(run_dir), str(options.data), options.budget_s, options.tune))
    try:
        result = _run(options, run_dir, progress, on_event)
    except Exception as error:
        send(RunFailed(str(error).splitlines()[0] if str(error) else type(error).__name__))
        raise
    best = result.get("best", {})
    send(RunFinished(str(run_dir), result["family"], best.get("metric"), best.get("test_score")))
    return result


def _run(options: RecommendOptions, run_dir: Path, progress: Progress, on_event: OnEvent | None) -> dict[str, Any]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ends = time.time() + options.budget_s  # --budget is the whole run's: loading and profiling count too

    progress(f"loading {options.data}")
    dataset = load(options.data, options.target)
    timings["load_s"] = time.perf_counter() - started

    progress(f"profiling {len(dataset.frame):,} rows and probing linearity")
    clock = time.perf_counter()
    profile = profile_dataset(dataset, seed=options.seed, task=ASKED_TASKS[options.task],
                              time=options.time, series=options.series)
    timings["profile_s"] = time.perf_counter() - clock
    if options.forecaster and profile.task != Task.FORECAST:
        raise InputError(f"--forecaster applies to a forecast; this data reads as {profile.task.value}: use --family, "
                         "or --task forecast with a time column.")

    _check_override(profile, options.family)
    clock = time.perf_counter()
    decision = decide(profile, RULES, override=options.family, budget_s=options.budget_s if options.tune else None)
    timings["rules_s"] = time.perf_counter() - clock

    sections: dict[str, Any] | None = None
    notes = list(profile.notes) + list(decision.notes)
    if options.tune:
        clock = time.perf_counter()
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(run_dir / RUN_OPTIONS, json.dumps(options.to_json(), indent=2))
        stage = STAGES[TASKS[profile.task].stage]
        sections, decision, stage_notes = stage(dataset, profile, decision, options, run_dir, progress, on_event, ends)
        notes += stage_notes
        timings["tune_s"] = time.perf_counter() - clock  # the race, the search and the cluster's start
    result = build_result(profile, decision, run_dir, options, timings, notes, sections)
    progress(f"writing {run_dir}")
    write_run(result, run_dir)
    return result


def _check_override(profile, family: Family | None) -> None:
    """A --family that learns a target, on data without one, is refused before any tuning starts."""
    if family is not None and profile.target is None and family in SUPERVISED:
        raise InputError(f"--family {family.value} learns to predict a target, and {profile.source} has none: pass "
                         "--target COL to name the column to predict, or leave --family out to cluster with k-means.")


def _test_notes(options: RecommendOptions, samples: int) -> list[str]:
    """What the test score was measured on, and what the exported model was fitted on, when the user chose."""
    notes = []
    if options.test:
        notes.append(f"The test score is on your --test file {options.test} ({samples:,} samples), not a random split.")
    if options.refit_all:
        notes.append("--refit-all: after the test score was taken, the chosen configuration was refitted on every "
                     "row (training and test) and that model was exported; its test score is the one measured before.")
    return notes


def check_search(tuner: str, search: str | None) -> None:
    if tuner not in DEFAULT_SEARCH:
        raise InputError(f"unknown tuner {tuner!r}: choose {' or '.join(SEARCHES)}.")
    if search not in (None, *SEARCHES[tuner]):
        owners = [name for name, searches in SEARCHES.items() if search in searches]
        hint = f" ({search} is {BACKEND_NAMES[owners[0]]}'s: add --tuner {owners[0]})" if owners else ""
        raise InputError(f"--search {search} does not go with --tuner {tuner}: choose one of "
                         f"{', '.join(SEARCHES[tuner])}{hint}.")


def _tune_table(dataset, profile, decision: Decision, options: RecommendOptions, run_dir: Path, progress: Progress,
                on_event: OnEvent | None, ends: float):
    """The race if the rules are unsure, then the search, within what is left of the budget at `ends`
    (time.time()); the refits start no epoch or round after it (plus FINISH_SLACK of the budget)."""
    import tuners  # Ray and the model libraries load only when tuning

    search = options.search or DEFAULT_SEARCH[options.tuner]
    settings = tuners.TuneSettings(
        budget_s=max(1.0, ends - time.time()), trials=options.trials, search=search, cpus_per_trial=options.cpus_per_trial,
        gpus_per_trial=options.gpus_per_trial, address=options.address, seed=options.seed, tuner=options.tuner,
        population=options.population, max_concurrent_trials=options.max_concurrent_trials, refit_all=options.refit_all,
        finish_by=ends + FINISH_SLACK * options.budget_s,
        **({} if options.patience is None else {"patience": options.patience}),
    )
    clean, _ = drop_missing_targets(dataset)
    frame, test_rows = with_test_file(clean, profile, options.test)
    images = training_arrays(frame, profile.format, profile.image_shape)
    racing = tuners.runnable(contenders(decision), profile, options.budget_s) if options.race else ()
    with tuners.shared_session(racing, settings):  # the race and the search on one cluster session
        decision, race, settings = _race(frame, profile, decision, racing, settings, run_dir, progress, on_event,
                                         test_rows, images, ends)
        backend = tuners.backend_for(decision.family, options.tuner)
        progress(f"tuning {decision.family.value} with {BACKEND_NAMES[backend]} ({settings.budget_s:.0f} s of the budget left)")
        outcome = tuners.tune(frame, profile, decision.family, settings, run_dir, on_event, test_rows=test_rows,
                              images=images)
    write_rows(frame.iloc[outcome.test_rows], run_dir / "test_split.csv")
    notes = []
    if outcome.backend != options.tuner:
        tuned = ", ".join(sorted(f.value for f in BACKENDS[options.tuner].families or ()))
        notes.append(f"--tuner {options.tuner} tunes {tuned}; {outcome.family} was "
                     f"tuned with {BACKEND_NAMES[outcome.backend]} ({outcome.search} search).")
    return _table_sections(outcome, options, race), decision, notes + _test_notes(options, len(outcome.test_rows))


def _tune_series(dataset, profile, decision: Decision, options: RecommendOptions, run_dir: Path, progress: Progress,
                 on_event: OnEvent | None, ends: float):
    """The forecast: every forecaster backtested on time-ordered windows; the lowest MASE is the family."""
    from tuners.forecast import ForecastSettings, tune_forecast

    if options.test is not None or options.refit_all:
        raise InputError("--test and --refit-all do not apply to a forecast: its test window is the last --horizon "
                         "steps of every series, and predict fits the chosen model on the history it is given.")
    if options.forecaster and options.family:
        raise InputError(f"--forecaster {options.forecaster} and --family {options.family.value} both name what to "
                         "backtest: give one.")
    clean, _ = drop_missing_targets(dataset)
    order = tuple(r.family.value for r in decision.ranking)
    settings = ForecastSettings(budget_s=max(1.0, ends - time.time()), seed=options.seed, horizon=options.horizon,
                                family=options.forecaster or (options.family.value if options.family else None),
                                order=order)
    progress(f"backtesting forecasters on {profile.forecast.series} series (budget {settings.budget_s:.0f} s)")
    sections = tune_forecast(clean.frame, profile, settings, run_dir, on_event)
    reason = sections["best"]["chosen_because"]
    if options.family:
        return sections, decision, []
    if options.forecaster:
        return sections, dataclasses.replace(decision, chosen_by="override"), []
    return sections, dataclasses.replace(decision, chosen_by="backtest"), [f"Forecast by {sections['family']}: {reason}"]


def _race(frame, profile, decision: Decision, racing, settings, run_dir: Path, progress: Progress,
          on_event: OnEvent | None, test_rows, images, ends: float):
    """The family race when `racing` names two families: (the settled decision, the race record or
    None, the settings with what is left of the budget)."""
    import tuners

    if not racing:
        return decision, None, settings
    progress(f"racing {' against '.join(f.value for f in racing)} on a random subset (the rules' top two are close)")
    race = dict(tuners.race(frame, profile, racing, settings, run_dir / "tuning", on_event,
                            test_rows=test_rows, images=images),
                max_point_gap=RACE_MAX_POINT_GAP)
    decision = settle(decision, Family(race["winner"]), race["reason"])
    return decision, race, dataclasses.replace(settings, budget_s=max(1.0, ends - time.time()))


def with_test_file(clean, profile, test: Path | None):
    """The training rows with the user's test file appended, and the positions of its rows (None:
    the tuners draw a random 20%). The file must load the same way and hold the same columns."""
    if test is None:
        return clean.frame, None
    if Path(test).resolve() == Path(clean.source).resolve():
        raise InputError(f"--test {test}: that is the training data itself. Give a held-out file.")
    held, _ = drop_missing_targets(load(test, profile.target))
    missing = [c for c in clean.frame.columns if c not in held.frame.columns]
    if missing:
        raise InputError(f"--test {test}: lacks column(s) {', '.join(map(repr, missing[:5]))} that the training data has.")
    if profile.sequence is not None and profile.sequence.layout == "long":
        ids = set(clean.frame[profile.sequence.id_column]) & set(held.frame[profile.sequence.id_column])
        if ids:
            raise InputError(f"--test {test}: series id(s) {sorted(map(str, ids))[:3]} are in the training data too; "
                             "give the test series ids of their own.")
    if held.frame.empty:
        raise InputError(f"--test {test}: no rows with a target value to score on.")
    frame = pd.concat([clean.frame, held.frame[clean.frame.columns]], ignore_index=True)
    return frame, np.arange(len(clean.frame), len(frame))


def _table_sections(outcome, options: RecommendOptions, race: dict[str, Any] | None) -> dict[str, Any]:
    """result.json's sections from the table stage's TuneOutcome (and the family race's record)."""
    tuning = to_jsonable(outcome)
    tuning.pop("test_rows")
    result = dict(best=tuning.pop("best"), trials=tuning.pop("trials"), budget_s=tuning["budget_s"],
                  wall_s=tuning["wall_s"], baseline=tuning.pop("baseline"), model=tuning.pop("model"), tuning=tuning)
    duel = tuning.pop("duel")
    if duel is not None:
        result["duel"] = duel
    result["test_set"] = {"source": "file" if options.test else "split",
                          "path": str(options.test) if options.test else None, "samples": len(outcome.test_rows)}
    result["best"]["refit_all"] = options.refit_all
    result["budget_s"] = options.budget_s  # the run's, the race's share included (tuning.budget_s: the search's)
    if race is not None:
        result["race"] = race
        result["wall_s"] = round(result.get("wall_s", 0.0) + race["seconds"], 2)
    return result


def build_result(profile, decision: Decision, run_dir: Path, options: RecommendOptions, timings, notes,
                 sections: dict[str, Any] | None = None) -> dict[str, Any]:
    result = {
        "schema_version": SCHEMA_VERSION,
        "family": decision.family.value,
        "chosen_by": decision.chosen_by,
        "ranking": [
            {"family": r.family.value, "score": r.score, "reasons": list(r.reasons)} for r in decision.ranking
        ],
        "excluded": [{"family": e.family.value, "reasons": list(e.reasons)} for e in decision.excluded],
        "profile": to_jsonable(profile),
        "trace": [
            {
                "rule": t.rule,
                "fired": t.fired,
                "reason": t.reason,
                "source": t.source,
                "effects": list(t.effects),
                "checks": [
                    {"fact": c.fact, "op": c.op.value, "expected": to_jsonable(c.expected),
                     "actual": to_jsonable(c.actual), "passed": c.passed}
                    for c in t.checks
                ],
            }
            for t in decision.trace
        ],
        "tuned": sections is not None,
        "notes": notes,
        "run_dir": str(run_dir),
        "command": options.command,
        "seed": options.seed,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "advisor_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if sections is not None:
        result.update(sections)
    return result


STAGES = {"table": _tune_table, "series": _tune_series}  # TaskDef.stage -> the pipeline's tune stage


def prepare_run_dir(out: Path | None, data: Path) -> Path:
    """A fresh folder for the run. An existing non-empty folder is refused: a run never overwrites another."""
    if out is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name.split(".")[0] or "data")[:40]
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(DEFAULT_RUNS_FOLDER) / f"{stem}-{stamp}"
        n = 1
        while out.exists():
            n += 1
            out = Path(DEFAULT_RUNS_FOLDER) / f"{stem}-{stamp}-{n}"
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file is there. Choose a folder path that does not exist yet.")
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out}: the folder is not empty. Choose a new folder; the advisor never overwrites a run.")
    if out.resolve() == data.resolve():
        raise InputError(f"--out {out}: that is the data itself. Choose another folder.")
    return out


def resume_options(run_dir: Path) -> RecommendOptions:
    """The options a stopped run was started with, to continue it in place."""
    if (run_dir / "result.json").exists():
        raise InputError(f"{run_dir}: this run already finished (result.json is there). Nothing to resume.")
    try:
        values = json.loads((run_dir / RUN_OPTIONS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{run_dir}: no {RUN_OPTIONS} here, so no tuning run to resume. "
                         "Give a run folder that 'advisor recommend' was tuning in.") from None
    except (OSError, ValueError) as error:
        raise InputError(f"{run_dir / RUN_OPTIONS}: unreadable ({error}).") from None
    options = RecommendOptions.from_json(values)
    if not options.data.exists():
        raise InputError(f"{run_dir}: the run's data {options.data} is gone. Put it back to resume.")
    return dataclasses.replace(options, out=run_dir)


def write_run(result: dict[str, Any], run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(run_dir / "result.json", json.dumps(result, indent=2, allow_nan=False))
        write_report(result, run_dir / "report.html")
    except OSError as error:
        raise InputError(f"{run_dir}: cannot write the run ({error.strerror or error}). Choose another --out.") from None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
