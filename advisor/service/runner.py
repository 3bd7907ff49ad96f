"""The service's runs on Ray: one scheduler thread in the server holds a Ray session (a local Ray
it starts, or the cluster at --address) and starts queued runs as Ray tasks with the batch's job
function and admission (advisor/batch.py: a run starts while the cluster has room for one of its
trials, and runs at most its share of the CPUs in trials at once).

Nothing is lost when the server dies: a run's state is its database row and its folder. Ray ends a
driver's tasks with it, so at start every run still marked running is queued again, and its task
resumes from its folder (finished trials kept, as `advisor resume` does).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from advisor.batch import JOB_RETRIES, fits, one_trial, run_job, submit_job
from advisor.pipeline import RUN_OPTIONS
from advisor.service.events_log import EventLog
from advisor.service.store import Store

MAX_ATTEMPTS = 3  # starts of one run (server restarts included) before it is marked failed
LOG = logging.getLogger("advisor.service")


def run_logged(argument: dict[str, Any]) -> dict[str, Any]:
    """The Ray task of one service run: the batch's job, its events appended to the run's log."""
    return run_job(argument["options"], on_event=EventLog(Path(argument["events"])))


@dataclasses.dataclass
class Running:
    run_id: str
    ref: Any
    held: dict[str, float]


class Runner:
    def __init__(self, store: Store, home: Path, address: str | None, poll_s: float = 0.3):
        self.store, self.home, self.address, self.poll_s = store, home, address, poll_s
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._main, name="advisor-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def run_folder(self, run_id: str) -> Path:
        return self.home / "runs" / run_id

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued run at once; a running one is cancelled by the scheduler (its task killed)."""
        if self.store.update_run(run_id, only_if=("queued",), status="cancelled", finished=time.time()):
            return True
        with self._lock:
            self._cancel.add(run_id)
        return self.store.run(run_id).status in ("running", "cancelled")

    def _main(self) -> None:
        """The scheduler, inside the Ray session `advisor serve` opened in its main thread."""
        from tuners.ray_backend import Tasks

        try:
            tasks = Tasks(run_logged, JOB_RETRIES)
            self._requeue_interrupted()
            self.ready.set()
            self._loop(tasks, tasks.capacity())
        except Exception as error:  # noqa: BLE001 - the server says why it cannot run anything
            self.failure = f"{type(error).__name__}: {error}"
            LOG.error("advisor serve: the run scheduler stopped: %s", self.failure)
            self.ready.set()

    def _requeue_interrupted(self) -> None:
        for run in self.store.runs_with_status(("running",)):
            self.store.update_run(run.id, only_if=("running",), status="queued")

    def _loop(self, tasks, capacity: dict[str, float]) -> None:
        running: dict[str, Running] = {}
        while not self._stop.is_set():
            self._cancel_asked(tasks, running)
            self._collect(tasks, running)
            self._start_queued(tasks, running, capacity)
            self._stop.wait(self.poll_s)
        for item in running.values():  # the server is stopping: the runs stay "running" and resume at its next start
            tasks.cancel(item.ref)

    def _cancel_asked(self, tasks, running: dict[str, Running]) -> None:
        with self._lock:
            asked, self._cancel = self._cancel, set()
        for run_id in asked:
            item = running.pop(run_id, None)
            if item is not None:
                tasks.cancel(item.ref)
            self.store.update_run(run_id, only_if=("queued", "running"), status="cancelled", finished=time.time())

    def _collect(self, tasks, running: dict[str, Running]) -> None:
        by_ref = {item.ref: run_id for run_id, item in running.items()}
        for ref in tasks.ready(list(by_ref)):
            run_id = by_ref[ref]
            running.pop(run_id)
            try:
                summary = tasks.result(ref)
            except Exception as error:  # noqa: BLE001 - the task died beyond its retries: the run says so
                summary = {"status": "failed", "error": f"{type(error).__name__}: {str(error)[:300]}"}
            self.store.update_run(run_id, only_if=("running",), status=summary["status"], error=summary.get("error"),
                                  family=summary.get("family"), metric=summary.get("metric"),
                                  test_score=summary.get("test_score"), finished=time.time())

    def _start_queued(self, tasks, running: dict[str, Running], capacity: dict[str, float]) -> None:
        in_use = {kind: sum(item.held[kind] for item in running.values()) for kind in ("CPU", "GPU")}
        for run in self.store.runs_with_status(("queued",)):
            entry = {"options": run.options}
            need = one_trial(entry)
            if running and not fits(need, in_use, capacity):
                return
            if run.attempts >= MAX_ATTEMPTS:
                self.store.update_run(run.id, status="failed", finished=time.time(),
                                      error=f"started {run.attempts} times without finishing (the server stopped "
                                            "each time); submit it again")
                continue
            if not self.store.update_run(run.id, only_if=("queued",), status="running", attempts=run.attempts + 1,
                                         started=run.started or time.time()):
                continue  # cancelled meanwhile
            _clear_unstarted(Path(run.options["out"]))
            events = str(self.run_folder(run.id) / "events.jsonl")
            ref = submit_job(tasks, entry, self.address, capacity, len(running) + 1,
                             argument=lambda options: {"options": options, "events": events})
            running[run.id] = Running(run.id, ref, need)
            in_use = {kind: in_use[kind] + need[kind] for kind in in_use}


def _clear_unstarted(run_dir: Path) -> None:
    """A run folder an earlier attempt left before it recorded its options holds nothing to resume
    (and the pipeline never writes into a non-empty folder): it starts again from nothing."""
    if run_dir.is_dir() and not (run_dir / RUN_OPTIONS).exists() and not (run_dir / "result.json").exists():
        shutil.rmtree(run_dir)
