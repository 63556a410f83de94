"""Reading the bytes of a database file that this process also has open through SQLite.

On Linux and macOS a process's POSIX locks on a file belong to the process, not to a handle:
closing *any* handle on the file drops every lock the process holds on it, including the
shared lock of each open SQLite connection. Another program (the command line, a second
desk on the same folder) would then see no other user, checkpoint and delete the ``-wal``
file under the running app, and the app's later writes would be lost. SQLite itself never
closes such a handle while a connection still uses the file; this module does the same for
our own reads (the backup's snapshot, the header check): one handle per file, opened once
and kept for the life of the process, read with ``os.pread`` (no shared position).

On Windows closing a handle drops nothing, but SQLite's lock bytes (512 of them from the
1 GiB offset) refuse reads while any connection locks them; SQLite never stores data in that
page, so those bytes read as zeros here on every system, alike.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PENDING_BYTE = 0x4000_0000  # SQLite's lock bytes: PENDING, RESERVED and the SHARED range
LOCK_BYTES = 512

_lock = threading.Lock()
_kept: dict[tuple[int, int], int] = {}  # (device, inode) → a descriptor never closed


def _descriptor(path: Path) -> int:
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    with _lock:
        fd = _kept.get(key)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            _kept[key] = fd
        return fd


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    with _lock:  # Windows: no pread; the position is shared, so seek and read together
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


def read_at(path: Path, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes of ``path`` from ``offset`` (fewer at its end); the lock bytes as
    zeros. Never closes a handle on the file."""
    fd = _descriptor(path)
    end = offset + size
    lo, hi = max(offset, PENDING_BYTE), min(end, PENDING_BYTE + LOCK_BYTES)
    if lo >= hi:  # the read does not touch the lock bytes
        return _read_fully(fd, offset, size)
    before = _read_fully(fd, offset, lo - offset)
    length = os.fstat(fd).st_size
    if len(before) < lo - offset or length <= lo:  # the file ends before them
        return before
    zeros = bytes(min(hi, length) - lo)
    after = _read_fully(fd, hi, end - hi) if length > hi else b""
    return before + zeros + after


def _read_fully(fd: int, offset: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        got = _pread(fd, size, offset)
        if not got:
            break
        parts.append(got)
        offset += len(got)
        size -= len(got)
    return b"".join(parts)


class LiveReader:
    """A file-like reader of ``path`` for code that reads front to back (``read``/``seek``/
    ``tell``); ``close`` leaves the kept handle open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._at = 0
        _descriptor(path)  # fail here, as open() would, when the file cannot be read

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = max(0, os.stat(self.path).st_size - self._at)
        data = read_at(self.path, self._at, size)
        self._at += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._at
        elif whence == os.SEEK_END:
            offset += os.stat(self.path).st_size
        self._at = offset
        return offset

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        return None

    def __enter__(self) -> LiveReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
