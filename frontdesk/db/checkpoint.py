"""WAL checkpoints off the write path (issue 21, booking).

SQLite's automatic checkpoint runs inside the commit that takes the WAL past
``wal_autocheckpoint`` pages: that write also copies every page of the WAL into the main file
and fsyncs it — on the 10-year clinic a booking that ran one took 7–10 ms instead of 3.5 ms
(and 700 ms when the main file's pages were not yet on the disk). A desk writes in short
bursts (a booking, a payment) with seconds of idle time between them, so ``Checkpointer`` runs
the checkpoint on a thread of its own once the desk has been idle for ``IDLE_SECONDS`` after a
write. It is PASSIVE: it never takes the write lock nor waits for one, so a booking made while
it runs is not held up. Connections keep ``wal_autocheckpoint`` at ``BACKSTOP_PAGES`` so the WAL
stays bounded when a desk writes without pause (an import, a long sync) or a process without
the thread (the command line) writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

from frontdesk.paths import keep_private

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
# Pages (4 KiB) the WAL may hold before a commit checkpoints it itself: ≈ 16 MiB, about 500
# bookings written without a pause (the SQLite default, 1,000 pages, is ≈ 30 bookings).
BACKSTOP_PAGES = 4096


class Checkpointer:
    """Checkpoints one desk file's WAL on a background thread when writes pause."""

    def __init__(self, database: Path, idle_seconds: float = IDLE_SECONDS) -> None:
        self.database = database
        self.idle_seconds = idle_seconds
        self._lock = threading.Condition()
        self._due: float | None = None
        self._thread: threading.Thread | None = None
        # (busy, frames in the WAL, frames checkpointed) of the last run, for tests and probes
        self.last: tuple[int, int, int] | None = None
        self.runs = 0

    def wrote(self) -> None:
        """A write transaction committed: checkpoint once the desk is idle again."""
        with self._lock:
            self._due = time.monotonic() + self.idle_seconds
            self._lock.notify()  # a waiting thread recounts from this write
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="frontdesk-checkpoint", daemon=True
                )
                self._thread.start()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until no checkpoint is due or running (tests, shutdown); False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._thread is None:
                    return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._due is None:
                    self._thread = None
                    return
                wait = self._due - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                self._due = None
            self.checkpoint()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint, now, on this thread. Never creates the file (``mode=rw``:
        a restore may have moved it aside); a failure is logged and left to the next write's
        checkpoint or the backstop."""
        wal = Path(f"{self.database}-wal")
        if not wal.exists():  # every connection closed: SQLite checkpointed it then
            return None
        uri = f"file:{quote(str(self.database))}?mode=rw"
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.debug("checkpoint skipped: %s", exc)
            return None
        # patient data: the -wal and -shm stay this user's only, as the desk's engine keeps them
        keep_private(self.database, wal, Path(f"{self.database}-shm"))
        try:
            conn.execute("PRAGMA synchronous=FULL")  # the main file is fsynced after the copy
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            log.debug("checkpoint failed: %s", exc)
            return None
        finally:
            conn.close()
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        self.runs += 1
        return self.last
