"""Progress on stderr: stage messages, and a live line while tuning (trials done, running, failed,
best so far, time left of the budget). Off with --json; plain lines every few seconds when stderr
is not a terminal."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.live import Live

from advisor.events import BestSoFar, Event, StageStarted, TrialFinished

PLAIN_EVERY_S = 5.0


class TuningProgress:
    def __init__(self, enabled: bool, budget_s: float):
        self.enabled = enabled
        self.budget_s = budget_s
        self.console = Console(file=sys.stderr, highlight=False)
        self.live: Live | None = None
        self.started: float | None = None
        self.best: float | None = None
        self.counts: dict[str, dict[str, int]] = {}
        self.last_plain = 0.0

    def __enter__(self) -> "TuningProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def message(self, text: str) -> None:
        if self.enabled:
            self.console.print(f"advisor: {text}", markup=False, soft_wrap=True)

    def event(self, event: Event) -> None:
        """A typed event of the run (advisor/events.py): trial counts and the best score move the line."""
        if not self.enabled:
            return
        if isinstance(event, StageStarted):
            self.counts.setdefault(event.stage, {"running": 0, "done": 0, "failed": 0})
        elif isinstance(event, BestSoFar):
            self.best = event.score
        elif isinstance(event, TrialFinished):
            self.counts[event.stage] = event.counts
        else:
            return
        if self.started is None:
            self.started = time.monotonic()
        self._show(self.line())

    def _show(self, line: str) -> None:
        if self.console.is_terminal:
            if self.live is None:
                self.live = Live(line, console=self.console, refresh_per_second=4, transient=True)
                self.live.start()
            self.live.update(line)
        elif time.monotonic() - self.last_plain >= PLAIN_EVERY_S:
            self.last_plain = time.monotonic()
            self.console.print(f"advisor: {line}", markup=False, soft_wrap=True)

    def line(self) -> str:
        done = sum(c["done"] for c in self.counts.values())
        failed = sum(c["failed"] for c in self.counts.values())
        running = list(self.counts.values())[-1]["running"] if self.counts else 0  # only the current stage runs
        elapsed = time.monotonic() - (self.started or time.monotonic())
        left = max(0.0, self.budget_s - elapsed)
        best = "n/a" if self.best is None else f"{self.best:.4f}"
        stage = list(self.counts)[-1] if self.counts else "-"
        return f"tuning [{stage}] {done} done, {running} running, {failed} failed; best {best}; {left:.0f} s of budget left"
