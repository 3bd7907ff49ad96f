"""The command line. Thin: parse, call one pipeline function, map known errors to exit codes.

Exit codes: 0 done, 2 bad input or usage, 1 internal failure. With --json exactly one JSON object
goes to stdout; everything meant for people goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from pathlib import Path

import click

from advisor import __version__
from advisor.errors import InputError
from advisor.guard import EXIT_INTERNAL, echo_err, run_guarded
from advisor.types import Family
from tuners.backends import BACKENDS

class _Advisor(click.Group):
    """The command group, keeping the arguments it was given (sys.argv's, or a caller's such as
    click's CliRunner) for the command that reproduces a run."""

    def make_context(self, info_name, args, parent=None, **extra):
        context = super().make_context(info_name, list(args), parent=parent, **extra)
        context.meta["advisor.argv"] = list(args)
        return context


@click.group(cls=_Advisor, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advisor")
def main() -> None:
    """Which model, with which hyperparameters, and why."""


def parse_budget(text: str) -> float:
    """'90s', '5m', '1h' or a plain number of seconds -> seconds."""
    from advisor.jobs import parse_duration

    try:
        return parse_duration(text.lower())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration; write it like 90s, 5m or 1h.") from None


class Budget(click.ParamType):
    name = "DURATION"

    def convert(self, value, param, ctx):
        return value if isinstance(value, float) else parse_budget(str(value))


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--target", metavar="COL", help="Target column (default: one named target, label, class or y).")
@click.option("--family", type=click.Choice([f.value for f in Family]), help="Use this family, overriding the rules.")
@click.option("--no-tune", is_flag=True, help="Stop after the decision.")
@click.option("--out", type=click.Path(path_type=Path), help="Run folder to create (default: ./advisor-runs/NAME-TIME).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for splits, sampling and models.")
@click.option("--budget", type=Budget(), default="60s", show_default=True, help="Wall time for tuning: 90s, 5m, 1h.")
@click.option("--trials", type=click.IntRange(min=1), help="Stop after this many trials (default: when the budget ends).")
@click.option("--tuner", type=click.Choice(list(BACKENDS)), default="ray", show_default=True,
              help="ray: Ray Tune, every family; keras: KerasTuner with Keras 3 models for mlp, cnn and rnn "
                   "(KERAS_BACKEND=torch runs Keras on PyTorch).")
@click.option("--search", type=click.Choice(["random", "bayes", "hyperband"]),
              help="Ray Tune: random (default; random sampling then coarse to fine) or bayes (Optuna). "
                   "KerasTuner: hyperband (default), random or bayes (Gaussian process).")
@click.option("--cpus-per-trial", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option("--gpus-per-trial", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="Fractions share a GPU between trials.")
@click.option("--address", metavar="ADDR", help="Join a running Ray cluster (default: a local Ray for this run).")
@click.option("--test", "test_file", type=click.Path(path_type=Path), metavar="FILE",
              help="Score the final model on this held-out file (same columns) instead of a random 20% of DATA.")
@click.option("--refit-all", is_flag=True,
              help="After scoring, refit the chosen configuration on every row (training and test) and export that.")
@click.option("--patience", type=click.IntRange(min=0), metavar="N",
              help="End the search once N configurations in a row that finished every fold brought no rise of the "
                   "best validation score beyond its standard error (default: 20, measured; 0: use the whole budget).")
@click.option("--race/--no-race", default=True, show_default=True,
              help="When the rules' top two families are close, race them on a random subset first; the better "
                   "one is tuned with the rest of the budget. --no-race: the rules' pick, always.")
@click.option("--population", type=click.IntRange(min=1), metavar="N",
              help="Ray Tune: configurations trained together in one trial; the nets' differ in learning "
                   "rate, momentum, dropout, L1 and L2 (default: linear and naive_bayes 8; with --gpus-per-trial: "
                   "64, rnn 8; without: mlp 8, cnn and rnn 1; 1 turns it off).")
@click.option("--task", type=click.Choice(["forecast", "classification", "regression", "clustering"]),
              help="Override the detected task. forecast: the next values of the series (a time column with regular "
                   "steps and a numeric target are detected as one without this flag).")
@click.option("--time", "time_column", metavar="COL", help="Forecast: the time column (dates or whole-number steps).")
@click.option("--series", "series_column", metavar="COL",
              help="Forecast: the column telling many series apart (long format: one row per series and step).")
@click.option("--horizon", type=click.IntRange(min=1), metavar="H",
              help="Forecast: steps ahead to forecast and test on (default: one season, else 10%% of the shortest "
                   "series).")
@click.option("--forecaster", metavar="NAME",
              help="Forecast: backtest only this forecaster beside the naive baselines (drift, theta, ets, arima, "
                   "linear, boosting, mlp, rnn, ...; README's Forecasting lists them), as --family does for a family.")
def recommend(data: Path, target: str | None, family: str | None, no_tune: bool, out: Path | None, as_json: bool,
              seed: int, budget: float, trials: int | None, tuner: str, search: str | None, cpus_per_trial: float,
              gpus_per_trial: float, address: str | None, test_file: Path | None, refit_all: bool, race: bool,
              patience: int | None, population: int | None, task: str | None, time_column: str | None,
              series_column: str | None, horizon: int | None, forecaster: str | None) -> None:
    """Profile DATA, pick a model family by explained rules, tune it, and write a report.

    DATA is a CSV/TSV file (delimiter and decimal commas sniffed, .gz accepted), JSON records (an
    array of objects or JSON Lines), a Parquet file, or a folder of images with one subfolder per class.
    """
    from advisor.pipeline import RecommendOptions

    options = RecommendOptions(
        data=data, target=target, family=Family(family) if family else None, tune=not no_tune, out=out, seed=seed,
        command=_command(tuner),
        budget_s=budget, trials=trials, search=search, cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial,
        address=address, tuner=tuner, population=population, test=test_file, refit_all=refit_all,
        race=race, patience=patience, task=task, time=time_column, series=series_column, horizon=horizon,
        forecaster=forecaster,
    )
    _run_and_print(options, as_json, resume=False)


def _command(tuner: str) -> str:
    """The command line that reproduces this run (with Keras's backend, which an environment variable picks)."""
    given = click.get_current_context().meta.get("advisor.argv", sys.argv[1:])
    if given[:1] != ["recommend"]:
        return ""
    command = shlex.join(["advisor", *given])
    for name in BACKENDS[tuner].environment:
        if os.environ.get(name):
            command = f"{name}={shlex.quote(os.environ[name])} {command}"
    return command


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout.")
def resume(run_dir: Path, as_json: bool) -> None:
    """Continue a stopped run (or batch) in RUN_DIR: finished trials and jobs are kept, not run again."""
    from advisor.batch import is_batch
    from advisor.pipeline import resume_options

    if is_batch(run_dir):
        _run_batch(run_dir, None, as_json)
        return
    options = run_guarded(lambda: resume_options(run_dir))
    _run_and_print(options, as_json, resume=True)


@main.command()
@click.argument("jobs_file", type=click.Path(path_type=Path))
@click.option("--address", metavar="ADDR", help="The Ray cluster to run on (default: a local Ray for the batch).")
@click.option("--out", type=click.Path(path_type=Path), help="Batch folder to create (default: ./advisor-runs/batch-TIME).")
@click.option("--json", "as_json", is_flag=True, help="Print batch.json on stdout when done.")
def batch(jobs_file: Path, address: str | None, out: Path | None, as_json: bool) -> None:
    """Run every job in JOBS_FILE (YAML) concurrently on a Ray cluster; write OUT/index.html and OUT/batch.json."""
    import datetime

    from advisor.batch import start_batch
    from advisor.jobs import read_jobs

    out = out or Path("advisor-runs") / f"batch-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    run_guarded(lambda: start_batch(read_jobs(jobs_file, out, address), out))
    _run_batch(out, address, as_json)


def _run_batch(out: Path, address: str | None, as_json: bool) -> None:
    from advisor.batch import run_batch

    def progress(message: str) -> None:
        echo_err(f"advisor: {message}")

    if address is None and (out / "batch-jobs.json").is_file():
        stored = json.loads((out / "batch-jobs.json").read_text(encoding="utf-8"))
        address = next((e["options"].get("address") for e in stored if e["options"].get("address")), None)
    result = _json_safe_run(lambda: run_batch(out, address, progress), as_json)
    if as_json:
        click.echo(json.dumps(result, allow_nan=False))
    else:
        click.echo(f"Batch: {result['done']} done, {result['failed']} failed of {len(result['jobs'])}; "
                   f"index: {out / 'index.html'}")
    if result["failed"]:
        sys.exit(EXIT_INTERNAL)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="CSV file to write (default: stdout).")
def predict(run_dir: Path, data: Path, out: Path | None) -> None:
    """Predict DATA with the model exported in RUN_DIR/model."""
    from advisor.predict import predict as run_predict

    predictions = run_guarded(lambda: run_predict(run_dir, data))
    if out is None:
        click.echo(predictions.to_csv(index=False), nl=False)
    else:
        run_guarded(lambda: _write_csv(predictions, out, data))
        echo_err(f"advisor: wrote {len(predictions):,} predictions to {out}")


def _write_csv(frame, out: Path, data: Path) -> None:
    if out.resolve() == data.resolve():
        raise InputError(f"--out {out}: that is the input data. Choose another file.")
    try:
        frame.to_csv(out, index=False)
    except OSError as error:
        raise InputError(f"--out {out}: cannot write ({error.strerror or error}).") from None


def _run_and_print(options, as_json: bool, resume: bool) -> None:
    from advisor.pipeline import recommend as run_recommend
    from advisor.progress import TuningProgress

    def action():
        with TuningProgress(enabled=not as_json, budget_s=options.budget_s) as display:
            return run_recommend(options, progress=display.message, on_event=display.event, resume=resume)

    result = _json_safe_run(action, as_json)
    if as_json:
        click.echo(json.dumps(result, allow_nan=False))
    else:
        click.echo(_summary(result))


def _json_safe_run(action, as_json: bool):
    """With --json, stdout carries only the JSON: anything else printed meanwhile (Ray's messages
    about lost nodes, say) goes to stderr."""
    if not as_json:
        return run_guarded(action)
    with contextlib.redirect_stdout(sys.stderr):
        return run_guarded(action)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Re-render RUN_DIR/report.html from RUN_DIR/result.json."""
    from reports import write_report

    def action() -> None:
        source = run_dir / "result.json"
        try:
            result = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{source}: not found. Give a run folder written by 'advisor recommend'.") from None
        except (OSError, ValueError) as error:
            raise InputError(f"{source}: unreadable ({error}).") from None
        write_report(result, run_dir / "report.html")
        echo_err(f"advisor: wrote {run_dir / 'report.html'}")

    run_guarded(action)


def _summary(result: dict) -> str:
    profile = result["profile"]
    linearity = profile["linearity"]
    lines = [
        f"Recommended family: {result['family']}" + (" (--family override)" if result["chosen_by"] == "override" else ""),
        f"Data: {profile['rows']:,} rows, {profile['columns']:,} columns; task {profile['task']}; "
        f"modality {profile['modality']} ({profile['modality_reason']})",
    ]
    if linearity["linear"] is not None:
        lines.append(
            f"Linearity: {'linear' if linearity['linear'] else 'non-linear'} ({linearity['linear_model']} "
            f"{linearity['linear_score']} vs {linearity['nonlinear_model']} {linearity['nonlinear_score']} {linearity['metric']})"
        )
    lines.append("Ranking:")
    for entry in result["ranking"]:
        lines.append(f"  {entry['family']:<12} {entry['score']:>6g}  " + (entry["reasons"][0] if entry["reasons"] else ""))
    if result.get("race"):
        race = result["race"]
        scores = ", ".join(f"{name} {'n/a' if score is None else f'{score:.4f}'}" for name, score in race["scores"].items())
        lines.append(f"Race on {race['subset_rows']:,} random samples ({race['seconds']:g} s): {scores}; "
                     f"went on with {race['winner']}")
    if result.get("best"):
        best, baseline = result["best"], result["baseline"]
        shown = ", ".join(f"{k}={_short(v)}" for k, v in best["config"].items())
        scored = "none scored" if best["validation_score"] is None else f"{best['validation_score']:.4f}"
        lines.append(f"Tuned: {len(result['trials'])} trials in {result['wall_s']:g} s; best {best['metric']} "
                     f"{scored} in validation")
        lower = " (lower is better)" if best.get("lower_is_better") else ""
        lines.append(f"Test {best['metric']}{lower}: {best['test_score']:.4f} tuned vs {baseline['test_score']:.4f} "
                     f"{baseline.get('label', 'with default parameters')}")
        lines.append(f"Best configuration: {shown}")
        blend = result["model"].get("blend") or {}
        if blend.get("kept") == "blend":
            lines.append(f"Blended with {blend['partner']}'s blend start at {blend['weight']:.0%} weight: "
                         f"{blend['scores']['blend']:.4f} in validation against {blend['scores']['alone']:.4f} alone")
        lines.append(f"Model: {result['model']['path']} (advisor predict {result['run_dir']} NEW.csv)")
    for note in result["notes"]:
        lines.append(f"Note: {note}")
    lines.append(f"Report: {Path(result['run_dir']) / 'report.html'}")
    return "\n".join(lines)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _add_service_commands() -> None:
    from advisor.service.commands import serve, token

    main.add_command(serve)
    main.add_command(token)


_add_service_commands()
