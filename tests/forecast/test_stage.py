"""tuners/forecast/stage.py's choice: the simplest model family within one standard error of the
lowest mean backtest MASE, a baseline only when it is the lowest itself."""

from __future__ import annotations

from tuners.forecast.stage import choose


def _trials(**scores) -> list[dict]:
    return [{"trial_id": str(i), "family": name, "config": {}, "score": score, "sem": sem, "seconds": 0.1}
            for i, (name, (score, sem)) in enumerate(scores.items())]


def test_the_simplest_model_within_one_standard_error_of_the_lowest_is_chosen():
    near = _trials(naive=(1.0, 0.1), seasonal_naive=(0.45, 0.1), theta=(0.52, 0.05), linear=(0.44, 0.05),
                   boosting=(0.40, 0.05))
    assert choose(near, None)["family"] == "linear"  # 0.44 is within 0.40 + 0.05; theta's 0.52 is not
    clear = _trials(naive=(1.0, 0.1), seasonal_naive=(0.95, 0.1), theta=(0.52, 0.05), boosting=(0.40, 0.05))
    assert choose(clear, None)["family"] == "boosting"
    # seasonal naive is within the noise of the lowest model, but a baseline is chosen only as the lowest
    assert choose(_trials(seasonal_naive=(0.50, 0.1), ets=(0.48, 0.05)), None)["family"] == "ets"
    assert choose(_trials(seasonal_naive=(0.40, 0.1), ets=(0.48, 0.05)), None)["family"] == "seasonal_naive"
    assert choose(near, "boosting")["family"] == "boosting"  # --family keeps its own
