"""The service's database, through SQLAlchemy Core: SQLite in --home by default, PostgreSQL with
--db postgresql://..., the same schema on both, brought up to date by numbered migrations.

SQLite is opened in WAL mode with a busy timeout (readers never wait for the writer; a second
process, such as `advisor token create`, waits its turn instead of failing with "database is
locked", optuna#820), and every write in the server goes through one lock: one writer path.
Tokens and session cookies are stored as SHA-256 hashes (they are 256-bit random strings, so a
slow hash adds nothing); the token itself is shown once, when it is made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa

from advisor.errors import InputError
from advisor.service.locks import hold_file

TOKEN_PREFIX = "adv_"
SESSION_DAYS = 7
STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
SERVER_LOCK = 0x61647673  # the PostgreSQL advisory lock a server holds on its database ("advs")

metadata = sa.MetaData()
schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))
tokens = sa.Table(
    "tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user", sa.String(80), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),  # the token's first characters, to tell tokens apart
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("revoked", sa.Float),
)
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column("user", sa.String(80), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # time-ordered: newest first is id descending
    sa.Column("user", sa.String(80), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data_name", sa.String(255), nullable=False),
    sa.Column("options", sa.Text, nullable=False),  # the run's RecommendOptions as JSON
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("family", sa.String(40)),
    sa.Column("metric", sa.String(40)),
    sa.Column("test_score", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Index("runs_by_user", "user", "id"),
    sa.Index("runs_by_status", "status"),
)


def _create_v1(connection) -> None:
    metadata.create_all(connection, tables=[tokens, sessions, runs])


MIGRATIONS = [(1, _create_v1)]  # (the version it brings the schema to, the step); only ever appended to


@dataclasses.dataclass(frozen=True)
class Run:
    id: str
    user: str
    status: str
    data_name: str
    options: dict[str, Any]
    created: float
    started: float | None
    finished: float | None
    error: str | None
    family: str | None
    metric: str | None
    test_score: float | None
    attempts: int

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "data": self.data_name, "created": self.created,
                "started": self.started, "finished": self.finished, "error": self.error, "family": self.family,
                "metric": self.metric, "test_score": self.test_score}


def database_url(db: str | None, home: Path) -> str:
    """--db as SQLAlchemy takes it: SQLite in HOME by default; postgresql:// through psycopg 3."""
    if not db:
        return f"sqlite:///{(home / 'advisor.db').resolve()}"
    if db.startswith("postgresql://") or db.startswith("postgres://"):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Store:
    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = _engine(url)
            self._write = threading.Lock()
            self.migrate()
        except sa.exc.SQLAlchemyError as error:
            raise InputError(f"--db: cannot open the database ({_first_line(error)}). Check the URL and that "
                             "the server is up.") from None
        except ModuleNotFoundError as error:
            raise InputError(f"--db: the driver for it is not installed ({error.name}). Install it "
                             "(pip install 'psycopg[binary]' for PostgreSQL).") from None

    def migrate(self) -> int:
        with self._write, self.engine.begin() as connection:
            metadata.create_all(connection, tables=[schema_version])
            current = connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            for version, step in MIGRATIONS:
                if version > current:
                    step(connection)
                    connection.execute(schema_version.insert().values(version=version))
                    current = version
            return current

    # tokens and sessions
    def create_token(self, user: str) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write, self.engine.begin() as connection:
            connection.execute(tokens.insert().values(user=user, token_hash=_hash(token), hint=token[:10],
                                                      created=time.time()))
        return token

    def list_tokens(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(tokens).order_by(tokens.c.id)).mappings().all()
        return [{k: row[k] for k in ("id", "user", "hint", "created", "revoked")} for row in rows]

    def revoke_token(self, token_id: int) -> bool:
        with self._write, self.engine.begin() as connection:
            done = connection.execute(tokens.update().where(tokens.c.id == token_id, tokens.c.revoked.is_(None))
                                      .values(revoked=time.time()))
        return done.rowcount == 1

    def user_of_token(self, token: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(tokens.c.user).where(
                tokens.c.token_hash == _hash(token), tokens.c.revoked.is_(None))).scalar()

    def create_session(self, user: str) -> str:
        session = secrets.token_urlsafe(32)
        with self._write, self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.expires < time.time()))
            connection.execute(sessions.insert().values(session_hash=_hash(session), user=user,
                                                        expires=time.time() + SESSION_DAYS * 86400))
        return session

    def user_of_session(self, session: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sessions.c.user).where(
                sessions.c.session_hash == _hash(session), sessions.c.expires > time.time())).scalar()

    def end_session(self, session: str) -> None:
        with self._write, self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.session_hash == _hash(session)))

    # runs
    def add_run(self, run_id: str, user: str, data_name: str, options: dict[str, Any]) -> Run:
        values = dict(id=run_id, user=user, status="queued", data_name=data_name[:255], options=json.dumps(options),
                      created=time.time(), attempts=0)
        with self._write, self.engine.begin() as connection:
            connection.execute(runs.insert().values(**values))
        return self.run(run_id)

    def run(self, run_id: str, user: str | None = None) -> Run | None:
        query = sa.select(runs).where(runs.c.id == run_id)
        if user is not None:
            query = query.where(runs.c.user == user)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _run(row)

    def list_runs(self, user: str, status: str | None = None, before: str | None = None, limit: int = 50) -> list[Run]:
        query = sa.select(runs).where(runs.c.user == user)
        if status:
            query = query.where(runs.c.status == status)
        if before:
            query = query.where(runs.c.id < before)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(runs.c.id.desc()).limit(limit)).mappings().all()
        return [_run(row) for row in rows]

    def runs_with_status(self, statuses: tuple[str, ...]) -> list[Run]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(runs).where(runs.c.status.in_(statuses)).order_by(runs.c.id)).mappings()
            return [_run(row) for row in rows.all()]

    def active_count(self, user: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.user == user, runs.c.status.in_(ACTIVE))).scalar()

    def update_run(self, run_id: str, only_if: tuple[str, ...] | None = None, **values) -> bool:
        """Set `values` on the run (only while its status is one of `only_if`); whether it changed."""
        query = runs.update().where(runs.c.id == run_id)
        if only_if:
            query = query.where(runs.c.status.in_(only_if))
        with self._write, self.engine.begin() as connection:
            return connection.execute(query.values(**values)).rowcount == 1

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The database held by one server: it requeues the runs it finds running, so a second
        scheduler on the same database (another --home, one --db) would take the first's runs.
        PostgreSQL: a session advisory lock on a connection kept open (dropped with the process);
        SQLite: a lock on a file beside the database."""
        if self.engine.dialect.name == "sqlite":
            with hold_file(Path(self.engine.url.database + ".server.lock"), "--db", "give each server its own --db"):
                yield
            return
        with self.engine.connect() as connection:
            if not connection.execute(sa.select(sa.func.pg_try_advisory_lock(SERVER_LOCK))).scalar():
                raise InputError("--db: another advisor server is using this database. Stop that one, or give "
                                 "this one its own database.")
            try:
                yield
            finally:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(SERVER_LOCK)))

    def close(self) -> None:
        self.engine.dispose()


def _engine(url: str):
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=10,
                              max_overflow=20)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _run(row) -> Run:
    values = dict(row)
    values["options"] = json.loads(values["options"])
    return Run(**values)


def _first_line(error: Exception) -> str:
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0][:200]
