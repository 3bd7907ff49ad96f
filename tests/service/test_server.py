"""The server's life: one server per home, and nothing lost when it is killed (issue 20)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.service.conftest import ADVISOR, Server, make_token, wait_for
from tests.service.test_api import submit

pytestmark = pytest.mark.slow


def test_a_second_server_on_the_same_home_is_refused_with_one_line(server):
    second = subprocess.run([*ADVISOR, "serve", "--home", str(server.home), "--port", "1"], capture_output=True,
                            text=True, timeout=60)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another advisor server" in lines[0] and "Traceback" not in second.stderr


def test_a_server_killed_mid_run_resumes_the_run_and_keeps_its_trials(tmp_path, examples_dir, database):
    """SIGKILL while a run has finished trials; a new server on the same home takes the run up
    from its folder, and its result keeps every trial finished before the kill."""
    home = tmp_path / "home"
    token = make_token(home, "alice", database)
    first = Server(home, db=database).start()
    try:
        client = first.client(token)
        done_id = submit(client, examples_dir / "wine.csv", tune="false").json()["id"]
        assert wait_for(client, done_id)["status"] == "done"
        run_id = submit(client, examples_dir / "wine.csv", family="boosting", budget="45s", patience=0).json()["id"]
        wait_for(client, run_id, until=lambda run: run["progress"]["trials_done"] >= 3)
    finally:
        first.kill()
    folder = home / "runs" / run_id / "run" / "tuning"
    before = {json.loads(line)["trial_id"] for line in (home / "runs" / run_id / "events.jsonl").read_text().splitlines()
              if json.loads(line)["event"] == "TrialFinished" and json.loads(line)["status"] == "completed"}
    assert folder.is_dir() and before

    second = Server(home, db=database).start()
    try:
        client = second.client(token)
        assert client.get(f"/api/runs/{done_id}").json()["status"] == "done"  # finished results are still listed
        run = wait_for(client, run_id, timeout_s=300)
        assert run["status"] == "done", run
        kept = {trial["trial_id"] for trial in run["result"]["trials"]}
        assert before <= kept, before - kept
        assert len(kept) > len(before)
    finally:
        second.stop()
