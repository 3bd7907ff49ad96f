"""The CNN family on real images: scikit-learn's digits as a folder of PNGs and as a pixel CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from advisor.loading import load
from advisor.profiling import profile
from tuners.data import prepare


def test_pixel_csv_and_image_folder_give_the_same_arrays(examples_dir):
    from_csv = load(examples_dir / "digits.csv")
    from_folder = load(examples_dir / "digits_images")
    csv_problem = prepare(from_csv.frame, profile(from_csv), seed=0, inputs="image")
    folder_problem = prepare(from_folder.frame, profile(from_folder), seed=0, inputs="image")
    assert csv_problem.x_train.shape[1:] == folder_problem.x_train.shape[1:] == (1, 8, 8)
    assert csv_problem.image["scale"] == 16.0 and folder_problem.image["scale"] == 255.0
    assert 0.0 <= csv_problem.x_train.min() and csv_problem.x_train.max() <= 1.0
    # the folder's PNGs were written from the same pixels (x 255/16, truncated to bytes)
    first_csv = from_csv.frame.iloc[0, :64].to_numpy(dtype=float).reshape(8, 8) / 16.0
    index = int(np.flatnonzero(from_folder.frame["path"].str.endswith("0000.png"))[0])
    folder_all, _ = __import__("tuners.data", fromlist=["image_arrays"]).image_arrays(from_folder.frame, profile(from_folder))
    assert np.allclose(folder_all[index, 0], first_csv, atol=1.0 / 16)


def test_cnn_on_an_image_folder_end_to_end_with_predictions(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("recommend", examples_dir / "digits_images", "--trials", "1", "--budget", "300s", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["family"] == "cnn" and payload["tuned"] is True
    assert payload["best"]["metric"] == "accuracy" and payload["best"]["test_score"] >= 0.95
    assert payload["model"]["format"] == "torch" and (out / "model" / "weights.npz").is_file()

    sample = tmp_path / "new_images"
    test_split = pd.read_csv(out / "test_split.csv").head(40)
    for path in test_split["path"]:
        target = sample / path.split("/")[-2] / path.split("/")[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(open(path, "rb").read())
    predicted = run_cli("predict", out, sample, "--out", tmp_path / "predictions.csv")
    assert predicted.exit_code == 0, predicted.stderr
    frame = pd.read_csv(tmp_path / "predictions.csv")
    assert len(frame) == 40 and set(frame.columns) >= {"file", "prediction", "probability_0"}
    truth = frame["file"].str.split("/").str[-2].astype(int)
    assert (frame["prediction"] == truth).mean() >= 0.9


def test_cnn_needs_images(examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "iris.csv", "--family", "cnn", "--out", tmp_path / "run")
    assert result.exit_code == 2 and "needs images" in result.stderr


@pytest.mark.parametrize("family", ["linear", "boosting"])
def test_flat_families_still_train_on_a_pixel_csv(family, examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "digits.csv", "--family", family, "--trials", "1", "--out",
                     tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["best"]["test_score"] > 0.85
