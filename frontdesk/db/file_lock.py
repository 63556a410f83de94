"""An exclusive lock on a small lock file, between processes (``flock`` on Linux and macOS, a
byte lock on Windows): the clinic server's processes elect one webhook dispatcher with it, and
a desk's backups and the tidying of their shared parts take turns with it (the app and the
command line may both work on one backups folder). ``flock`` locks belong to the open file,
not the process, so two threads with their own handles exclude each other too, and closing a
lock file's handle never touches SQLite's locks on the database."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def lock_file(handle: IO[bytes], *, wait: bool) -> bool:
    """Take an exclusive lock on an open file; False when ``wait`` is off and it is taken."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def unlock_file(handle: IO[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def held(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """The lock of ``path`` (made if missing) for the block: yields False, without it, when
    ``wait`` is off and another holder has it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "r+b") as handle:
        got = lock_file(handle, wait=wait)
        try:
            yield got
        finally:
            if got:
                unlock_file(handle)
