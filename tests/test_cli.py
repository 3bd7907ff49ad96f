"""The CLI end to end: a sensible family for every branch on real and made data, the JSON contract,
the run folder and its report, and the safety of users' files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.contract import FIXTURES, missing_keys

# dataset -> (family, modality); real data from scikit-learn first, then the made sets.
EXPECTED = {
    "iris.csv": ("linear", "tabular"),
    "wine.csv": ("linear", "tabular"),
    "breast_cancer.csv": ("linear", "tabular"),
    "diabetes.csv": ("linear", "tabular"),
    "digits.csv": ("cnn", "image"),
    "digits_images": ("cnn", "image"),
    "iris_unlabelled.csv": ("kmeans", "tabular"),
    "interactions.csv": ("boosting", "tabular"),
    # 120,000 non-linear rows: the MLP, from which size the calibration found it level with boosting
    # (bench/results/calibration.md: LOTS_OF_DATA_SAMPLES).
    "large_nonlinear.csv": ("mlp", "tabular"),
    "sequences_long.csv": ("conv1d", "sequence"),  # bench/results/conv1d_sequences.md
    "short_texts.csv": ("naive_bayes", "text"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sensible_family_for_each_dataset(name, examples_dir, recommend_json):
    family, modality = EXPECTED[name]
    result = recommend_json(examples_dir / name)
    assert (result["family"], result["profile"]["modality"]) == (family, modality)
    assert result["ranking"][0]["family"] == family and result["ranking"][0]["reasons"]


def test_every_family_is_the_rules_pick_somewhere_or_the_runner_up():
    # Every branch of the decision tree, from files here and from profiles in test_rules; the RNN is
    # measured below conv1d on series and stays their runner-up (reached with --family rnn).
    from rules import RULES, decide
    from tests.test_rules import BRANCHES, make_profile

    reached = {family for family, _ in EXPECTED.values()} | {family.value for _, family in BRANCHES.values()}
    assert reached == {"linear", "naive_bayes", "boosting", "mlp", "cnn", "conv1d", "kmeans"}
    series = decide(make_profile(**BRANCHES["sequences"][0]), RULES)
    assert [r.family.value for r in series.ranking[:2]] == ["conv1d", "rnn"]


def test_json_contract(examples_dir, recommend_json, tmp_path):
    result = recommend_json(examples_dir / "breast_cancer.csv")
    assert {"family", "ranking", "profile", "trace", "run_dir"} <= set(result)
    assert set(result["ranking"][0]) == {"family", "score", "reasons"}
    profile = result["profile"]
    assert {"rows", "columns", "task", "modality", "linearity"} <= set(profile)
    assert (profile["rows"], profile["columns"], profile["task"]) == (569, 31, "binary")
    assert {"linear", "linear_score", "nonlinear_score"} <= set(profile["linearity"])
    assert isinstance(profile["linearity"]["linear_score"], float)
    assert {"rule", "fired", "reason", "source"} <= set(result["trace"][0])
    assert any(t["fired"] for t in result["trace"]) and any(not t["fired"] for t in result["trace"])
    stored = json.loads((tmp_path / result["run_dir"] / "result.json").read_text())
    assert stored == result
    wine = recommend_json(examples_dir / "wine.csv")
    assert missing_keys(wine, "notune") == []


@pytest.mark.parametrize("run", ["wine", "ipd"])
def test_a_run_written_before_the_registries_still_renders(run, run_cli, tmp_path):
    """Run folders from before this layout (tests/fixtures/runs-before-registries: a tuned table and
    a tuned sequence set with its duel) re-render with `advisor report`."""
    folder = tmp_path / run
    shutil.copytree(FIXTURES / "runs-before-registries" / run, folder)
    result = run_cli("report", folder)
    assert result.exit_code == 0, result.stderr
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Recommended" in page and "How it was tuned" in page
    assert (run != "ipd") or "LSTM" in page


def test_run_folder_holds_result_and_a_self_contained_report(examples_dir, run_cli, tmp_path):
    out = tmp_path / "wine-run"
    result = run_cli("recommend", examples_dir / "wine.csv", "--no-tune", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "Recommended family: linear" in result.stdout
    page = (out / "report.html").read_text()
    for section in ('id="summary"', 'id="data"', 'id="decision"', "Linearity probe", "Every rule evaluated"):
        assert section in page
    assert "probe-linear" in page and "LogisticRegression" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_default_run_folder_is_created_under_advisor_runs(examples_dir, run_cli, tmp_path):
    result = run_cli("recommend", examples_dir / "iris.csv", "--no-tune", "--json")
    assert result.exit_code == 0
    run_dir = tmp_path / json.loads(result.stdout)["run_dir"]
    assert run_dir.parent.name == "advisor-runs" and (run_dir / "report.html").is_file()


def test_data_derived_text_is_escaped_in_the_report(run_cli, tmp_path):
    hostile = "<script>alert('x')</script>"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({hostile: rng.normal(size=40), "b": rng.normal(size=40), "label": [hostile, "<b>ok</b>"] * 20})
    frame.to_csv(tmp_path / "hostile.csv", index=False)
    result = run_cli("recommend", tmp_path / "hostile.csv", "--no-tune", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<script" not in page and "<b>ok</b>" not in page
    assert "&lt;script&gt;" in page


def test_family_override_is_reported(examples_dir, recommend_json, tmp_path):
    result = recommend_json(examples_dir / "wine.csv", "--family", "mlp")
    assert result["family"] == "mlp" and result["chosen_by"] == "override"
    assert result["ranking"][0]["family"] == "linear"
    assert any("overrides the rules" in note for note in result["notes"])
    page = (tmp_path / result["run_dir"] / "report.html").read_text()
    assert "overriding the rules" in page


def test_explicit_target(examples_dir, recommend_json):
    result = recommend_json(examples_dir / "diabetes.csv", "--target", "bmi")
    assert result["profile"]["target"] == "bmi" and result["profile"]["task"] == "regression"


def test_an_existing_run_is_never_overwritten(examples_dir, run_cli, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "result.json").write_text("precious")
    result = run_cli("recommend", examples_dir / "iris.csv", "--no-tune", "--out", out)
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert (out / "result.json").read_text() == "precious"


def test_out_pointing_at_the_data_file_is_refused(run_cli, examples_dir, tmp_path):
    data = tmp_path / "iris.csv"
    data.write_bytes((examples_dir / "iris.csv").read_bytes())
    before = data.read_bytes()
    result = run_cli("recommend", data, "--no-tune", "--out", data)
    assert result.exit_code == 2 and data.read_bytes() == before


def test_a_supervised_family_on_data_without_a_target_is_refused_in_one_line(run_cli, examples_dir, tmp_path):
    """iris without its species column and --family linear: before, the search started and every trial
    failed ("ElasticNet ... requires y"), reported as "tuning failed ... Give a larger --budget"."""
    result = run_cli("recommend", examples_dir / "iris_unlabelled.csv", "--family", "linear", "--budget", "20s",
                     "--out", tmp_path / "run")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"advisor: error: --family linear learns to predict a target, and {examples_dir / 'iris_unlabelled.csv'} has "
        "none: pass --target COL to name the column to predict, or leave --family out to cluster with k-means.")
    assert not (tmp_path / "run" / "result.json").exists()


def test_report_command_rerenders_from_result_json(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    assert run_cli("recommend", examples_dir / "iris.csv", "--no-tune", "--out", out).exit_code == 0
    (out / "report.html").unlink()
    result = run_cli("report", out)
    assert result.exit_code == 0 and "Recommended" in (out / "report.html").read_text()
    assert run_cli("report", tmp_path / "nowhere").exit_code == 2


def test_json_mode_prints_only_json_on_stdout(examples_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "advisor", "recommend", str(examples_dir / "iris.csv"), "--no-tune", "--json",
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["family"] == "linear"
    assert done.stdout.count("\n") == 1
