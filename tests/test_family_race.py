"""The family race (tuners/family_race.py): when the rules' top two are close, both train on one
random subset first and the better goes on; when the rules are clear, they decide alone."""

from __future__ import annotations

import json

from advisor.loading import load
from advisor.profiling import profile
from advisor.types import Family
from rules import RULES, contenders, decide
from tuners import family_race


def _decision(path, family=None):
    return decide(profile(load(path)), RULES, override=family)


def test_close_rules_race_their_top_two_and_clear_or_chosen_ones_do_not(examples_dir):
    wine = _decision(examples_dir / "wine.csv")  # linear 40 against boosting 30 (bench/results/race_margin.md)
    assert contenders(wine) == (Family.LINEAR, Family.BOOSTING)
    assert contenders(_decision(examples_dir / "digits.csv")) == ()  # the CNN leads by 50 points on images
    assert contenders(_decision(examples_dir / "wine.csv", Family.MLP)) == ()  # --family: the user chose
    assert contenders(wine, gap=5) == ()


def _trial(family, score, sem=0.01, status="completed"):
    return {"family": family, "score": score, "score_sem": sem, "status": status}


def test_the_other_family_must_beat_the_pick_beyond_one_standard_error():
    pair = (Family.LINEAR, Family.BOOSTING)
    close = family_race.decide([_trial("linear", 0.90), _trial("boosting", 0.905)], pair, 100, 0)
    assert close["winner"] == "linear" and "does not beat" in close["reason"]
    clear = family_race.decide([_trial("linear", 0.80), _trial("boosting", 0.90), _trial("boosting", 0.5)], pair, 100, 0)
    assert clear["winner"] == "boosting" and clear["scores"] == {"linear": 0.8, "boosting": 0.9}
    lost = family_race.decide([_trial("linear", None, status="failed"), _trial("boosting", 0.7)], pair, 100, 0)
    assert lost["winner"] == "boosting" and lost["scores"]["linear"] is None
    assert set(clear) >= {"families", "subset_rows", "seed", "scores", "winner", "reason"}


def test_a_close_call_is_raced_on_a_subset_recorded_and_shown(examples_dir, run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("recommend", examples_dir / "breast_cancer.csv", "--trials", "6", "--budget", "40s",
                     "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    race = payload["race"]
    assert race["families"] == ["linear", "boosting"] and payload["chosen_by"] == "race"
    assert payload["family"] == race["winner"] and race["seed"] == 0
    trained = payload["profile"]["samples"] - payload["test_set"]["samples"]
    assert race["subset_rows"] == max(family_race.SUBSET_MIN, int(trained * family_race.SUBSET_SHARE))
    assert all(race["scores"][name] is not None for name in race["families"])  # both families scored
    for name in race["families"]:  # each family's anchors and samples, every one through every fold
        done = [t for t in race["trials"] if t["family"] == name and t["status"] == "completed"]
        assert len(done) >= 2 and all(t["folds_done"] == family_race.FOLDS for t in done)
    assert payload["wall_s"] >= race["seconds"] > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "The race between linear and boosting" in report and f"Went on with {race['winner']}" in report

    again = run_cli("recommend", examples_dir / "breast_cancer.csv", "--trials", "2", "--budget", "40s", "--no-race",
                    "--out", tmp_path / "rules", "--json")
    assert again.exit_code == 0, again.stderr
    plain = json.loads(again.stdout)
    assert "race" not in plain and plain["chosen_by"] == "rules" and plain["family"] == "linear"
