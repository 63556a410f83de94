"""Each practitioner's free slots per local day, kept for the next availability call and kept
correct by reading the server's change log.

An availability call spends its time reading a month of bookings and walking each day's roster
lines; between two bookings of a practitioner the answer for that practitioner's day does not
change. The cache holds, per (practitioner, local day, length, earliest, latest), the slots the
rules give **before** the call's own limits (now, the online booking rules' notice and reach,
the window's ends) and **without** the API's holds — those are applied to every call, from the
call's own reads.

Correctness rests on the change log (``server_change_log``): every write to the clinic's rows
on the server — desks' pushes, API bookings, the server's own flags — appends an entry in the
writer's transaction, numbered in commit order. Each call first reads the entries after the
position the cache has reached (in its own read transaction, so the entries and the rows it
then reads are one snapshot):

- a change to a booking drops the days it touched before (where the cache saw it) and after
  (where it is now) for its practitioner and every practitioner sharing its room;
- a change to rosters, leave and closures, practitioners, rooms, locations, appointment types
  or the clinic's settings drops everything;
- another epoch (a restored server), a gap in the numbers (history pruned past the cache's
  position) or a long run of changes drops everything;
- a server whose log is empty (freshly seeded) is not cached at all.

Slots worked out from a snapshot are kept only when the cache is still at that snapshot's
position, so a slow call never stores what a newer change already dropped. Several server
processes each keep their own cache, all following the same log.
``tests/server/test_slot_cache.py`` holds the cached answer to a fresh computation after
random bookings, moves, cancellations, holds and roster changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from frontdesk.domain.diary import FreeSlot, RosterRule
from frontdesk.server import schema as s
from frontdesk.server.changelog import TABLES
from frontdesk.services.diary.view import roster_rules

# a change to any of these drops the whole cache (they change rarely)
FLUSH_ENTITIES = frozenset({
    "roster_entries", "leave", "practitioners", "rooms", "locations", "appointment_types",
    "clinic_settings",
})  # fmt: skip
MAX_TAIL = 2000  # more changes than this since the last call: start again
MAX_DAYS = 50_000  # (practitioner, day) entries kept before starting again
MAX_FACTS = 1000  # clinic facts kept (``memo``): types, rosters of sets of practitioners
T = TypeVar("T")

DayKey = tuple[str, date]
Variant = tuple[int, int, int]  # (length in minutes, earliest minute, latest minute)
Place = tuple[str | None, str | None, float, float]  # practitioner, room, start, end (epoch s)

# (the server's epoch, the change log's newest position) in one read
LOG_EPOCH = select(s.server_info.c.value).where(s.server_info.c.key == "epoch").scalar_subquery()
LOG_TOP = select(func.max(s.change_log.c.seq)).scalar_subquery()
LOG_CLOCK = select(LOG_EPOCH, LOG_TOP)


def log_tail(conn: Connection, after: int, top: int) -> list[Any] | None:
    """The change log's (seq, entity, row_id) after position ``after`` up to ``top``, in order;
    None when they are not all there to read (more than MAX_TAIL, or a gap): a cache that
    follows the log starts again then."""
    c = s.change_log.c
    rows = conn.execute(
        select(c.seq, c.entity, c.row_id)
        .where(c.seq > after, c.seq <= top)
        .order_by(c.seq)
        .limit(MAX_TAIL + 1)
    ).all()
    whole = len(rows) == top - after and rows[0][0] == after + 1
    return list(rows) if whole else None


class SlotCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seq = 0
        self.epoch: str | None = None
        self._days: dict[DayKey, dict[Variant, tuple[FreeSlot, ...]]] = {}
        self._rooms: dict[str, frozenset[str]] = {}
        self._where: dict[str, Place] = {}
        # each practitioner's roster lines (dropped with everything on a roster change)
        self._rules: dict[str, list[RosterRule]] = {}
        self._facts: dict[Hashable, Any] = {}
        self._holds: tuple[int, list[Any]] | None = None
        self.hits = 0
        self.misses = 0
        self.flushes = 0

    # -- following the change log ------------------------------------------------------------
    def catch_up(
        self, conn: Connection, tz: ZoneInfo | None = None, clock: tuple[Any, Any] | None = None
    ) -> int | None:
        """Apply the changes up to ``conn``'s snapshot; answer that snapshot's position, or
        None when the cache may not be used (an empty log: a freshly seeded server). ``tz``,
        the clinic's zone, is read when a booking's days are to be dropped and it is not
        given. ``clock``: ``LOG_CLOCK``'s (epoch, newest position) when the caller read them
        in its own statement."""
        epoch, top = clock if clock is not None else conn.execute(LOG_CLOCK).one()
        top = int(top or 0)
        if not top:
            return None
        with self._lock:
            if epoch != self.epoch:
                self._flush()
                self.epoch, self.seq = epoch, top
                return top
            if top <= self.seq:
                return top
            rows = log_tail(conn, self.seq, top)
            if rows is None or any(r[1] in FLUSH_ENTITIES for r in rows):
                self._flush()
            else:
                changed = {r[2] for r in rows if r[1] == "appointments"}
                if changed:
                    self._drop(conn, changed, tz)
            self.seq = top
            return top

    def memo(self, at: int | None, name: Hashable, make: Callable[[], T]) -> T:
        """A fact of the clinic that only a change to ``FLUSH_ENTITIES`` alters (its time
        zone, practitioners, appointment types, rosters), worked out once until such a change
        and kept, like slots, only when made from the cache's own position ``at`` (None: the
        cache is not used, work it out)."""
        if at is None:
            return make()
        with self._lock:
            if name in self._facts:
                got: T = self._facts[name]
                return got
        value = make()
        with self._lock:
            if at == self.seq and len(self._facts) < MAX_FACTS:
                self._facts[name] = value
        return value

    def open_holds(self, at: int, read: Callable[[], list[Any]]) -> list[Any]:
        """The API's holds neither released nor booked, as ``read`` gives them from a snapshot
        at position ``at``, shared by every call at that position: a hold is made, released,
        lapsed or booked only in a write that also appends to the change log, so the set is
        the same for any snapshot at one position (whether each has expired is the caller's)."""
        with self._lock:
            if self._holds is not None and self._holds[0] == at:
                return self._holds[1]
        rows = read()
        with self._lock:
            if at == self.seq:
                self._holds = (at, rows)
        return rows

    def _flush(self) -> None:
        self._facts.clear()
        self._days.clear()
        self._rules.clear()
        self._rooms.clear()
        self._where.clear()
        self.flushes += 1

    def followed(
        self,
        at: int,
        top: int,
        entries: Sequence[tuple[int, str, str]],
        places: dict[str, Place],
        tz: ZoneInfo | None,
    ) -> bool:
        """A write that held the writer lock from position ``at`` committed the change-log
        entries (seq, entity, row id) up to ``top``, and says where each booking it changed now
        is (``places``): move the cache over them as ``catch_up`` would, without reading them
        back. Nothing is done (the next ``catch_up`` reads them) unless the cache is at ``at``
        and every entry and changed booking's place is known."""
        with self._lock:
            if self.seq != at or top <= at or [e[0] for e in entries] != [*range(at + 1, top + 1)]:
                return False
            if any(e[1] in FLUSH_ENTITIES for e in entries):
                self._flush()
            else:
                changed = {e[2] for e in entries if e[1] == "appointments"}
                if changed and (tz is None or not changed <= places.keys()):
                    return False
                if changed and tz is not None:
                    was = [self._where.pop(i) for i in changed if i in self._where]
                    self._drop_places([*was, *(places[i] for i in changed)], tz)
            self.seq = top
            return True

    def _drop(self, conn: Connection, ids: set[str], tz: ZoneInfo | None) -> None:
        """Drop the days each changed booking touched, where it was and where it is now."""
        from frontdesk.server.api.availability import epoch_columns
        from frontdesk.server.api.clinic import clinic_zone

        tz = tz or self._facts.get("zone") or clinic_zone(conn)
        a = TABLES["appointments"]
        s_a, e_a = epoch_columns(conn, a.c.starts_at, a.c.ends_at)
        places: list[Place] = [self._where.pop(i) for i in ids if i in self._where]
        for at in range(0, len(ids), 500):
            part = sorted(ids)[at : at + 500]
            places += [
                (r[0], r[1], float(r[2]), float(r[3]))
                for r in conn.execute(
                    select(a.c.practitioner_id, a.c.room_id, s_a, e_a).where(a.c.id.in_(part))
                ).all()
            ]
        self._drop_places(places, tz)

    def _drop_places(self, places: Sequence[Place], tz: ZoneInfo) -> None:
        """Drop, for each booking's place, the days it touches (and the days either side) of
        its practitioner and everyone sharing its room."""
        for pid, room, b0, b1 in places:
            who = [p for p, rooms in self._rooms.items() if p == pid or (room and room in rooms)]
            if not who:
                continue
            first = datetime.fromtimestamp(b0, tz).date() - timedelta(days=1)
            last = datetime.fromtimestamp(b1, tz).date() + timedelta(days=1)
            for n in range((last - first).days + 1):
                day = first + timedelta(days=n)
                for p in who:
                    self._days.pop((p, day), None)

    # -- reading and keeping -----------------------------------------------------------------
    def get(self, pid: str, day: date, variant: Variant) -> tuple[FreeSlot, ...] | None:
        found = self._days.get((pid, day))
        got = found.get(variant) if found is not None else None
        if got is None:
            self.misses += 1
        else:
            self.hits += 1
        return got

    def rules(self, conn: Connection, at: int, ids: Sequence[str]) -> dict[str, list[RosterRule]]:
        """The practitioners' roster lines as of the snapshot at ``at``: kept ones, the others
        read (and kept unless the cache has moved past ``at``)."""
        with self._lock:
            got = {pid: self._rules[pid] for pid in ids if pid in self._rules}
        missing = [pid for pid in ids if pid not in got]
        if missing:
            fresh = roster_rules(Session(bind=conn), missing)
            got.update(fresh)
            with self._lock:
                if at == self.seq:
                    self._rules.update(fresh)
        return got

    def keep(
        self,
        at: int,
        variant: Variant,
        slots: dict[DayKey, tuple[FreeSlot, ...]],
        rooms: dict[str, frozenset[str]],
        seen: Iterable[tuple[str, str | None, str | None, float, float]],
    ) -> bool:
        """Keep slots worked out from the snapshot at ``at`` (with the rooms each practitioner
        uses and where each booking read was), unless the cache has moved past it."""
        with self._lock:
            if at != self.seq:
                return False
            if len(self._days) + len(slots) > MAX_DAYS:
                self._flush()
            for key, got in slots.items():
                self._days.setdefault(key, {})[variant] = got
            self._rooms.update(rooms)
            for ref, pid, room, b0, b1 in seen:
                self._where[ref] = (pid, room, float(b0), float(b1))
            return True

    def stats(self) -> dict[str, int]:
        return {
            "days": len(self._days),
            "hits": self.hits,
            "misses": self.misses,
            "flushes": self.flushes,
            "seq": self.seq,
        }


def group_by_day(slots: Sequence[FreeSlot], tz: ZoneInfo) -> dict[date, list[FreeSlot]]:
    out: dict[date, list[FreeSlot]] = {}
    for sl in slots:
        out.setdefault(sl.start.astimezone(tz).date(), []).append(sl)
    return out
