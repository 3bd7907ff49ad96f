"""A run's typed events (advisor/events.py) as a file of JSON lines: written by the run's Ray task
as they happen, read by the server for server-sent events (replayed from the start) and for the
run's progress. A file, not the database, so the server stays the database's one writer, and a
resumed run appends to what its first attempt wrote."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

from advisor.events import Event, to_json

TERMINAL = ("RunFinished", "RunFailed")


class EventLog:
    """The `on_event` of a run: each event appended and flushed at once, stamped with its time."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, event: Event) -> None:
        line = json.dumps({**to_json(event), "at": round(time.time(), 3)}, allow_nan=False, default=str)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")


def read_events(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete lines from byte `offset` on, and the offset after them (a line still being
    written is left for the next read)."""
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            chunk = stream.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    events = []
    for line in chunk[:end].splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a killed writer: skipped, the next attempt writes its own
    return events, offset + end


def progress(path: Path) -> dict[str, Any]:
    """What a run page shows: trials done, best so far, the stage, and time left of the budget."""
    events, _ = read_events(path)
    state: dict[str, Any] = {"trials_done": 0, "trials_failed": 0, "best": None, "stage": None, "budget_s": None,
                             "time_left_s": None, "events": len(events)}
    started = None
    for event in events:
        kind = event.get("event")
        if kind == "RunStarted":
            started, state["budget_s"] = event.get("at"), event.get("budget_s")
            state.update(trials_done=0, trials_failed=0, best=None, stage=None)  # a resumed attempt starts anew
        elif kind == "StageStarted":
            state["stage"] = event.get("stage")
        elif kind == "TrialFinished":
            state["trials_failed" if event.get("status") == "failed" else "trials_done"] += 1
        elif kind == "BestSoFar":
            state["best"] = event.get("score")
    if started is not None and state["budget_s"] is not None and not (events and events[-1]["event"] in TERMINAL):
        state["time_left_s"] = round(max(0.0, started + state["budget_s"] - time.time()), 1)
    return state


async def follow(path: Path, finished, poll_s: float = 0.25) -> AsyncIterator[dict[str, Any]]:
    """Every event from the start, then new ones as they come, until the run's last event (or
    `finished()` says the run ended with no more to come). Asynchronous: a client following a run
    holds no thread of the server's."""
    offset = 0
    while True:
        events, offset = read_events(path, offset)
        for event in events:
            yield event
        if any(event.get("event") in TERMINAL for event in events):
            return
        if finished():
            for event in read_events(path, offset)[0]:
                yield event
            return
        await asyncio.sleep(poll_s)
