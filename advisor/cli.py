"""The command line. Thin: parse, call one pipeline function, map known errors to exit codes.

Exit codes: 0 done, 2 bad input or usage, 1 internal failure. With --json exactly one JSON object
goes to stdout; everything meant for people goes to stderr.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from pathlib import Path

import click

from advisor import __version__
from advisor.errors import InputError
from advisor.types import Family

EXIT_INPUT = 2
EXIT_INTERNAL = 1


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def _fail(code: int, message: str) -> None:
    _echo_err(f"advisor: error: {message}")
    sys.exit(code)


def _run_guarded(action):
    """Bad input -> one line and exit 2; anything unexpected -> one line and exit 1 (traceback on request)."""
    try:
        return action()
    except InputError as error:
        _fail(EXIT_INPUT, str(error))
    except KeyboardInterrupt:
        _fail(130, "interrupted")
    except MemoryError:
        _fail(EXIT_INTERNAL, "out of memory. Try a smaller file or a machine with more memory.")
    except Exception as error:  # noqa: BLE001 - the last line of defence for users
        if os.environ.get("ADVISOR_DEBUG"):
            traceback.print_exc()
        first = " ".join(str(error).split())[:300]
        _fail(EXIT_INTERNAL, f"internal failure: {type(error).__name__}: {first}. "
                             "Set ADVISOR_DEBUG=1 for the traceback and report it.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advisor")
def main() -> None:
    """Which model, with which hyperparameters, and why."""


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--target", metavar="COL", help="Target column (default: one named target, label, class or y).")
@click.option("--family", type=click.Choice([f.value for f in Family]), help="Use this family, overriding the rules.")
@click.option("--no-tune", is_flag=True, help="Stop after the decision.")
@click.option("--out", type=click.Path(path_type=Path), help="Run folder to create (default: ./advisor-runs/NAME-TIME).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for sampling.")
def recommend(data: Path, target: str | None, family: str | None, no_tune: bool, out: Path | None, as_json: bool, seed: int) -> None:
    """Profile DATA, pick a model family by explained rules, and write a report.

    DATA is a CSV/TSV file (delimiter sniffed, .gz accepted), a Parquet file, or a folder of images
    with one subfolder per class.
    """
    from advisor.pipeline import RecommendOptions, recommend as run_recommend

    options = RecommendOptions(
        data=data,
        target=target,
        family=Family(family) if family else None,
        tune=not no_tune,
        out=out,
        seed=seed,
        command=shlex.join(["advisor", *sys.argv[1:]]) if sys.argv[1:2] == ["recommend"] else "",
    )
    result = _run_guarded(lambda: run_recommend(options, progress=lambda m: _echo_err(f"advisor: {m}")))
    if as_json:
        click.echo(json.dumps(result, allow_nan=False))
    else:
        click.echo(_summary(result))


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
        _echo_err(f"advisor: wrote {run_dir / 'report.html'}")

    _run_guarded(action)


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
    for note in result["notes"]:
        lines.append(f"Note: {note}")
    lines.append(f"Report: {Path(result['run_dir']) / 'report.html'}")
    return "\n".join(lines)
