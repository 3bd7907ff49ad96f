"""The facts rules may look at: a flat, named view of the profile. Rules name facts, never fields."""

from __future__ import annotations

from typing import Any

from advisor.thresholds import MLP_SECONDS_PER_1K_SAMPLES
from advisor.types import Profile

# Every fact, with what it means; rules are checked against these names when they load.
FACTS: dict[str, str] = {
    "labelled": "whether the data has a target column",
    "target": "the target column's name",
    "task": "binary, multiclass, regression, clustering or forecast",
    "modality": "tabular, image, sequence or text",
    "samples": "examples a model learns from: rows, images, series or documents",
    "rows": "rows in the file",
    "features": "feature columns (pixels for images)",
    "classes": "distinct target classes (0 for regression and clustering)",
    "linear": "the linearity probe's verdict (None when not measured)",
    "linear_score": "the linear model's cross-validated score in the probe",
    "nonlinear_score": "the non-linear reference's cross-validated score in the probe",
    "gap_se": "standard error of the probe's per-fold differences (non-linear - linear)",
    "metric": "the probe's score metric",
    "image_shape": "height x width x channels of the images",
    "series": "number of series in sequence data",
    "median_length": "median steps per series",
    "sequence_layout": "wide (one row per series, flat models can read it) or long (one row per step)",
    "probe_best": "the better of the probe's two cross-validated scores",
    "budget_s": "the run's --budget in seconds (None when the run does not tune)",
    "mlp_budget_s": "seconds an MLP needs on this many samples to train (MLP_SECONDS_PER_1K_SAMPLES)",
    "budget_short_for_mlp": "whether the budget is under mlp_budget_s (None when the run does not tune)",
    "series_count": "series to forecast (None when the task is not forecasting)",
    "frequency": "the forecast series' step, e.g. MS (monthly) or step (None when not forecasting)",
    "season_length": "the forecast series' season in steps, 1 for none (None when not forecasting)",
}


def facts(profile: Profile, budget_s: float | None = None) -> dict[str, Any]:
    """The profile's facts, and the run's budget where it tunes (`budget_s`; None: a decision only)."""
    sequence = profile.sequence
    mlp_budget_s = MLP_SECONDS_PER_1K_SAMPLES * profile.samples / 1000
    image = "x".join(str(d) for d in profile.image_shape) if profile.image_shape else None
    return {
        "labelled": profile.target is not None,
        "target": profile.target,
        "task": profile.task,
        "modality": profile.modality,
        "samples": profile.samples,
        "rows": profile.rows,
        "features": profile.columns if profile.image_shape else profile.features,
        "classes": profile.classes,
        "linear": profile.linearity.linear,
        "linear_score": profile.linearity.linear_score,
        "nonlinear_score": profile.linearity.nonlinear_score,
        "gap_se": profile.linearity.gap_se,
        "metric": profile.linearity.metric or None,
        "image_shape": image,
        "series": sequence.series if sequence else None,
        "median_length": sequence.median_length if sequence else None,
        "sequence_layout": sequence.layout if sequence else None,
        "probe_best": _best(profile.linearity.linear_score, profile.linearity.nonlinear_score),
        "budget_s": budget_s,
        "mlp_budget_s": mlp_budget_s,
        "budget_short_for_mlp": None if budget_s is None else budget_s < mlp_budget_s,
        "series_count": profile.forecast.series if profile.forecast else None,
        "frequency": profile.forecast.frequency if profile.forecast else None,
        "season_length": profile.forecast.season_length if profile.forecast else None,
    }


def _best(*scores: float | None) -> float | None:
    measured = [s for s in scores if s is not None]
    return max(measured) if measured else None
