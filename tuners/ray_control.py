"""How a Ray Tune stage is steered and watched: ASHA that spares the anchors, a stopper that ends a
stage once its search has converged (tuners/convergence.py), and the callback that turns trials
into the run's progress events. Ray is imported here and in ray_backend.py only."""

from __future__ import annotations

from ray.tune import Callback, Stopper
from ray.tune.schedulers import ASHAScheduler

from tuners.convergence import Convergence


class ProtectedASHA(ASHAScheduler):
    """ASHA that never stops the stage's first `protected` trials: the points (the library's
    defaults and the seeds' start) are scored through every fold, whatever the rungs say."""

    def __init__(self, protected: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.protected = protected
        self.kept: set[str] = set()

    def on_trial_add(self, tune_controller, trial) -> None:
        if len(self.kept) < self.protected:
            self.kept.add(trial.trial_id)
        super().on_trial_add(tune_controller, trial)

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        decision = super().on_trial_result(tune_controller, trial, result)
        return self.CONTINUE if trial.trial_id in self.kept else decision


class ConvergedStopper(Stopper):
    """Ends the whole stage once `convergence` says so, fed by every trial that finished every fold,
    once each: Ray hands a finished function trial's last result over a second time (marked done)."""

    def __init__(self, convergence: Convergence):
        self.convergence = convergence
        self.counted: set[str] = set()

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get("done_all_folds") and trial_id not in self.counted:
            self.counted.add(trial_id)  # a population's members count one by one, as the search's configurations
            for member in result.get("members") or [result]:
                self.convergence.update(member.get("score"), member.get("score_sem"))
        return False

    def stop_all(self) -> bool:
        return self.convergence.converged


class ProgressCallback(Callback):
    """Forwards trial events to the run's TrialStream (advisor/events.py; no Ray types leak out).

    Ray stores callbacks with the experiment; the stream itself is not stored, so a resumed run
    gets its own."""

    def __init__(self, stage: str, stream):
        self.stage = stage
        self.stream = stream

    def __getstate__(self) -> dict:
        return {"stage": self.stage, "stream": None}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.stream is not None:
            self.stream.reported(self.stage, result.get("score"))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finished(trials, trial, failed=False)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finished(trials, trial, failed=True)

    def _finished(self, trials, trial, failed: bool) -> None:
        """One TrialFinished per configuration, as result.json lists them: a population's members one by one."""
        if self.stream is None:
            return
        last = trial.last_result or {}
        status = "failed" if failed else ("completed" if last.get("done_all_folds") else "stopped")
        members = last.get("members") or [{"slot": None, "score": last.get("score"), "error": None}]
        for member in members:
            name = str(trial.trial_id) if member["slot"] is None else f"{trial.trial_id}.{member['slot']}"
            self.stream.finished(self.stage, name, "failed" if member.get("error") else status, member.get("score"),
                                 _counts(trials))


def _counts(trials) -> dict[str, int]:
    counts = {"running": 0, "done": 0, "failed": 0}
    for trial in trials:
        if trial.status == "RUNNING":
            counts["running"] += 1
        elif trial.status == "TERMINATED":
            counts["done"] += 1
        elif trial.status == "ERROR":
            counts["failed"] += 1
    return counts
