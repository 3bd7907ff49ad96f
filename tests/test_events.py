"""The run's typed events (advisor/events.py): what every front end reads, the same from every backend."""

from __future__ import annotations

import subprocess
import sys

import pytest

from advisor import events
from advisor.pipeline import RecommendOptions, recommend


def test_a_tuned_run_sends_typed_events_in_order(examples_dir, tmp_path):
    seen: list = []
    result = recommend(RecommendOptions(data=examples_dir / "iris.csv", out=tmp_path / "run", trials=4, budget_s=300,
                                       race=False),  # the search's stream; the race's stages come first when it runs
                       on_event=seen.append)
    kinds = [type(e).__name__ for e in seen]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert {"StageStarted", "TrialFinished", "BestSoFar", "StageFinished"} <= set(kinds)
    assert [e.stage for e in seen if isinstance(e, events.StageStarted)] == result["tuning"]["stages"]
    finished = [e for e in seen if isinstance(e, events.TrialFinished)]
    assert len(finished) == len(result["trials"]) and all(e.status in ("completed", "stopped") for e in finished)
    best = [e.score for e in seen if isinstance(e, events.BestSoFar)]
    # Up to float round-off: two configurations can score the same mean over folds in another order.
    assert best == sorted(best) and best[-1] == pytest.approx(result["best"]["best_validation_score"], rel=1e-12)
    assert seen[-1].test_score == result["best"]["test_score"]
    for event in seen:  # every event has a wire form and comes back from it
        assert events.from_json(events.to_json(event)) == event


def test_a_failed_run_sends_run_failed(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    seen: list = []
    try:
        recommend(RecommendOptions(data=bad, out=tmp_path / "run"), on_event=seen.append)
    except Exception:  # noqa: BLE001 - the pipeline raises; the front end prints it
        pass
    assert type(seen[-1]).__name__ == "RunFailed" and seen[-1].error


def test_predicting_loads_no_ray():
    """`advisor predict` and the CLI's start never import Ray (tuners/__init__.py loads lazily)."""
    probe = "import sys, advisor.cli, advisor.predict, tuners.export; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
