"""How a Ray Tune stage is steered: ASHA that spares the anchors, and a stopper that ends a stage
once its search has converged (tuners/convergence.py). Ray is imported here and in ray_backend.py only."""

from __future__ import annotations

from ray.tune import Stopper
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
