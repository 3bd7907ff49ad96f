"""A lock on a file, held for a server's life: the kernel drops it when the process dies (SIGKILL
included), so a lock left behind by a killed server never blocks the next one."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import Iterator

from advisor.errors import InputError


@contextlib.contextmanager
def hold_file(path: Path, what: str, instead: str) -> Iterator[None]:
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise InputError(f"{what}: another advisor server (pid {holder}) is using it. Stop that one, "
                         f"or {instead}.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        handle.close()
