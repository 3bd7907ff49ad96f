"""Scores by task. Every primary metric is 'higher is better' so searchers always maximise."""

from __future__ import annotations

import numpy as np
from sklearn import metrics

SILHOUETTE_SAMPLE = 5_000
MAX_CLASSES_DETAILED = 30  # confusion matrices past this many classes are unreadable
RESIDUAL_SAMPLE = 1_000  # test points kept for the residual plot


def score(metric: str, model, x, y) -> float:
    if metric == "silhouette":
        return silhouette(x, model)
    return predicted_score(metric, y, model.predict(x))


def predicted_score(metric: str, y, predicted) -> float:
    """`metric` of `predicted` (class indices or values) against `y`; not for clustering."""
    if metric == "accuracy":
        return float(metrics.accuracy_score(y, predicted))
    if metric == "balanced_accuracy":
        return float(metrics.balanced_accuracy_score(y, predicted))
    if metric == "r2":
        return float(metrics.r2_score(y, predicted))
    raise ValueError(f"unknown metric {metric!r}")


def silhouette(x, model) -> float:
    """Silhouette of the model's clusters in its own feature space, on a bounded sample."""
    features = model[:-1].transform(x)
    labels = model[-1].predict(features)
    if len(set(labels)) < 2:
        return -1.0
    return float(metrics.silhouette_score(features, labels, sample_size=min(SILHOUETTE_SAMPLE, len(labels)), random_state=0))


def report_metrics(metric: str, model, x, y, classes: tuple[str, ...]) -> dict:
    """The secondary figures the report shows beside the primary score."""
    result = {metric: score(metric, model, x, y)}
    if metric == "silhouette":
        return result
    predicted = model.predict(x)
    if classes:
        result["accuracy"] = float(metrics.accuracy_score(y, predicted))
        result["balanced_accuracy"] = float(metrics.balanced_accuracy_score(y, predicted))
        if hasattr(model, "predict_proba"):
            try:
                result["log_loss"] = float(metrics.log_loss(y, model.predict_proba(x), labels=np.arange(len(classes))))
            except (ValueError, AttributeError):
                pass
    else:
        result["r2"] = float(metrics.r2_score(y, predicted))
        result["rmse"] = float(np.sqrt(metrics.mean_squared_error(y, predicted)))
    return result


def test_details(metric: str, model, x, y, classes: tuple[str, ...], seed: int) -> dict | None:
    """What the report plots about the test split: a confusion matrix and per-class figures for
    classification (up to MAX_CLASSES_DETAILED classes), a sample of (actual, predicted) for regression."""
    if metric == "silhouette":
        return None
    predicted = model.predict(x)
    if classes:
        if len(classes) > MAX_CLASSES_DETAILED:
            return None
        labels = np.arange(len(classes))
        matrix = metrics.confusion_matrix(y, predicted, labels=labels)
        precision, recall, f1, support = metrics.precision_recall_fscore_support(y, predicted, labels=labels, zero_division=0)
        per_class = [{"label": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
                     for name, p, r, f, n in zip(classes, precision, recall, f1, support)]
        return {"labels": list(classes), "confusion": matrix.tolist(), "per_class": per_class}
    rows = np.arange(len(y))
    if len(rows) > RESIDUAL_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), RESIDUAL_SAMPLE, replace=False))
    return {"actual": [float(v) for v in np.asarray(y)[rows]], "predicted": [float(v) for v in np.asarray(predicted)[rows]]}
