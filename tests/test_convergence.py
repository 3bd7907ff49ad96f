"""A search stage ends once its best score stops rising beyond noise (tuners/convergence.py), and
the budget bounds the whole run, refits included."""

from __future__ import annotations

import json
import time

import pytest

from tuners.convergence import Convergence


def test_a_stage_converges_after_patience_trials_without_a_rise_beyond_one_standard_error():
    watch = Convergence(patience=3)
    assert not watch.update(0.80, 0.02)  # the first best
    assert not watch.update(0.81, 0.02) and watch.since == 1  # within the best's standard error: no reset
    assert not watch.update(0.85, 0.02) and watch.since == 0  # beyond it: a new best, the count starts again
    assert not watch.update(None, None) and watch.since == 0  # a trial without a score does not count
    assert not watch.update(0.70, 0.02) and not watch.update(0.86, 0.01)
    assert watch.update(0.84, 0.02) and watch.converged and watch.best == 0.86
    record = watch.record("random")
    assert record["stage"] == "random" and record["after_trials"] == 6 and "3 trials" in record["reason"]
    never = Convergence(patience=0)
    assert not any(never.update(0.5, 0.0) for _ in range(100))


def test_a_trial_asha_stopped_counts_as_one_that_did_not_raise_the_best():
    watch = Convergence(patience=3)
    assert not watch.passed() and watch.since == 0  # no best yet: nothing to compare with
    watch.update(0.80, 0.02)
    assert not watch.passed() and not watch.passed() and watch.since == 2
    assert not watch.update(0.90, 0.02) and watch.since == 0  # a rise resets the count
    assert not watch.passed() and not watch.update(0.89, 0.02) and watch.passed()
    assert watch.record("random")["after_trials"] == 7  # 3 finished every fold, 4 stopped after the first best


def test_a_finished_trial_counts_once_and_a_population_counts_member_by_member():
    """Ray hands a finished function trial's last result to the stopper a second time (marked
    done): counted twice, --patience 20 would stop after 10 trials."""
    from tuners.ray_control import ConvergedStopper

    stopper = ConvergedStopper(Convergence(patience=3))
    finished = {"done_all_folds": True, "score": 0.9, "score_sem": 0.01}
    stopper("a", {"done_all_folds": False, "score": 0.5})  # a fold in: not a finished configuration
    stopper("a", finished)
    stopper("a", dict(finished, done=True))
    assert stopper.convergence.seen == 1 and not stopper.stop_all()
    stopper("b", {"done_all_folds": True, "score": 0.9,
                  "members": [{"score": s, "score_sem": 0.01} for s in (0.85, 0.9, None, 0.89)]})
    assert stopper.convergence.seen == 4 and stopper.stop_all()  # three members without a rise; one had no score


def test_a_converged_search_finishes_before_its_budget_and_says_so(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("recommend", examples_dir / "iris.csv", "--family", "naive_bayes", "--budget", "120s",
                     "--patience", "5", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    stopped = payload["tuning"]["stopped_early"]
    assert stopped and {s["stage"] for s in stopped} <= {"random", "fine"} and all(s["patience"] == 5 for s in stopped)
    assert payload["wall_s"] < 60  # half the budget: the search ended on convergence, not on time
    assert "stopped early" in payload["best"]["chosen_because"]
    assert "stopped early" in (out / "report.html").read_text(encoding="utf-8")
    # One watch over the whole search: once it converged, no later stage ran.
    last = stopped[-1]
    assert payload["tuning"]["stages"][-1] == last["stage"] and stopped == [last]
    assert {t["stage"] for t in payload["trials"]} <= set(payload["tuning"]["stages"])
    if last["stage"] == "random":
        assert last["skipped"] == ["fine"] and "fine not run" in last["reason"]


def test_a_boosting_search_counts_the_trials_asha_stopped(examples_dir, run_cli, tmp_path):
    """ASHA stops most of boosting's trials at a rung: counting only those that finished every fold,
    a 30 s search on a small table never converged (bench/results/convergence.md)."""
    result = run_cli("recommend", examples_dir / "interactions.csv", "--family", "boosting", "--budget", "60s",
                     "--patience", "10", "--no-race", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    stopped = payload["tuning"]["stopped_early"]
    assert stopped, "the search never converged"
    finished = sum(t["status"] == "completed" for t in payload["trials"])
    assert stopped[-1]["after_trials"] > finished  # the trials ASHA stopped counted towards the patience
    assert "stopped by ASHA" in stopped[-1]["reason"]
    assert payload["wall_s"] < 60


@pytest.mark.parametrize("family, data, budget", [
    ("linear", "wine.csv", 15),
    pytest.param("rnn", "sequences_long.csv", 30, marks=pytest.mark.slow),  # a deep net end to end on a CPU
])
def test_the_budget_bounds_the_whole_run_refits_included(family, data, budget, examples_dir, run_cli, tmp_path):
    """One cheap family and one neural one (whose refit on every training series used to run past
    the budget by more than the budget itself)."""
    started = time.monotonic()
    result = run_cli("recommend", examples_dir / data, "--family", family, "--budget", f"{budget}s",
                     "--out", tmp_path / "run", "--json")
    wall = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["budget_s"] == budget and payload["tuning"]["budget_s"] < budget
    assert wall <= budget * 1.1 + 30, f"{family}: {wall:.1f} s for a {budget} s budget"
