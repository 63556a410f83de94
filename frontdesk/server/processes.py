"""What several server processes (``frontdesk-server run --workers N``) share.

- **One dispatcher.** The webhook dispatcher (and the lapsing of holds it does) runs in one
  process at a time: the one holding the ``Lease`` — a lock on a file beside a SQLite
  database, a session advisory lock on PostgreSQL. A process that dies lets go of it (the
  operating system drops the file lock, PostgreSQL the session's lock), and another takes it at
  its next round.
- **One rate limit per key.** ``SharedRateLimiter`` keeps the token buckets in a small file
  mapped into every process (under a file lock), so a key's calls are counted together
  whichever process answers them.
- **Wake-ups.** A desk's long-poll on one process learns of another's commits by reading the
  change log's newest position (``ServerStore.refresh_latest``), once per 0.1 s per process.

The slot cache and phone index need nothing: each process follows the shared change log.
``tests/server/test_server_workers.py`` runs two real server processes on loopback.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, text

from frontdesk.db.file_lock import lock_file, unlock_file
from frontdesk.server.store import ServerStore

LEASE_KEY = 7_042_202  # PostgreSQL advisory lock of the dispatcher (the writer's is 7_042_201)
# set by ``run --workers`` for the processes it starts: a folder they share, the database
SHARED_DIR_ENV = "FRONTDESK_SERVER_SHARED_DIR"
URL_ENV = "FRONTDESK_SERVER_WORKER_DATABASE"


def sqlite_file(store: ServerStore) -> Path | None:
    """The SQLite database's file, None on PostgreSQL or for an in-memory database."""
    if store.is_postgres:
        return None
    name = store.engine.url.database
    return Path(name) if name and name != ":memory:" else None


class Lease:
    """Whether this process runs the dispatcher: ``held()`` takes the lease when it is free
    and answers whether this process has it."""

    def __init__(self, store: ServerStore) -> None:
        self.store = store
        self._file: IO[bytes] | None = None
        self._conn: Connection | None = None
        self._held = False

    def held(self) -> bool:
        if self.store.is_postgres:
            return self._held_pg()
        path = sqlite_file(self.store)
        if path is None:
            return True
        if self._file is None:
            fd = os.open(f"{path}.dispatcher.lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "r+b")
        if not self._held:
            self._held = lock_file(self._file, wait=False)
        return self._held

    def _held_pg(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self.store.engine.connect()
            if self._held:
                self._conn.execute(text("SELECT 1"))  # still connected, so still ours
            else:
                got = self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_KEY}
                ).scalar()
                self._conn.commit()
                self._held = bool(got)
        except Exception:  # the connection went: the lock went with it; try again next round
            self.release()
            return False
        return self._held

    def release(self) -> None:
        self._held = False
        if self._conn is not None:
            with suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()  # closing the file drops its lock
            self._file = None


_SLOT = struct.Struct("<16sdd")  # key id digest, tokens left, when (monotonic seconds)
SLOTS = 4096


class SharedBuckets:
    """Token buckets in a file every server process maps (Linux's monotonic clock is the
    same for every process, so the refill times agree). A key's bucket is found by its id's
    digest, open addressing; a full table starts again empty (every key at its full rate)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, "r+b")
        size = _SLOT.size * SLOTS
        if os.fstat(self._file.fileno()).st_size < size:
            self._file.truncate(size)
        self._map = mmap.mmap(self._file.fileno(), size)

    @contextmanager
    def locked(self) -> Any:
        lock_file(self._file, wait=True)
        try:
            yield self
        finally:
            unlock_file(self._file)

    def _slot(self, key_id: str) -> tuple[int, bool]:
        digest = hashlib.blake2b(key_id.encode(), digest_size=16).digest()
        start = int.from_bytes(digest[:4], "little") % SLOTS
        for n in range(SLOTS):
            at = ((start + n) % SLOTS) * _SLOT.size
            found = self._map[at : at + 16]
            if found == digest:
                return at, True
            if found == bytes(16):
                self._map[at : at + 16] = digest
                return at, False
        self._map[:] = bytes(len(self._map))  # full: start again
        return self._slot(key_id)

    def get(self, key_id: str) -> tuple[float, float] | None:
        """(tokens, when) of this key's bucket, None for a key not seen yet (lock held)."""
        at, known = self._slot(key_id)
        if not known:
            return None
        _d, tokens, when = _SLOT.unpack_from(self._map, at)
        return tokens, when

    def put(self, key_id: str, tokens: float, when: float) -> None:
        at, _known = self._slot(key_id)
        _SLOT.pack_into(self._map, at, self._map[at : at + 16], tokens, when)

    def close(self) -> None:
        self._map.close()
        self._file.close()


def shared_buckets(store: ServerStore) -> SharedBuckets | None:
    """The rate limits' file: in the folder ``run --workers`` made for its processes, else
    beside a SQLite database (another ``run`` on the same file shares it); None for a lone
    process on PostgreSQL (its own buckets)."""
    folder = os.environ.get(SHARED_DIR_ENV)
    if folder:
        return SharedBuckets(Path(folder) / "rate-limits")
    path = sqlite_file(store)
    return SharedBuckets(Path(f"{path}.rate-limits")) if path is not None else None
