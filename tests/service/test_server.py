"""The server's life: one server per home, nothing lost when it is killed, and its limits: a
user's queue, request bodies, and clients too slow to finish a request (issue 20)."""

from __future__ import annotations

import json
import socket
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


def test_a_second_server_on_the_same_database_is_refused_with_one_line(tmp_path, database):
    """Another --home, the same --db: it would requeue the first server's running runs as its own."""
    db = database or f"sqlite:///{tmp_path / 'shared.db'}"
    first = Server(tmp_path / "one", db=db).start()
    try:
        second = subprocess.run([*ADVISOR, "serve", "--home", str(tmp_path / "two"), "--db", db, "--port", "1"],
                                capture_output=True, text=True, timeout=120)
    finally:
        first.stop()
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another advisor server" in lines[0] and "--db" in lines[0], second.stderr


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
        events = [json.loads(line)["event"] for line in (home / "runs" / run_id / "events.jsonl").read_text().splitlines()]
        resumed = events[len(events) - 1 - events[::-1].index("RunStarted"):]
        assert "TrialFinished" in resumed and resumed[-1] == "RunFinished"  # the resumed search reports its trials
        assert run["progress"]["trials_done"] >= 1
    finally:
        second.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A server that takes one queued or running run a user."""
    home = tmp_path_factory.mktemp("limited") / "home"
    token = make_token(home, "dave")
    running = Server(home, "--queue-limit", "1").start()
    running.token = token
    yield running
    running.stop()


def test_a_user_over_the_queue_limit_is_told_to_wait(limited, examples_dir):
    client = limited.client(limited.token)
    first = submit(client, examples_dir / "wine.csv", family="boosting", budget="300s")
    assert first.status_code == 201, first.text
    second = submit(client, examples_dir / "wine.csv", tune="false")
    assert second.status_code == 429 and "limit" in second.json()["detail"]
    assert client.post(f"/api/runs/{first.json()['id']}/cancel").status_code == 200
    wait_for(client, first.json()["id"], timeout_s=60)
    assert submit(client, examples_dir / "wine.csv", tune="false").status_code == 201  # room again


def test_slow_clients_do_not_hold_the_server(limited):
    """A hundred connections that send half a request, and an upload that trickles in, while
    another client is answered as usual; a body over a route's limit is refused with 413."""
    host, port = "127.0.0.1", limited.port
    stalled = []
    for _ in range(100):
        connection = socket.create_connection((host, port), timeout=10)
        connection.sendall(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")  # and never the rest
        stalled.append(connection)
    trickle = socket.create_connection((host, port), timeout=10)
    trickle.sendall(b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + limited.token.encode()
                    + b"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n")
    try:
        client = limited.client(limited.token)
        for _ in range(5):
            assert client.get("/api/runs", timeout=10).status_code == 200
            assert client.get("/health", timeout=10).json()["status"] == "ok"
        big = client.post("/login", content=b"token=" + b"a" * (200 * 1024),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert big.status_code == 413 and "limit" in big.json()["detail"]
    finally:
        for connection in [*stalled, trickle]:
            connection.close()
