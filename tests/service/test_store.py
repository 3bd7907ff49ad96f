"""The service's database on real SQLite and real PostgreSQL: one schema brought up by versioned
migrations, tokens kept only as hashes, and concurrent writers that never see "database is locked"."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from advisor.service.store import MIGRATIONS, Store, database_url


def _store(database: str | None, home: Path) -> Store:
    return Store(database_url(database, home))


def test_the_schema_is_migrated_once_and_reopening_changes_nothing(database, tmp_path):
    store = _store(database, tmp_path)
    assert store.migrate() == MIGRATIONS[-1][0]
    again = _store(database, tmp_path)
    with again.engine.connect() as connection:
        versions = connection.execute(sa.text("select version from schema_version")).scalars().all()
        tables = set(sa.inspect(connection).get_table_names())
    assert versions == [version for version, _ in MIGRATIONS]
    assert {"tokens", "sessions", "runs", "schema_version"} <= tables


def test_a_token_is_stored_only_as_its_hash_and_revoking_it_closes_it(database, tmp_path):
    store = _store(database, tmp_path)
    token = store.create_token("alice")
    assert store.user_of_token(token) == "alice" and store.user_of_token(token + "x") is None
    with store.engine.connect() as connection:
        stored = [tuple(row) for row in connection.execute(sa.text("select * from tokens")).all()]
    assert not any(token in str(value) for row in stored for value in row)
    (listed,) = store.list_tokens()
    assert token.startswith(listed["hint"]) and len(listed["hint"]) < len(token) // 3
    assert store.revoke_token(listed["id"]) and not store.revoke_token(listed["id"])
    assert store.user_of_token(token) is None


def test_runs_list_newest_first_per_user_with_a_cursor(database, tmp_path):
    store = _store(database, tmp_path)
    for index in range(7):
        store.add_run(f"{index:013d}-run", "alice" if index % 2 == 0 else "bob", "wine.csv", {"out": "x"})
    first = store.list_runs("alice", limit=2)
    assert [run.id[:13] for run in first] == ["0000000000006", "0000000000004"]
    rest = store.list_runs("alice", before=first[-1].id, limit=10)
    assert [run.id[:13] for run in rest] == ["0000000000002", "0000000000000"]
    assert store.update_run(first[0].id, only_if=("queued",), status="running")
    assert not store.update_run(first[0].id, only_if=("queued",), status="cancelled")
    assert [run.id for run in store.list_runs("alice", status="running")] == [first[0].id]


def test_writers_in_threads_and_another_process_never_meet_a_locked_database(database, tmp_path):
    """The server's threads write through its one writer path while `advisor token create` writes
    from another process (optuna#820's "database is locked" is what this rules out)."""
    store = _store(database, tmp_path)
    for index in range(40):
        store.add_run(f"{index:013d}-run", "alice", "wine.csv", {"out": "x"})
    errors: list[BaseException] = []

    writes = [0] * 4

    def write(offset: int) -> None:  # until the other process has written all its tokens
        try:
            while writes[offset] == 0 or other.poll() is None:
                for index in range(offset, 40, 4):
                    for status in ("running", "done"):
                        store.update_run(f"{index:013d}-run", status=status)
                        writes[offset] += 1
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    extra = ["--db", database] if database else []
    other = subprocess.Popen([sys.executable, "-c", _TOKENS, str(tmp_path), *extra], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert not errors, errors
    assert sum(writes) > 80  # the threads went on writing while the other process wrote
    assert len(store.list_runs("alice", status="done", limit=100)) == 40
    assert len(store.list_tokens()) == 20


_TOKENS = """
import sys
from pathlib import Path
from advisor.service.store import Store, database_url
store = Store(database_url(sys.argv[3] if len(sys.argv) > 3 else None, Path(sys.argv[1])))
for index in range(20):
    store.create_token(f"user{index}")
"""
