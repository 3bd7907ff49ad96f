"""Sequences: long and wide tables and .npz arrays into padded, masked arrays; the LSTM-vs-GRU duel;
the RNN family end to end on the synthetic set and on real UCR data shipped in examples/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_classification

from advisor.loading import load
from advisor.profiling import profile
from advisor.sequences import sequence_arrays
from advisor.types import Family, Modality, Task
from tuners import duel

from tests.contract import missing_keys
from tuners.data import prepare
from examples.make_examples import sequences_long_csv
from tuners.families.rnn import space as rnn_space

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _wide(long_path: Path, out: Path) -> Path:
    long = pd.read_csv(long_path)
    wide = long.pivot(index="series_id", columns="step", values="value")
    wide.columns = [f"t{c}" for c in wide.columns]
    wide["label"] = long.groupby("series_id")["label"].first()
    wide.to_csv(out, index=False)
    return out


def test_long_format_with_unequal_lengths_pads_and_masks(examples_dir):
    dataset = load(examples_dir / "sequences_long.csv")
    found = profile(dataset)
    assert found.modality == Modality.SEQUENCE and found.samples == 120
    raw = pd.read_csv(examples_dir / "sequences_long.csv")
    lengths = raw.groupby("series_id").size()
    assert found.sequence_length == {"min": lengths.min(), "median": lengths.median(), "max": lengths.max()}
    arrays = sequence_arrays(dataset.frame.sample(frac=1.0, random_state=1), found.sequence, "label")  # any row order
    assert arrays.values.shape == (120, lengths.max(), 2)
    first = arrays.series_ids.tolist().index("s007")
    series = raw[raw["series_id"] == "s007"].sort_values("step")
    assert arrays.lengths[first] == len(series)
    assert np.allclose(arrays.values[first, : len(series), 0], series["value"], atol=1e-6)
    assert not arrays.values[first, len(series):].any()  # padding is zero ...
    mask = arrays.with_mask()[first, :, -1]
    assert mask.sum() == len(series) and mask[: len(series)].all()  # ... and masked
    assert arrays.labels.iloc[first] == series["label"].iloc[0]


def test_real_ucr_sets_are_sequences_and_the_rules_pick_conv1d_then_rnn(recommend_json):
    for name, series, steps, channels in (("gunpoint", 200, (150, 150), 1), ("italypowerdemand", 1096, (24, 24), 1),
                                          ("japanesevowels", 640, (7, 29), 12)):
        payload = recommend_json(EXAMPLES / f"{name}.csv.gz")
        found = payload["profile"]
        assert payload["family"] == "conv1d" and found["modality"] == "sequence", name
        assert [r["family"] for r in payload["ranking"][:2]] == ["conv1d", "rnn"]
        assert found["samples"] == series and (found["sequence_length"]["min"], found["sequence_length"]["max"]) == steps
        assert len(found["sequence"]["value_columns"]) == channels


def test_wide_format_is_detected_and_numbered_features_are_not(tmp_path, recommend_json):
    wide = recommend_json(_wide(EXAMPLES / "gunpoint.csv.gz", tmp_path / "gunpoint_wide.csv"))
    assert wide["profile"]["modality"] == "sequence"
    # One row per series: flat models can read it, and the measured rule hands it to the probe's verdict
    # (GunPoint is non-linear: boosting); the same series in long format go to the RNN (test above).
    fired = {t["rule"] for t in wide["trace"] if t["fired"]}
    assert {"time-rnn", "time-conv1d", "wide-sequence-flat", "probe-nonlinear"} <= fired and wide["family"] == "boosting"
    assert [r["family"] for r in wide["ranking"]][:2] == ["boosting", "conv1d"]
    assert wide["profile"]["sequence"]["layout"] == "wide" and wide["profile"]["samples"] == 200
    assert wide["profile"]["sequence_length"]["max"] == 150
    x, y = make_classification(400, 20, random_state=0)
    table = pd.DataFrame(x, columns=[f"feature_{i}" for i in range(20)]).assign(y=y)
    table.to_csv(tmp_path / "numbered.csv", index=False)
    assert recommend_json(tmp_path / "numbered.csv")["profile"]["modality"] == "tabular"


def test_wide_rows_end_at_their_trailing_gap(tmp_path):
    rng = np.random.default_rng(0)
    lengths = [12, 9, 5, 12] * 5
    rows = [np.r_[np.sin(np.linspace(0, 3, 12) + rng.uniform(0, 6))[:n], [np.nan] * (12 - n)] for n in lengths]
    frame = pd.DataFrame(rows, columns=[f"t{i}" for i in range(12)]).assign(label=[0, 1] * 10)
    frame.to_csv(tmp_path / "ragged.csv", index=False)
    found = profile(load(tmp_path / "ragged.csv"))
    assert found.modality == Modality.SEQUENCE
    arrays = sequence_arrays(frame, found.sequence, "label")
    assert arrays.lengths.tolist() == lengths and arrays.values.shape == (20, 12, 1)
    assert np.isnan(arrays.values).sum() == 0 and not arrays.values[2, 5:].any()


def test_npz_images_sequences_and_tables(tmp_path):
    digits = load_digits()
    np.savez(tmp_path / "digits.npz", x=digits.images, y=digits.target)  # (n, 8, 8) greyscale
    images = profile(load(tmp_path / "digits.npz"))
    assert images.modality == Modality.IMAGE and images.image_shape == (8, 8, 1) and images.classes == 10

    rng = np.random.default_rng(0)
    colour = rng.integers(0, 255, size=(40, 3, 6, 10)).astype(np.uint8)  # channels first, not square
    np.savez(tmp_path / "colour.npz", images=colour, labels=np.arange(40) % 2)
    assert profile(load(tmp_path / "colour.npz")).image_shape == (6, 10, 3)

    series = rng.normal(size=(60, 30, 2)).cumsum(axis=1)
    series[::2, 20:] = np.nan  # every other series is 20 steps long
    np.savez(tmp_path / "series.npz", x=series, y=np.repeat(["up", "down"], 30))
    found = profile(load(tmp_path / "series.npz"))
    assert found.modality == Modality.SEQUENCE and found.samples == 60
    assert found.sequence_length["min"] == 20 and found.sequence_length["max"] == 30
    assert found.task == Task.BINARY and found.class_balance == {"up": 0.5, "down": 0.5}

    np.savez(tmp_path / "table.npz", x=rng.normal(size=(50, 3)), y=rng.normal(size=50))
    assert profile(load(tmp_path / "table.npz")).task == Task.REGRESSION


def test_npz_refuses_pickled_objects_and_bad_shapes(tmp_path, run_cli):
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}, {"b": 2}], dtype=object))
    result = run_cli("recommend", tmp_path / "objects.npz", "--no-tune", "--out", tmp_path / "r1")
    assert result.exit_code == 2 and "pickled" in result.stderr and "Traceback" not in result.stderr
    np.savez(tmp_path / "flat.npz", x=np.arange(10.0))
    result = run_cli("recommend", tmp_path / "flat.npz", "--no-tune", "--out", tmp_path / "r2")
    assert result.exit_code == 2 and "shape (10,)" in result.stderr
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    result = run_cli("recommend", tmp_path / "broken.npz", "--no-tune", "--out", tmp_path / "r3")
    assert result.exit_code == 2 and "npz" in result.stderr


def _problem(path: Path):
    dataset = load(path)
    return prepare(dataset.frame, profile(dataset), seed=0, inputs="sequence")


def test_the_duel_gives_both_cells_the_same_seeded_subset_and_configurations(examples_dir):
    problem = _problem(EXAMPLES / "italypowerdemand.csv.gz")
    space = rnn_space(problem)
    plan = duel.plan(problem, space, seed=7)
    again = duel.plan(problem, space, seed=7)
    other = duel.plan(problem, space, seed=8)
    assert plan.subset_rows == len(plan.problem.y_train) == int(len(problem.y_train) * duel.SUBSET_SHARE)
    assert np.array_equal(plan.problem.x_train, again.problem.x_train) and plan.points == again.points
    assert not np.array_equal(plan.problem.x_train, other.problem.x_train)
    assert len(plan.problem.splits) == duel.FOLDS
    gru, lstm = plan.points[0::2], plan.points[1::2]
    assert [p["cell"] for p in gru] == ["gru"] * duel.PAIRS and [p["cell"] for p in lstm] == ["lstm"] * duel.PAIRS
    assert [dict(p, cell=None) for p in gru] == [dict(p, cell=None) for p in lstm]  # only the cell differs
    assert gru[0] == dict(space.start, cell="gru") and all(space.contains(p) for p in plan.points)


def _trial(cell: str, score: float, sem: float = 0.01) -> dict:
    return {"config": {"cell": cell}, "status": "completed", "score": score, "score_sem": sem}


def test_the_duel_goes_to_gru_on_a_tie_and_to_lstm_only_beyond_noise():
    tie = duel.decide([_trial("gru", 0.90), _trial("lstm", 0.90)], 100, 0)
    assert tie["winner"] == "gru" and "ties go to the cheaper GRU" in tie["reason"]
    close = duel.decide([_trial("gru", 0.90), _trial("lstm", 0.905)], 100, 0)
    assert close["winner"] == "gru" and close["scores"] == {"lstm": 0.905, "gru": 0.9}
    clear = duel.decide([_trial("gru", 0.80), _trial("lstm", 0.95), _trial("lstm", 0.5)], 100, 0)
    assert clear["winner"] == "lstm" and "more than one standard error" in clear["reason"]
    assert set(clear) >= {"subset_rows", "seed", "scores", "winner", "reason"}
    nothing = duel.decide([{"config": {"cell": "lstm"}, "status": "failed", "score": None, "score_sem": None}], 100, 0)
    assert nothing["winner"] == "gru" and nothing["scores"] == {"lstm": None, "gru": None}


@pytest.mark.slow  # deep-net training end to end on a CPU; the fast suite has the RNN's contract tests
def test_rnn_end_to_end_with_the_duel_and_predictions(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    data = sequences_long_csv(tmp_path, series=80, lengths=(20, 40), name="short_chirps.csv")  # small: fast on 2 CPUs
    result = run_cli("recommend", data, "--family", "rnn", "--trials", "4", "--budget", "600s", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["family"] == Family.RNN.value and payload["tuned"] is True
    found = payload["duel"]
    assert found["winner"] in ("lstm", "gru") and found["subset_rows"] == 64 and found["seed"] == 0
    assert set(found["scores"]) == {"lstm", "gru"} and all(v is not None for v in found["scores"].values())
    assert found["reason"] and len(found["trials"]) == 2
    assert payload["tuning"]["stages"] == ["duel", "random", "fine"]
    assert all(t["config"]["cell"] == found["winner"] for t in payload["trials"])
    assert missing_keys(payload, "ipd") == []
    majority = max(payload["profile"]["class_balance"].values())
    assert payload["best"]["test_score"] >= majority + 0.3  # synthetic rising/falling chirps: near 1.0

    predicted = run_cli("predict", out, out / "test_split.csv", "--out", tmp_path / "predictions.csv")
    assert predicted.exit_code == 0, predicted.stderr
    frame = pd.read_csv(tmp_path / "predictions.csv")
    truth = pd.read_csv(out / "test_split.csv").groupby("series_id")["label"].first()
    assert len(frame) == len(truth) == 16 and set(frame.columns) >= {"series", "prediction", "probability_rising"}
    accuracy = (frame.set_index("series")["prediction"] == truth.reindex(frame["series"])).mean()
    assert accuracy == pytest.approx(payload["best"]["test_score"])


def test_rnn_needs_sequences_and_long_sequences_need_rnn(examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "iris.csv", "--family", "rnn", "--out", tmp_path / "r1")
    assert result.exit_code == 2 and "needs sequences" in result.stderr
    result = run_cli("recommend", examples_dir / "sequences_long.csv", "--family", "boosting", "--out", tmp_path / "r2")
    assert result.exit_code == 2 and "train only the conv1d or rnn family" in result.stderr


@pytest.mark.slow  # deep-net training end to end on a CPU; the fast suite has the family's contract tests
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_conv1d_trains_on_long_and_wide_series_and_predicts(layout, run_cli, tmp_path):
    """The 1-D convolutional family (a module and one registry entry) on both layouts, end to end."""
    # 40-80 steps: smooth enough in wide form for the profile to read the columns as ordered steps
    data = sequences_long_csv(tmp_path, series=80, lengths=(40, 80), name="chirps.csv")
    if layout == "wide":
        data = _wide(data, tmp_path / "chirps_wide.csv")
    out = tmp_path / "run"
    result = run_cli("recommend", data, "--family", "conv1d", "--trials", "1", "--budget", "600s", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["family"] == "conv1d" and payload["profile"]["sequence"]["layout"] == layout
    assert "duel" not in payload and payload["model"]["format"] == "torch"
    assert {"filters", "kernel", "blocks"} <= set(payload["tuning"]["space"])
    majority = max(payload["profile"]["class_balance"].values())
    assert payload["best"]["test_score"] >= majority + 0.3  # rising against falling chirps
    predicted = run_cli("predict", out, data, "--out", tmp_path / "predictions.csv")
    assert predicted.exit_code == 0, predicted.stderr
    assert len(pd.read_csv(tmp_path / "predictions.csv")) == 80
