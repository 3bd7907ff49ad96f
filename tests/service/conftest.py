"""A real `advisor serve` process on a loopback port, real HTTP (httpx), a real SQLite in its home
(and a real PostgreSQL where one can be started: tests/service/postgres.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ADVISOR = [sys.executable, "-m", "advisor"]
START_S = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_token(home: Path, user: str, db: str | None = None) -> str:
    extra = ["--db", db] if db else []
    done = subprocess.run([*ADVISOR, "token", "create", user, "--home", str(home), *extra], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


class Server:
    """One `advisor serve` child process; `client(token)` is an httpx client for it."""

    def __init__(self, home: Path, *extra: str, db: str | None = None):
        self.home, self.port, self.db = home, free_port(), db
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = list(extra) + (["--db", db] if db else [])
        self.process: subprocess.Popen | None = None
        self.log = home.parent / f"server-{self.port}.log"

    def start(self, wait: bool = True) -> "Server":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen([*ADVISOR, "serve", "--home", str(self.home), "--port", str(self.port),
                                         *self.extra], stdout=subprocess.DEVNULL, stderr=self.log.open("ab"),
                                        env=env, start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        ends = time.monotonic() + START_S
        while time.monotonic() < ends:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).json()["status"] == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"the server did not start in {START_S} s: {self.log.read_text()[-2000:]}")

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL for the session (tests/service/postgres.py), or a skip saying why not."""
    from tests.service import postgres

    running = postgres.start()
    if isinstance(running, str):
        pytest.skip(f"PostgreSQL tests skipped: {running}")
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    """Each database the server keeps its state in: None for SQLite in --home, else a fresh
    PostgreSQL database's URL (one per test, so every test starts from an empty schema)."""
    if request.param == "sqlite":
        return None
    name = f"advisor_{request.node.name.split('[')[0][-40:]}_{free_port()}".lower()
    return request.getfixturevalue("postgres_server").database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """A server for the module on each database, with users alice and bob."""
    db = None
    if request.param == "postgresql":
        db = request.getfixturevalue("postgres_server").database(f"advisor_{request.module.__name__.rsplit('.', 1)[-1]}")
    home = tmp_path_factory.mktemp(f"service-{request.param}") / "home"
    home.mkdir()
    tokens = {user: make_token(home, user, db) for user in ("alice", "bob")}
    running = Server(home, "--max-upload-mb", "2", db=db).start()
    running.tokens = tokens
    yield running
    running.stop()


def wait_for(client: httpx.Client, run_id: str, statuses=("done", "failed", "cancelled"), timeout_s: float = 240,
             until=None) -> dict:
    """Poll the run until its status is one of `statuses` (or `until(run)` holds)."""
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses or (until is not None and until(run)):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {run['status']} after {timeout_s} s: {run}")
