"""The service's commands (`advisor serve`, `advisor token create|list|revoke`), added to the CLI's
group by advisor/cli.py. Thin, as the CLI is: parse, call, map errors to one line and an exit code."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

DEFAULT_HOME = Path("advisor-home")
home_option = click.option("--home", type=click.Path(path_type=Path), default=DEFAULT_HOME, show_default=True,
                           help="The server's folder: database, uploads and run folders.")
db_option = click.option("--db", metavar="URL", help="Database URL (default: SQLite in --home), e.g. postgresql://user@host/db.")


def _guarded(action):
    from advisor.guard import run_guarded

    return run_guarded(action)


@click.command()
@home_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@db_option
@click.option("--address", metavar="ADDR", help="Run on the Ray cluster at ADDR (default: a local Ray the server starts).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=200.0, show_default=True,
              help="Largest upload accepted (413 above it).")
@click.option("--queue-limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Runs a user may have queued or running at once (429 above it).")
def serve(home: Path, host: str, port: int, db: str | None, address: str | None, max_upload_mb: float,
          queue_limit: int) -> None:
    """Serve the advisor over HTTP: submit data, watch runs, fetch reports, models and predictions."""
    from advisor.service.server import serve as run_server

    _guarded(lambda: run_server(home, host, port, db, address, max_upload_mb, queue_limit,
                                say=lambda line: click.echo(f"advisor: {line}", err=True)))


@click.group()
def token() -> None:
    """Tokens for the server's API and pages (one user each)."""


def _store(home: Path, db: str | None):
    from advisor.service.store import Store, database_url

    home.mkdir(parents=True, exist_ok=True)
    return Store(database_url(db, home))


@token.command("create")
@click.argument("name")
@home_option
@db_option
def create(name: str, home: Path, db: str | None) -> None:
    """Make a token for user NAME; it is printed once, on stdout, and stored only as a hash."""
    from advisor.errors import InputError

    def action():
        if not name.strip() or len(name) > 80:
            raise InputError("NAME must be 1 to 80 characters.")
        return _store(home, db).create_token(name.strip())

    click.echo(_guarded(action))
    click.echo(f"advisor: a token for {name.strip()}: keep it, it is not shown again "
               "(send it as 'Authorization: Bearer TOKEN').", err=True)


@token.command("list")
@home_option
@db_option
def list_tokens(home: Path, db: str | None) -> None:
    """The tokens: id, user, their first characters, when made, and whether revoked."""
    for row in _guarded(lambda: _store(home, db).list_tokens()):
        made = datetime.datetime.fromtimestamp(row["created"]).strftime("%Y-%m-%d %H:%M")
        state = "revoked" if row["revoked"] else "active"
        click.echo(f"{row['id']}\t{row['user']}\t{row['hint']}...\t{made}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@home_option
@db_option
def revoke(token_id: int, home: Path, db: str | None) -> None:
    """Revoke token TOKEN_ID (from `advisor token list`): it opens nothing from now on."""
    from advisor.errors import InputError

    def action():
        if not _store(home, db).revoke_token(token_id):
            raise InputError(f"no active token with id {token_id} (see 'advisor token list').")

    _guarded(action)
    click.echo(f"advisor: token {token_id} revoked", err=True)
