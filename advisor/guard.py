"""The front ends' last line of defence: a known error is one line on stderr and an exit code, never a
traceback (the CLI's commands and `advisor serve` both run through `run_guarded`).

Exit codes: 2 bad input or usage, 1 internal failure, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from advisor.errors import InputError, RunFailed

EXIT_INPUT = 2
EXIT_INTERNAL = 1


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def fail(code: int, message: str) -> None:
    echo_err(f"advisor: error: {message}")
    sys.exit(code)


def run_guarded(action):
    """Bad input -> one line and exit 2; anything unexpected -> one line and exit 1 (traceback on request)."""
    try:
        return action()
    except InputError as error:
        fail(EXIT_INPUT, str(error))
    except RunFailed as error:
        fail(EXIT_INTERNAL, str(error))
    except KeyboardInterrupt:
        fail(130, "interrupted")
    except MemoryError:
        fail(EXIT_INTERNAL, "out of memory. Try a smaller file or a machine with more memory.")
    except Exception as error:  # noqa: BLE001 - the last line of defence for users
        if os.environ.get("ADVISOR_DEBUG"):
            traceback.print_exc()
        first = " ".join(str(error).split())[:300]
        fail(EXIT_INTERNAL, f"internal failure: {type(error).__name__}: {first}. "
                            "Set ADVISOR_DEBUG=1 for the traceback and report it.")
