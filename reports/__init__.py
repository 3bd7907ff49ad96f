"""Reports: render a run's result (the JSON contract) as a self-contained HTML page, and a batch's index."""

from reports.render import render_report, write_index, write_report

__all__ = ["render_report", "write_index", "write_report"]
