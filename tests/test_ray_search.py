"""Ray Tune's random and fine stages as one experiment (tuners/ray_control.CoarseToFine and
tuners/ray_search.fine_phase): what the searcher hands Ray, in what order, and what a resumed
experiment gets back."""

from __future__ import annotations

import functools
import json
import time

from ray.tune.search import Searcher

from advisor.types import Family
from tuners import ray_backend, ray_search
from tuners.ray_control import STAGE_KEY, CoarseToFine, Phase
from tuners.settings import TuneSettings
from tuners.space import IntRange, LogUniform, Param, Space

SPACE = Space({"C": Param(LogUniform(1e-3, 1e3), "why"), "iters": Param(IntRange(10, 100), "why")},
              start={"C": 1.0, "iters": 50})


def _settings(trials: int | None = None) -> TuneSettings:
    return TuneSettings(budget_s=100.0, trials=trials, search="random", cpus_per_trial=1.0, gpus_per_trial=0.0,
                        address=None, seed=0)


def _refined(seen: list, finished):
    seen.append(list(finished))
    return Phase("fine", SPACE, [], 2, time.time() + 60)


def _searcher(seen: list, trials: int = 4) -> CoarseToFine:
    first = Phase("random", SPACE, [{"C": 1.0, "iters": 100}, dict(SPACE.start)], trials, time.time() + 60)
    return CoarseToFine(first, functools.partial(_refined, seen), seed=0)


def _finish(searcher: CoarseToFine, trial_id: str, score: float) -> None:
    searcher.on_trial_complete(trial_id, {"score": score, "done_all_folds": True, "trial_id": trial_id})


def test_the_points_come_first_and_the_fine_stage_waits_for_every_random_trial():
    seen: list = []
    searcher = _searcher(seen)
    drawn = [searcher.suggest(f"t{i}") for i in range(4)]
    assert drawn[0] == {"C": 1.0, "iters": 100, STAGE_KEY: "random"} and drawn[1] == {**SPACE.start, STAGE_KEY: "random"}
    assert all(d[STAGE_KEY] == "random" and SPACE.contains(d) for d in drawn) and drawn[2] != drawn[3]
    assert all(type(d["iters"]) is int and type(d["C"]) is float for d in drawn)  # plain values, as Ray stores them
    for i in range(3):
        _finish(searcher, f"t{i}", 0.5 + i / 10)
    assert searcher.suggest("t4") is None and seen == []  # t3 is still running: the fine ranges wait for it
    _finish(searcher, "t3", 0.9)
    fine = [searcher.suggest("t5"), searcher.suggest("t6")]
    assert [len(seen), len(seen[0])] == [1, 4] and all(f[STAGE_KEY] == "fine" for f in fine)
    assert searcher.suggest("t7") == Searcher.FINISHED


def test_a_random_stage_out_of_time_still_runs_its_points_and_no_fine_stage_without_a_finished_trial():
    searcher = CoarseToFine(Phase("random", SPACE, [dict(SPACE.start)], 10, time.time() - 1),
                            functools.partial(ray_search.fine_phase, SPACE, Family.LINEAR, _settings(), (80, 100, 25),
                                              time.time() + 60, 60.0), seed=0)
    assert searcher.suggest("a") == {**SPACE.start, STAGE_KEY: "random"}  # the anchor, though the time is up
    assert searcher.suggest("b") is None  # no sample after its time; the anchor is still running
    searcher.on_trial_complete("a", {"score": 0.7, "done_all_folds": False, "trial_id": "a"})  # stopped after a fold
    assert searcher.suggest("c") == Searcher.FINISHED  # nothing finished every fold: no ranges to narrow to


def test_the_fine_stage_narrows_around_the_best_and_keeps_back_what_the_finish_will_cost():
    finished = [({"C": c, "iters": 50}, {"score": s, "done_all_folds": True, "trial_id": f"t{i}", "time_total_s": 5.0,
                                        "folds_done": 5})
                for i, (c, s) in enumerate([(0.01, 0.6), (1.0, 0.9), (2.0, 0.88), (500.0, 0.5)])]
    ends = time.time() + 100
    phase = ray_search.fine_phase(SPACE, Family.BOOSTING, _settings(10), (80, 100, 25, 5), ends, 100.0, finished)
    assert phase.name == "fine" and phase.trials == 4 and phase.points == []  # --trials 10: 6 random, 4 fine
    assert phase.space.params["C"].domain.high < 1e3 and phase.space.params["C"].domain.low > 1e-3
    # A fold's fit took 1 s on 80 rows. Boosting keeps a bag of 5 (a fit of a fold's rows each) and
    # refits the defaults on 100 rows: 5 + 1.25 s kept back from the end. The bag check (one model and
    # a bag of 5 on each of 5 folds: 25 s) is over a tenth of the 100 s budget: it will not run.
    assert abs((ends - phase.until) - 6.25) < 1e-6
    # Nor will the blend check with the linear family (both models on 5 folds and the partner's refit:
    # 11 s). With 1000 s both will, and the search keeps their 25 + 11 s back too.
    phase = ray_search.fine_phase(SPACE, Family.BOOSTING, _settings(10), (80, 100, 25, 5), ends, 1000.0, finished)
    assert abs((ends - phase.until) - (6.25 + 25 + 11)) < 1e-6


def test_a_resumed_searcher_keeps_its_stage_and_what_finished(tmp_path):
    seen: list = []
    searcher = _searcher(seen, trials=3)
    for i in range(3):
        searcher.suggest(f"t{i}")
    _finish(searcher, "t0", 0.8)
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = _searcher(seen, trials=3)  # what Ray rebuilds from the experiment, before its state
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored.started == [3] and len(restored.finished) == 1 and restored.live == {}
    # Ray reruns the unfinished trials with their stored configurations; they end as any other. A
    # restored experiment hands them flattened (config/NAME, as a resumed boosting run showed: its
    # configurations came back empty and the fine stage failed with KeyError 'learning_rate').
    restored.on_trial_complete("t1", {"score": 0.7, "done_all_folds": True, "trial_id": "t1",
                                      "config": {"C": 2.0, "iters": 20, STAGE_KEY: "random"}})
    restored.on_trial_complete("t2", {"score": 0.6, "done_all_folds": True, "trial_id": "t2",
                                      "config/C": 3.0, "config/iters": 30, f"config/{STAGE_KEY}": "random"})
    assert restored.suggest("t3")[STAGE_KEY] == "fine"
    assert [config for config, _ in seen[0][-2:]] == [{"C": 2.0, "iters": 20}, {"C": 3.0, "iters": 30}]


def test_a_trials_stage_comes_from_its_configuration_and_never_reaches_the_model():
    config = {"C": 0.5, "iters": 20, STAGE_KEY: "fine"}
    assert ray_backend.decode(config) == {"C": 0.5, "iters": 20}
    [record] = ray_backend.trial_records(config, {"score": 0.9, "done_all_folds": True, "trial_id": "x"}, "random")
    assert record.stage == "fine" and record.status == "completed" and STAGE_KEY not in json.dumps(record.config)


def test_a_stages_progress_counts_only_its_own_trials():
    """One experiment holds both stages; TrialFinished.counts are the stage's trials so far, and the
    first fine trial to start finishes the random stage and starts the fine one."""
    from types import SimpleNamespace

    from advisor.events import StageFinished, StageStarted, TrialFinished, TrialStream
    from tuners.ray_control import ProgressCallback

    def trial(name, stage):
        return SimpleNamespace(trial_id=name, config={"C": 1.0, STAGE_KEY: stage}, status="RUNNING",
                               last_result={"score": 0.5, "done_all_folds": True})

    seen: list = []
    callback = ProgressCallback("random", TrialStream(seen.append), ends=time.time() + 60)
    trials = [trial(f"r{i}", "random") for i in range(3)]
    for done in trials:
        done.status = "TERMINATED"
        callback.on_trial_complete(0, trials, done)
    fine = trial("f0", "fine")
    trials.append(fine)
    callback.on_trial_start(0, trials, fine)
    fine.status = "TERMINATED"
    callback.on_trial_complete(0, trials, fine)
    finished = [(e.stage, e.counts["done"], e.counts["running"]) for e in seen if isinstance(e, TrialFinished)]
    assert finished == [("random", 1, 2), ("random", 2, 1), ("random", 3, 0), ("fine", 1, 0)]
    stages = [e for e in seen if isinstance(e, (StageStarted, StageFinished))]
    assert stages[0] == StageFinished("random", 3) and stages[1].stage == "fine" and 0 < stages[1].budget_s <= 60
