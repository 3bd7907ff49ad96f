"""Which column is the target: the one the user named, or one with a conventional name."""

from __future__ import annotations

import difflib

from advisor.errors import InputError
from advisor.thresholds import TARGET_NAMES


def resolve_target(columns: list[str], requested: str | None, source: str) -> tuple[str | None, str]:
    """Return (target column or None, a sentence saying how it was chosen)."""
    if requested is not None:
        if requested in columns:
            return requested, f"named with --target {requested!r}"
        folded = [c for c in columns if c.strip().casefold() == requested.strip().casefold()]
        if len(folded) == 1:
            return folded[0], f"named with --target {requested!r} (matched {folded[0]!r} ignoring case)"
        close = difflib.get_close_matches(requested, columns, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(repr(c) for c in columns[:8]) + (" ..." if len(columns) > 8 else "")
        raise InputError(f"{source}: no column named {requested!r}{hint} Columns: {shown}")
    by_name = {c.strip().casefold(): c for c in reversed(columns)}
    for conventional in TARGET_NAMES:
        if conventional in by_name:
            return by_name[conventional], f"the column is named {by_name[conventional]!r}"
    names = ", ".join(TARGET_NAMES)
    return None, f"no --target given and no column named {names}: treated as unlabelled (pass --target COL to name one)"
