"""Patients by the last eight digits of their phone numbers, kept in memory and kept correct by
reading the server's change log, so finding a caller by number is a dictionary look-up and a
read of a few rows by id instead of a scan of every patient's three numbers (on the 10-year
clinic, 150,000 patients: the scan was the whole cost of a look-up).

The index only proposes candidates: ``patients.by_phone`` reads them by id in its own snapshot
and keeps those still live whose number, normalised, is the one asked for. So a patient the
index proposes wrongly costs a row read, and what matters is that it never leaves one out:

- it is built from the patients table in one snapshot, at a change-log position;
- each call first reads the log entries after the index's position (in the call's own read
  transaction) and adds the numbers the patients changed since now hold; numbers a patient no
  longer has stay as harmless extra candidates (a rebuild clears them);
- so the index answers for any snapshot at or after the one it was built from: a call whose
  snapshot is older than the build (only in the moment after a rebuild) scans instead, as do
  calls on a server whose log is empty (a freshly seeded one);
- another epoch (a restored server), a gap in the numbers (history pruned past the index's
  position) or a long run of changes builds it again.

Several server processes each keep their own index, all following the same log.
``tests/server/test_phone_index.py`` holds its answers to the scan's after desk and API
changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, select

from frontdesk.server.api.slot_cache import LOG_CLOCK, log_tail
from frontdesk.server.changelog import TABLES

PHONES = ("mobile_phone", "home_phone", "work_phone")
TAIL = 8  # digits compared: enough to tell numbers apart, the same whatever the prefix
MAX_STALE = 20_000  # numbers patients no longer have, kept before building again


def tail(number: str | None) -> str:
    """The last ``TAIL`` digits of a phone number as typed (anything not a digit ignored)."""
    if not number:
        return ""
    return "".join(ch for ch in number if ch.isdigit())[-TAIL:]


class PhoneIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.epoch: str | None = None
        self.built = -1  # the log position the index was built at; -1: not built
        self.seq = -1  # the position it has followed the log to
        self._ids: dict[str, set[str]] = {}
        self._stale = 0
        self.builds = 0

    def candidates(self, conn: Connection, number: str) -> list[str] | None:
        """Ids of the patients that may have ``number`` in ``conn``'s snapshot (a superset),
        or None when the index cannot answer for that snapshot (scan instead)."""
        epoch, top = conn.execute(LOG_CLOCK).one()
        top = int(top or 0)
        if not top:
            return None
        with self._lock:
            if epoch != self.epoch or self.built < 0:
                self._build(conn, epoch, top)
            elif top > self.seq:
                self._follow(conn, epoch, top)
            if top < self.built:
                return None
            return sorted(self._ids.get(tail(number), ()))

    def _build(self, conn: Connection, epoch: str | None, top: int) -> None:
        p = TABLES["patients"].c
        self._ids = {}
        self._stale = 0
        self._add(conn.execute(select(p.id, *(p[c] for c in PHONES))).all())
        self.epoch, self.built, self.seq = epoch, top, top
        self.builds += 1

    def _follow(self, conn: Connection, epoch: str | None, top: int) -> None:
        rows = log_tail(conn, self.seq, top)
        if rows is None or self._stale > MAX_STALE:
            self._build(conn, epoch, top)
            return
        changed = sorted({r[2] for r in rows if r[1] == "patients"})
        p = TABLES["patients"].c
        for at in range(0, len(changed), 500):
            got = conn.execute(
                select(p.id, *(p[col] for col in PHONES)).where(p.id.in_(changed[at : at + 500]))
            ).all()
            self._stale += len(got)
            self._add(got)
        self.seq = top

    def _add(self, rows: Iterable[tuple[str, ...]]) -> None:
        ids = self._ids
        for pid, *numbers in rows:
            for number in numbers:
                t = tail(number)
                if t:
                    ids.setdefault(t, set()).add(pid)

    def stats(self) -> dict[str, int]:
        return {"numbers": len(self._ids), "seq": self.seq, "builds": self.builds}
