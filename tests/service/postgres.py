"""A real PostgreSQL server for the service's tests: Debian's `postgresql` package's own binaries
(initdb, pg_ctl), a fresh cluster in a scratch folder, listening on a loopback port only, started
for the test session and stopped after it. Where the binaries are missing, `start` says so and the
PostgreSQL tests skip (`.ci/run` installs the package, so CI runs them).

PostgreSQL refuses to run as root; as root the cluster belongs to Debian's `postgres` user."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_S = 60


@dataclasses.dataclass
class Postgres:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/advisor"

    def run(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bin / command[0]), *command[1:]], capture_output=True,
                              text=True, timeout=START_S, **kwargs)

    def database(self, name: str) -> str:
        """A new empty database on this server; its URL."""
        made = self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        if made.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {made.stderr.strip()[-300:]}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def start(durable: bool = False) -> Postgres | str:
    """A running server with an empty database `advisor`, or why there is none. Not `durable`
    (the tests'): fsync off, as nothing here outlives the session; the benchmark keeps it on."""
    folder_bin = binaries()
    if folder_bin is None:
        return "no PostgreSQL server is installed (apt-get install postgresql)"
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            return "running as root without runuser: PostgreSQL cannot be started as root"
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
        folder.chmod(0o700)
    server = Postgres(folder, _free_port(), folder_bin, as_user)
    made = server.run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    if made.returncode != 0:
        return f"initdb failed: {made.stderr.strip()[-300:]}"
    options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    options += "" if durable else " -c fsync=off"
    started = server.run("pg_ctl", "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start")
    if started.returncode != 0:
        return f"pg_ctl start failed: {started.stderr.strip()[-300:]}"
    try:
        server.database("advisor")
    except RuntimeError as error:
        server.stop()
        return str(error)
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":  # python -m tests.service.postgres: start one by hand, print its URL, stop on Enter
    running = start()
    if isinstance(running, str):
        raise SystemExit(running)
    print(running.url, flush=True)
    try:
        input()
    finally:
        running.stop()
