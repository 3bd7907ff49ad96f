"""Render a run's result (the dict written to result.json) into a self-contained HTML page.

Reports read only the stored result, never the live pipeline, so `advisor report DIR` can
re-render any finished run. Autoescaping is on: column names and values come from users' files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2

from reports.context import tuning_context
from reports.plots import all_plots
from reports.words import describe_config

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = format_number
    environment.filters["best_first"] = lambda trials: sorted(
        (t for t in trials if t.get("score") is not None), key=lambda t: -t["score"]
    )
    environment.filters["plain_config"] = describe_config
    environment.filters["percent"] = lambda value: "n/a" if value is None else f"{value:.1%}"
    return environment


def format_number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def render_report(result: dict[str, Any]) -> str:
    ranked = [entry["family"] for entry in result.get("ranking", [])]
    return _environment().get_template("report.html.j2").render(
        result=result, profile=result["profile"], plots=all_plots(result), rules_pick=ranked[0] if ranked else "none",
        words=tuning_context(result))


def write_report(result: dict[str, Any], path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render_report(result), encoding="utf-8")
    os.replace(partial, path)


def write_index(batch: dict[str, Any], path: Path) -> None:
    """A batch's index page: one row per job, linking its report."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(_environment().get_template("index.html.j2").render(batch=batch), encoding="utf-8")
    os.replace(partial, path)
