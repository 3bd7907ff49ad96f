"""Errors the CLI turns into one line on stderr and an exit code."""


class InputError(Exception):
    """The user's data or options are wrong: exit 2, one line saying what is wrong and what to do."""


class RunFailed(Exception):
    """The input was fine but the run could not finish (no trial completed, say): exit 1, one line saying why."""
