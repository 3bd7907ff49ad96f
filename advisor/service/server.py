"""`advisor serve`: one server per home, in the foreground, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Callable, Iterator

from advisor.errors import InputError
from advisor.service.app import Service, ServiceConfig, create_app
from advisor.service.locks import hold_file
from advisor.service.runner import Runner
from advisor.service.store import Store, database_url

LOCK_FILE = "server.lock"


@contextlib.contextmanager
def hold_home(home: Path) -> Iterator[None]:
    """The home's lock, held while the server runs (the kernel drops it when the process dies,
    SIGKILL included): a second server on the same home is refused, naming the first."""
    home.mkdir(parents=True, exist_ok=True)
    with hold_file(home / LOCK_FILE, f"--home {home}", "give this one its own --home"):
        yield


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise InputError(f"--host {host} --port {port}: cannot listen there ({error.strerror}). "
                             "Choose another --port.") from None


def serve(home: Path, host: str, port: int, db: str | None, address: str | None, max_upload_mb: float,
          queue_limit: int, say: Callable[[str], None]) -> None:
    import uvicorn

    from tuners import cluster_session

    with hold_home(home), contextlib.ExitStack() as stack:
        store = Store(database_url(db, home))
        stack.callback(store.close)
        stack.enter_context(store.held())
        check_port(host, port)
        say(f"database {_shown(store.url)}; starting {'the Ray cluster at ' + address if address else 'a local Ray'}")
        config = ServiceConfig(home=home.resolve(), max_upload_bytes=int(max_upload_mb * 2**20),
                               queue_limit=queue_limit, address=address)
        with cluster_session(address):
            runner = Runner(store, config.home, address)
            runner.start()
            app = create_app(Service(config, store, runner))
            say(f"serving on http://{host}:{port}/ (home {home}); Ctrl-C stops it")
            logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
            try:
                uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                            timeout_keep_alive=5, timeout_graceful_shutdown=5)
            finally:
                runner.stop()


def _shown(url: str) -> str:
    """The database URL with any password hidden."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else url
    return url
