"""The report's figures, drawn by matplotlib from a run's result (the dict in result.json) and
returned as inline SVG. Text is drawn as paths (matplotlib's default), so a page needs no font,
and matplotlib escapes whatever it writes into SVG comments.

Each function returns None when the run has nothing to draw for it.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
from matplotlib.figure import Figure

STAGE_COLOURS = {"random": "#1f6feb", "fine": "#1a7f37", "bayes": "#8250df", "duel": "#bf8700"}
CELL_COLOURS = {"lstm": "#1f6feb", "gru": "#bf8700"}
MAX_PARAM_PANELS = 12
CURVES_SHOWN = 3


def _svg(figure: Figure, name: str) -> str:
    buffer = io.StringIO()
    # A per-figure salt keeps matplotlib's generated ids (clip paths) distinct between figures on one page.
    with matplotlib.rc_context({"svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _scored(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in trials if t.get("score") is not None and math.isfinite(t["score"])]


def score_over_trials(result: dict[str, Any]) -> str | None:
    """Each trial's validation score in the order trials finished, and against time, with the running best."""
    trials = sorted(_scored(result.get("trials", [])), key=lambda t: t.get("finished_at") or 0.0)
    if not trials:
        return None
    metric = result["best"]["metric"]
    figure = Figure(figsize=(10, 3.4))
    by_order, by_time = figure.subplots(1, 2)
    start = min((t["finished_at"] - (t["seconds"] or 0.0)) for t in trials if t.get("finished_at")) if all(
        t.get("finished_at") for t in trials) else None
    for axis, xs, label in ((by_order, list(range(1, len(trials) + 1)), "trial (in order of finishing)"),
                            (by_time, [t["finished_at"] - start for t in trials] if start is not None else None,
                             "seconds since the first trial started")):
        if xs is None:
            axis.set_visible(False)
            continue
        for stage in dict.fromkeys(t["stage"] for t in trials):
            points = [(x, t["score"], t["status"]) for x, t in zip(xs, trials) if t["stage"] == stage]
            colour = STAGE_COLOURS.get(stage, "#57606a")
            full = [(x, y) for x, y, status in points if status == "completed"]
            partial = [(x, y) for x, y, status in points if status != "completed"]
            if full:
                axis.scatter(*zip(*full), s=14, color=colour, label=f"{stage}")
            if partial:
                axis.scatter(*zip(*partial), s=14, facecolors="none", edgecolors=colour, label=f"{stage} (stopped early)")
        running, best = [], -math.inf
        for t in trials:
            best = max(best, t["score"] if t["status"] == "completed" else -math.inf)
            running.append(best if best > -math.inf else None)
        steps = [(x, y) for x, y in zip(xs, running) if y is not None]
        if steps:
            axis.step(*zip(*steps), where="post", color="#1d2733", linewidth=1, label="best so far")
        axis.set_xlabel(label)
        axis.set_ylabel(f"validation {metric}")
        axis.grid(alpha=0.3)
    by_order.legend(fontsize=7, loc="lower right")
    return _svg(figure, "scores")


def parameters_against_score(result: dict[str, Any]) -> str | None:
    """One panel per hyperparameter: its value in each trial against the trial's score, on the
    range's own scale (log axes for log-sampled ranges, 1 - value on a log axis for momentum)."""
    trials = [t for t in _scored(result.get("trials", [])) if t["status"] == "completed"]
    space = result["tuning"]["space"]
    names = [n for n, p in space.items() if len({repr(t["config"].get(n)) for t in trials}) > 1][:MAX_PARAM_PANELS]
    if not trials or not names:
        return None
    columns = min(4, len(names))
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(2.6 * columns, 2.2 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    best_id = result["best"].get("trial_id")
    for axis, name in zip(axes, names):
        scale = space[name].get("scale", "linear")
        values = [t["config"].get(name) for t in trials]
        scores = [t["score"] for t in trials]
        label = name
        if scale == "choice":
            options = list(dict.fromkeys(str(v) for v in values))
            values = [options.index(str(v)) for v in values]
            axis.set_xticks(range(len(options)), options, fontsize=7, rotation=20)
        elif scale == "one-minus-log":
            values, label = [1 - v for v in values], f"1 - {name}"
            _log_axis(axis, values, 10)
        elif scale in ("log", "powers-of-two"):
            _log_axis(axis, values, 2 if scale == "powers-of-two" else 10)
        axis.scatter(values, scores, s=10, alpha=0.7, color="#1f6feb")
        best = [(v, s) for v, s, t in zip(values, scores, trials) if t["trial_id"] == best_id]
        if best:
            axis.scatter(*zip(*best), s=60, marker="*", color="#cf222e", zorder=3)
        axis.set_xlabel(f"{label} ({scale})", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in axes[len(names):]:
        axis.set_visible(False)
    axes[0].set_ylabel(f"validation {result['best']['metric']}", fontsize=8)
    figure.tight_layout()
    return _svg(figure, "parameters")


def _log_axis(axis, values: list[float], base: int) -> None:
    """A log axis spanning at least one step of its base, labelled only at powers of the base."""
    from matplotlib.ticker import LogFormatterSciNotation, NullFormatter

    positive = [v for v in values if v > 0]
    axis.set_xscale("log", base=base)
    if positive:
        low, high = min(positive), max(positive)
        if high / low < base:
            middle = math.sqrt(low * high)
            low, high = min(low, middle / math.sqrt(base)), max(high, middle * math.sqrt(base))
        axis.set_xlim(low / 1.3, high * 1.3)
    axis.xaxis.set_major_formatter(LogFormatterSciNotation(base=base))
    axis.xaxis.set_minor_formatter(NullFormatter())


def learning_curves(result: dict[str, Any]) -> str | None:
    """Loss per epoch (or boosting round) of the best trials on their first fold; the dotted line is
    where early stopping kept the model, the curve ends where patience ran out."""
    trials = [t for t in _scored(result.get("trials", [])) if t.get("curve")]
    trials = sorted(trials, key=lambda t: -t["score"])[:CURVES_SHOWN]
    if not trials:
        return None
    figure = Figure(figsize=(10, 3.2))
    axes = figure.subplots(1, len(trials), squeeze=False).ravel()
    for axis, trial in zip(axes, trials):
        steps = [p[0] for p in trial["curve"]]
        train = [(p[0], p[1]) for p in trial["curve"] if p[1] is not None]
        if train:
            axis.plot(*zip(*train), color="#57606a", linestyle="--", linewidth=1, label="training loss")
        axis.plot(steps, [p[2] for p in trial["curve"]], color="#1f6feb", linewidth=1.5, label="validation loss")
        if trial.get("curve_best"):
            axis.axvline(trial["curve_best"], color="#cf222e", linestyle=":", label=f"kept: step {trial['curve_best']}")
        axis.set_title(f"{trial['trial_id']}  score {trial['score']:.4g}", fontsize=8)
        axis.set_xlabel("epoch / round", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    axes[0].set_ylabel("loss", fontsize=8)
    figure.tight_layout()
    return _svg(figure, "curves")


def duel(result: dict[str, Any]) -> str | None:
    """The LSTM/GRU duel: each paired configuration's validation score with each cell."""
    record = result.get("duel")
    if not record or not record.get("trials"):
        return None
    pairs: dict[str, dict[str, float]] = {}
    for trial in record["trials"]:
        key = repr(sorted((k, v) for k, v in trial["config"].items() if k != "cell"))
        pairs.setdefault(key, {})[trial["config"]["cell"]] = trial["score"] if trial["score"] is not None else float("nan")
    figure = Figure(figsize=(6, 2.8))
    axis = figure.subplots()
    width = 0.38
    for offset, cell in ((-width / 2, "lstm"), (width / 2, "gru")):
        heights = [scores.get(cell, float("nan")) for scores in pairs.values()]
        axis.bar([i + offset for i in range(len(pairs))], heights, width, color=CELL_COLOURS[cell], label=cell.upper())
    axis.set_xticks(range(len(pairs)), ["start" if i == 0 else f"config {i + 1}" for i in range(len(pairs))], fontsize=8)
    axis.set_ylabel(f"validation {result['best']['metric']}", fontsize=8)
    axis.set_title(f"same {record['subset_rows']} series, same folds, seed {record['seed']}: winner {record['winner'].upper()}",
                   fontsize=9)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3, axis="y")
    return _svg(figure, "duel")


def test_results(result: dict[str, Any]) -> str | None:
    """A confusion matrix (classification) or predicted-against-actual and residuals (regression)."""
    details = result.get("tuning", {}).get("test_details")
    if not details:
        return None
    if "confusion" in details:
        labels, matrix = details["labels"], details["confusion"]
        side = min(7.0, 2.0 + 0.35 * len(labels))
        figure = Figure(figsize=(side + 1, side))
        axis = figure.subplots()
        image = axis.imshow(matrix, cmap="Blues")
        ticks = range(len(labels))
        shown = [label if len(label) <= 14 else label[:13] + "…" for label in labels]
        axis.set_xticks(ticks, shown, rotation=45, ha="right", fontsize=7)
        axis.set_yticks(ticks, shown, fontsize=7)
        if len(labels) <= 12:
            peak = max(max(row) for row in matrix) or 1
            for i, row in enumerate(matrix):
                for j, count in enumerate(row):
                    axis.text(j, i, str(count), ha="center", va="center", fontsize=7,
                              color="white" if count > peak / 2 else "#1d2733")
        axis.set_xlabel("predicted", fontsize=8)
        axis.set_ylabel("actual", fontsize=8)
        figure.colorbar(image, ax=axis, shrink=0.8)
        return _svg(figure, "confusion")
    actual, predicted = details["actual"], details["predicted"]
    figure = Figure(figsize=(9, 3.4))
    left, right = figure.subplots(1, 2)
    left.scatter(actual, predicted, s=8, alpha=0.6, color="#1f6feb")
    low, high = min(actual + predicted), max(actual + predicted)
    left.plot([low, high], [low, high], color="#cf222e", linewidth=1)
    left.set_xlabel("actual", fontsize=8)
    left.set_ylabel("predicted", fontsize=8)
    right.scatter(predicted, [a - p for a, p in zip(actual, predicted)], s=8, alpha=0.6, color="#1f6feb")
    right.axhline(0, color="#cf222e", linewidth=1)
    right.set_xlabel("predicted", fontsize=8)
    right.set_ylabel("residual (actual - predicted)", fontsize=8)
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return _svg(figure, "residuals")


def all_plots(result: dict[str, Any]) -> dict[str, str | None]:
    if not result.get("tuned"):
        return {}
    if "forecast" in result:
        from reports.forecast_plots import forecast_plots

        return forecast_plots(result)
    return {"scores": score_over_trials(result), "parameters": parameters_against_score(result),
            "curves": learning_curves(result), "duel": duel(result), "test": test_results(result)}
