"""The KerasTuner backend: the search space's translation, and the neural families end to end on
CPU under both Keras backends (TensorFlow, and PyTorch with TensorFlow hidden as if not installed)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from examples import make_examples
from tuners.space import Choice, IntRange, LogUniform, OneMinusLogUniform, Param, PowersOfTwo, Space, Uniform

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_TENSORFLOW = Path(__file__).parent / "without_tensorflow"
ADVISOR = [sys.executable, "-m", "advisor"]

SPACE = Space(
    {
        "learning_rate": Param(LogUniform(1e-4, 1.0)),
        "dropout": Param(Uniform(0.0, 0.5)),
        "momentum": Param(OneMinusLogUniform(0.9, 0.999)),
        "units": Param(IntRange(4, 256, log=True)),
        "layers": Param(IntRange(1, 3)),
        "batch_size": Param(PowersOfTwo(8, 256)),
        "activation": Param(Choice(("relu", "tanh"))),
        "batch_norm": Param(Choice((False, True))),
        "cell": Param(Choice(("gru",))),
    },
    start={"learning_rate": 0.01, "dropout": 0.0, "momentum": 0.9, "units": 16, "layers": 1, "batch_size": 32,
           "activation": "relu", "batch_norm": False, "cell": "gru"},
)


def test_every_space_type_becomes_the_right_kerastuner_hyperparameter():
    pytest.importorskip("keras_tuner")
    from tuners.keras_backend import declare

    hp = declare(SPACE)
    found = {p.name: p for p in hp.space}
    lr, dropout, beta = found["learning_rate"], found["dropout"], found["one_minus_momentum"]
    assert type(lr).__name__ == "Float" and lr.sampling == "log" and (lr.min_value, lr.max_value) == (1e-4, 1.0)
    assert type(dropout).__name__ == "Float" and dropout.sampling == "linear"
    # seed 003's momentum: 1 - beta searched on a log scale over [1e-3, 1e-1]
    assert type(beta).__name__ == "Float" and beta.sampling == "log"
    assert math.isclose(beta.min_value, 1e-3) and math.isclose(beta.max_value, 0.1) and math.isclose(beta.default, 0.1)
    assert type(found["units"]).__name__ == "Int" and found["units"].sampling == "log"
    assert (found["layers"].min_value, found["layers"].max_value, found["layers"].sampling) == (1, 3, "linear")
    assert type(found["batch_size"]).__name__ == "Choice" and list(found["batch_size"].values) == [8, 16, 32, 64, 128, 256]
    assert found["batch_size"].ordered and not found["activation"].ordered
    assert type(found["batch_norm"]).__name__ == "Choice" and list(found["batch_norm"].values) == [False, True]
    assert type(found["cell"]).__name__ == "Fixed" and found["cell"].value == "gru"
    assert {name: p.default for name, p in found.items() if name != "cell"} == {
        "learning_rate": 0.01, "dropout": 0.0, "one_minus_momentum": pytest.approx(0.1), "units": 16, "layers": 1,
        "batch_size": 32, "activation": "relu", "batch_norm": False}


def test_kerastuner_samples_decode_into_the_space_on_its_scales():
    pytest.importorskip("keras_tuner")
    from tuners.keras_backend import decode, declare

    hp = declare(SPACE)
    samples = [decode({p.name: p.random_sample(seed) for p in hp.space}, SPACE) for seed in range(2_000)]
    assert all(SPACE.contains(config) for config in samples)
    assert {type(c["batch_norm"]) for c in samples} == {bool}  # KerasTuner keeps booleans as 0/1
    decades = np.floor(np.log10([c["learning_rate"] for c in samples]))
    assert np.allclose(np.bincount((decades + 4).astype(int), minlength=4)[:4] / len(samples), 0.25, atol=0.04)
    betas = np.array([c["momentum"] for c in samples])  # as many in 0.9-0.99 as in 0.99-0.999
    assert abs(np.mean(betas < 0.99) - 0.5) < 0.04
    assert {c["layers"] for c in samples} == {1, 2, 3} and {c["batch_size"] for c in samples} == {8, 16, 32, 64, 128, 256}
    units = np.array([c["units"] for c in samples])  # log scale: [4, 16) holds a third of [4, 256]
    assert units.min() == 4 and units.max() >= 200 and abs(np.mean(units < 16) - math.log(4) / math.log(64)) < 0.05
    assert decode({"one_minus_momentum": 0.1, "tuner/epochs": 3, "tuner/round": 0}) == {"momentum": pytest.approx(0.9)}


def test_search_names_map_to_kerastuner_oracles_and_hyperband_fits_the_budget():
    keras_tuner = pytest.importorskip("keras_tuner")
    from tuners.keras_backend import declare, hyperband_epochs, hyperband_iteration, oracle

    hp = declare(SPACE)
    assert isinstance(oracle("hyperband", hp, 0, 9), keras_tuner.oracles.HyperbandOracle)
    assert isinstance(oracle("random", hp, 0, 9), keras_tuner.oracles.RandomSearchOracle)
    assert isinstance(oracle("bayes", hp, 0, 9), keras_tuner.oracles.BayesianOptimizationOracle)
    trials, epochs = hyperband_iteration(9)
    assert trials > 9 and epochs > 9 * 3
    # slow fits get short brackets; cheap ones the longest
    assert hyperband_epochs(seconds_per_fit=5.0, seconds_per_epoch=1.0, folds=5, seconds_left=60) == 3
    assert hyperband_epochs(seconds_per_fit=0.01, seconds_per_epoch=0.001, folds=5, seconds_left=600) == 81


def test_hyperband_is_keras_only_and_keras_runs_in_this_process(examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "iris.csv", "--search", "hyperband", "--out", tmp_path / "a")
    assert result.exit_code == 2 and "--tuner keras" in result.stderr
    result = run_cli("recommend", examples_dir / "iris.csv", "--family", "mlp", "--tuner", "keras", "--address", "auto",
                     "--out", tmp_path / "b")
    assert result.exit_code == 2 and "--address is for Ray Tune" in result.stderr and "Traceback" not in result.stderr


def test_other_families_stay_with_ray_tune_under_keras(examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "iris.csv", "--tuner", "keras", "--trials", "3", "--no-race",
                     "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["family"] == "linear" and payload["tuning"]["backend"] == "ray"
    assert payload["tuning"]["search"] == "random" and len(payload["trials"]) == 3
    assert any("tuned with Ray Tune" in note for note in payload["notes"])


@pytest.fixture(scope="module")
def keras_data(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keras_data")
    return {
        "mlp": make_examples.sklearn_csv("iris", folder),
        "cnn": make_examples.digits_image_folder(folder, limit=150),
        "rnn": make_examples.sequences_long_csv(folder, series=60, seed=0, lengths=(12, 24), name="series.csv"),
    }


def _environment(backend: str) -> dict[str, str]:
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    if backend == "torch":  # as on a GPU machine with PyTorch only: importing TensorFlow fails
        env["PYTHONPATH"] = f"{WITHOUT_TENSORFLOW}{os.pathsep}{ROOT}"
    return env


def _advisor(args: list, backend: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*ADVISOR, *map(str, args)], env=_environment(backend), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


# A trial limit, not the clock, ends the mlp and cnn runs (start + 3 Hyperband trials), so every
# machine runs the same trials. The rnn run (duel, start: the slowest fits on a CPU) is cut by a budget.
LIMITS = {"mlp": ["--trials", "4", "--budget", "300s"], "cnn": ["--trials", "4", "--budget", "300s"],
          "rnn": ["--trials", "4", "--budget", "30s"]}


# Each family under one Keras backend, and each backend under one family at least: the backend is
# Keras's business. TensorFlow's CPU convolutions alone took nearly 4 minutes of the suite, and its
# MLP on iris 156 s against 51 s on torch (per-epoch overhead: 100 epochs x 5 folds per trial).
PAIRS = [("mlp", "torch"), ("cnn", "torch"), ("rnn", "tensorflow")]


@pytest.mark.slow
@pytest.mark.parametrize("family, backend", PAIRS)
def test_each_neural_family_tunes_exports_and_predicts_under_both_keras_backends(family, backend, keras_data, tmp_path):
    out = tmp_path / "run"
    done = _advisor(["recommend", keras_data[family], "--family", family, "--tuner", "keras", *LIMITS[family],
                     "--out", out, "--json"], backend, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    tuning = payload["tuning"]
    assert tuning["backend"] == "keras" and tuning["search"] == "hyperband" and f"on {backend}" in tuning["library"]
    assert tuning["stages"][-2:] == ["start", "hyperband"] and "Hyperband" in tuning["scheduler"]
    assert payload["trials"][0]["stage"] in ("start", "duel") and payload["trials"][0]["config"] == tuning["start"]
    if family != "rnn":
        hyperband = [t for t in payload["trials"] if t["stage"] == "hyperband"]
        assert len(hyperband) == 3 and all(t["epochs"] and t["status"] == "completed" for t in hyperband)
    assert payload["model"]["format"] == "keras" and (out / "model" / "model.keras").is_file()
    assert (out / "tuning" / "keras").is_dir()  # KerasTuner's project lives in the run folder
    assert 0.0 <= payload["best"]["test_score"] <= 1.0 and payload["baseline"]["test_score"] is not None
    if family == "rnn":  # the duel ran as under Ray Tune: both cells, the same configurations
        duel = payload["duel"]
        cells = [t["config"]["cell"] for t in duel["trials"]]
        assert duel["winner"] in ("gru", "lstm") and cells[:2] == ["gru", "lstm"]
        assert duel["trials"][0]["config"] | {"cell": "x"} == duel["trials"][1]["config"] | {"cell": "x"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "KerasTuner" in report and "Hyperband" in report
    assert all(f'<section id="{name}"' in report for name in ("summary", "data", "decision", "tuning", "model"))

    data = keras_data[family] if family == "cnn" else out / "test_split.csv"
    predicted = _advisor(["predict", out, data, "--out", tmp_path / "predictions.csv"], backend, tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    frame = pd.read_csv(tmp_path / "predictions.csv")
    if family == "mlp":  # the exported .keras model gives the reported test score back
        truth = pd.read_csv(out / "test_split.csv")["target"].astype(str)
        assert math.isclose((frame["prediction"].astype(str) == truth).mean(), payload["best"]["test_score"])
    elif family == "cnn":
        assert len(frame) == 150 and (frame["prediction"].astype(str) == frame["file"].str.split("/").str[-2]).mean() > 0.5
    else:
        assert len(frame) == pd.read_csv(out / "test_split.csv")["series_id"].nunique() and "series" in frame


@pytest.mark.slow
def test_a_killed_keras_search_resumes_with_its_finished_trials(keras_data, tmp_path):
    out = tmp_path / "run"
    command = [*ADVISOR, "recommend", str(keras_data["mlp"]), "--family", "mlp", "--tuner", "keras", "--search", "random",
               "--trials", "4", "--budget", "900s", "--out", str(out)]
    # A budget --trials ends long before: on a loaded CI machine the finish's reserve (from the measured
    # fits) once ended the resumed search after 3 of its 4 random trials at 300 s.
    process = subprocess.Popen(command, env=_environment("torch"), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    log = out / "tuning" / "random.trials.jsonl"
    deadline = time.monotonic() + 120
    while not (log.exists() and len(log.read_text().splitlines()) >= 2):
        assert process.poll() is None and time.monotonic() < deadline, "the search did not get going"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = {r["trial_id"]: r["score"] for r in map(json.loads, log.read_text().splitlines())}
    assert not (out / "result.json").exists()

    resumed = subprocess.run([*ADVISOR, "resume", str(out), "--json"], env=_environment("torch"), cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    payload = json.loads(resumed.stdout)
    after = {t["trial_id"]: t["score"] for t in payload["trials"]}
    assert all(after[trial] == score for trial, score in before.items())  # kept, not re-run
    assert len(after) == 4 and payload["tuning"]["backend"] == "keras"  # start + 3 random trials, as asked
    oracle_trials = list((out / "tuning" / "keras" / "random").glob("trial_*"))
    assert len(oracle_trials) >= len(before)  # KerasTuner's own project was continued, not started over


@pytest.mark.slow
def test_keras_jobs_run_in_a_batch(keras_data, examples_dir, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"defaults:\n  tuner: keras\n  trials: 2\n  budget: 300s\njobs:\n"
                    f"  - data: {keras_data['mlp']}\n    family: mlp\n"
                    f"  - data: {examples_dir / 'wine.csv'}\n", encoding="utf-8")  # the rules pick linear: Ray Tune
    done = _advisor(["batch", jobs, "--out", tmp_path / "batch", "--json"], "torch", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    batch = json.loads(done.stdout)
    assert batch["done"] == 2 and batch["failed"] == 0
    results = {job["name"]: json.loads((Path(job["run_dir"]) / "result.json").read_text()) for job in batch["jobs"]}
    assert results["iris"]["tuning"]["backend"] == "keras" and results["iris"]["model"]["format"] == "keras"
    assert results["wine"]["family"] == "linear" and results["wine"]["tuning"]["backend"] == "ray"


def test_kerastuner_tunes_exactly_the_families_that_have_a_keras_architecture():
    """The KerasTuner entry's family set is written out (the registry is import-light); it must
    name every family whose network has a Keras builder, and no other (conv1d has none: Ray Tune)."""
    from tuners.backends import BACKENDS
    from tuners.families import FAMILIES
    from tuners.families.keras_net import ARCHITECTURES

    built = {family for family, definition in FAMILIES.items() if definition.architecture in ARCHITECTURES}
    assert BACKENDS["keras"].families == built and built
