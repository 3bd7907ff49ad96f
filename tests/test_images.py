"""The CNN family on real images: scikit-learn's digits as a folder of PNGs and as a pixel CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from advisor.loading import load, training_arrays
from advisor.profiling import profile
from examples.make_examples import digits_image_folder
from tuners.data import image_arrays, prepare


def test_pixel_csv_and_image_folder_give_the_same_arrays(examples_dir):
    from_csv = load(examples_dir / "digits.csv")
    from_folder = load(examples_dir / "digits_images")
    folder_profile = profile(from_folder)
    decoded = training_arrays(from_folder.frame, folder_profile.format, folder_profile.image_shape)
    csv_problem = prepare(from_csv.frame, profile(from_csv), seed=0, inputs="image")
    folder_problem = prepare(from_folder.frame, folder_profile, seed=0, inputs="image", images=decoded)
    assert csv_problem.x_train.shape[1:] == folder_problem.x_train.shape[1:] == (1, 8, 8)
    assert csv_problem.image["scale"] == 16.0 and folder_problem.image["scale"] == 255.0
    assert 0.0 <= csv_problem.x_train.min() and csv_problem.x_train.max() <= 1.0
    # the folder's PNGs were written from the same pixels (x 255/16, truncated to bytes)
    first_csv = from_csv.frame.iloc[0, :64].to_numpy(dtype=float).reshape(8, 8) / 16.0
    index = int(np.flatnonzero(from_folder.frame["path"].str.endswith("0000.png"))[0])
    folder_all, _ = image_arrays(from_folder.frame, folder_profile, decoded)
    assert np.allclose(folder_all[index, 0], first_csv, atol=1.0 / 16)


@pytest.mark.slow  # deep-net training end to end on a CPU; the fast suite has the CNN's contract and population tests
def test_cnn_on_an_image_folder_end_to_end_with_predictions(run_cli, tmp_path):
    out = tmp_path / "run"
    folder = digits_image_folder(tmp_path / "data", limit=400)  # 400 of the 1,797 digits: a third of the time
    result = run_cli("recommend", folder, "--trials", "1", "--budget", "300s", "--out", out, "--json")
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
    pd.read_csv(examples_dir / "digits.csv").head(600).to_csv(tmp_path / "digits.csv", index=False)  # quick: 600 of 1,797
    result = run_cli("recommend", tmp_path / "digits.csv", "--family", family, "--trials", "1", "--out",
                     tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["best"]["test_score"] > 0.85


def test_loading_decodes_every_image_of_a_folder_for_training_and_none_for_a_table(examples_dir, tmp_path):
    from PIL import Image

    folder = load(examples_dir / "digits_images")
    shape = profile(folder).image_shape
    decoded = training_arrays(folder.frame, "image_folder", shape)
    assert decoded.dtype == np.uint8 and decoded.shape == (len(folder.frame), 8, 8, 1)
    assert training_arrays(load(examples_dir / "digits.csv").frame, "csv", (8, 8, 1)) is None
    # Large images are shrunk to the training side (64), whatever their size on disk.
    for label in ("a", "b"):
        (tmp_path / "big" / label).mkdir(parents=True)
        for index in range(6):
            Image.new("RGB", (200, 120), (index * 40, 0, 0)).save(tmp_path / "big" / label / f"{index}.png")
    big = load(tmp_path / "big")
    assert training_arrays(big.frame, "image_folder", profile(big).image_shape).shape == (12, 64, 64, 3)


def test_an_image_that_cannot_be_decoded_stops_training_with_one_line(examples_dir, run_cli, tmp_path):
    import shutil

    folder = tmp_path / "digits"
    shutil.copytree(examples_dir / "digits_images", folder)
    broken = next(iter(sorted(folder.rglob("*.png"))))
    broken.write_bytes(b"not a png")
    result = run_cli("recommend", folder, "--trials", "1", "--budget", "60s", "--out", tmp_path / "run")
    assert result.exit_code != 0
    assert f"{broken}: cannot decode this image" in result.stderr and "Traceback" not in result.stderr
