"""Reports: render a run's result (the JSON contract) as a self-contained HTML page."""

from reports.render import render_report, write_report

__all__ = ["render_report", "write_report"]
