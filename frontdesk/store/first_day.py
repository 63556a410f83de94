"""The diary's first screen read with plain ``sqlite3``, before SQLAlchemy and the models are
imported (docs/performance.md, cold start): the clinic's name and zone, the catalogue
(practitioners, appointment types, rooms) and what ``services.diary.view.load_view`` returns
for the days shown — the same values in the same order, so the page paints from these and
the services take the same widgets over once they are imported (``tests/store/test_first_day``
compares the two field by field).

Read only (``mode=ro``): nothing here writes, and nothing here runs unless the file is at the
migrations' head (``first_screen`` answers None otherwise, and for a file with no clinic yet
or any error: the start then goes the usual way, through ``open_desk``).
Times are stored as integer microseconds and keys as 16 bytes (``db/raw_values.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.db.raw_values import from_sqlite_utc_value, key_blob, key_text, sqlite_utc_value
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import Block, RosterRule, availability_on
from frontdesk.domain.diary_view import (
    DiaryAppointment,
    DiaryData,
    DiaryHold,
    PractitionerInfo,
    RoomInfo,
    TypeInfo,
    appointment_of,
)


@dataclass(frozen=True)
class FirstScreen:
    """What the window and the diary need before the services are imported."""

    clinic_name: str
    tz: ZoneInfo
    practitioners: list[PractitionerInfo]
    types: list[TypeInfo]
    rooms: list[RoomInfo]
    waiting: int  # the diary toolbar's figures: open waitlist entries
    pinned: int  # and appointments on the pinboard


def _key(raw: Any) -> Any:
    return key_text(raw) if isinstance(raw, bytes) and len(raw) == 16 else raw


def _time(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, int):  # a time stored as text: not this code's to read
        raise TypeError("a time not stored as integer microseconds")
    return from_sqlite_utc_value(raw)


def _at(raw: Any) -> datetime:
    value = _time(raw)
    assert value is not None
    return value


def _day(raw: Any) -> date | None:
    return None if raw is None else date.fromisoformat(str(raw))


@contextmanager
def reading(database: Path) -> Iterator[sqlite3.Connection]:
    """One read transaction on the file, read only (the file must exist)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def first_screen(database: Path, head: str) -> FirstScreen | None:
    """The clinic and its catalogue, or None when the first paint should not be read this way:
    no file, a file not at ``head`` (an upgrade runs first), no clinic yet (the first start
    makes it), or anything SQLite refuses (the usual start reports it)."""
    if not database.exists():
        return None
    try:
        with reading(database) as conn:
            version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if version is None or version[0] != head:
                return None
            settings = conn.execute(
                "SELECT name, time_zone FROM clinic_settings WHERE deleted_at IS NULL "
                "ORDER BY created_at, id LIMIT 1"
            ).fetchone()
            if settings is None:
                return None
            practitioners = catalogue_practitioners(conn)
            waiting, pinned = panel_counts(conn)
            return FirstScreen(str(settings[0]), ZoneInfo(str(settings[1])), practitioners,
                               catalogue_types(conn), catalogue_rooms(conn), waiting,
                               pinned)  # fmt: skip
    except (sqlite3.Error, TypeError, ValueError, LookupError):
        return None


def staff_exist(database: Path) -> bool:
    """Whether the clinic has a staff account (the start's sign-in dialog; the first run's
    dialog creates the owner's otherwise); False for anything SQLite refuses."""
    try:
        with reading(database) as conn:
            row = conn.execute("SELECT 1 FROM staff_users WHERE deleted_at IS NULL LIMIT 1")
            return row.fetchone() is not None
    except sqlite3.Error:
        return False


def catalogue_practitioners(conn: sqlite3.Connection) -> list[PractitionerInfo]:
    rows = conn.execute(
        "SELECT id, display_name, profession, colour, overlap_policy, default_location_id "
        "FROM practitioners WHERE archived_at IS NULL AND deleted_at IS NULL "
        "ORDER BY sort_order, display_name"
    )
    return [PractitionerInfo(_key(r[0]), r[1], r[2], r[3], r[4], _key(r[5])) for r in rows]


def catalogue_types(conn: sqlite3.Connection) -> list[TypeInfo]:
    rows = conn.execute(
        "SELECT id, name, duration_minutes, colour, is_group, capacity, is_new_patient, "
        "profession, practitioner_ids FROM appointment_types "
        "WHERE archived_at IS NULL AND deleted_at IS NULL ORDER BY profession, name"
    )
    return [TypeInfo(_key(r[0]), r[1], r[2], r[3], bool(r[4]), r[5], bool(r[6]), r[7], r[8])
            for r in rows]  # fmt: skip


def catalogue_rooms(conn: sqlite3.Connection) -> list[RoomInfo]:
    rows = conn.execute(
        "SELECT id, name, overlap_policy FROM rooms "
        "WHERE archived_at IS NULL AND deleted_at IS NULL ORDER BY sort_order, name"
    )
    return [RoomInfo(_key(r[0]), r[1], r[2]) for r in rows]


def panel_counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """How many entries the waitlist panel lists and how many the pinboard (as
    ``services.diary.groups.waitlist`` and ``pinboard`` find them)."""
    waiting = conn.execute(
        "SELECT count(*) FROM waitlist_entries w WHERE w.resolved_at IS NULL "
        "AND w.deleted_at IS NULL AND EXISTS (SELECT 1 FROM patients p WHERE p.id = w.patient_id)"
    ).fetchone()[0]
    pinned = conn.execute(
        "SELECT count(*) FROM appointments WHERE pinned_at IS NOT NULL AND deleted_at IS NULL "
        "AND status != 'cancelled'"
    ).fetchone()[0]
    return int(waiting), int(pinned)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _roster(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[RosterRule]]:
    out: dict[str, list[RosterRule]] = {pid: [] for pid in ids}
    rows = conn.execute(
        "SELECT practitioner_id, weekday, start_minute, end_minute, kind, every_weeks, "
        "week_offset, effective_from, effective_until, room_id, label FROM roster_entries "
        f"WHERE practitioner_id IN ({_marks(len(ids))}) AND deleted_at IS NULL",
        [key_blob(i) for i in ids],
    )
    for r in rows:
        pid = _key(r[0])
        start_day = _day(r[7])
        assert start_day is not None
        out[pid].append(RosterRule(pid, r[1], r[2], r[3], r[4], r[5], r[6], start_day,
                                   _day(r[8]), _key(r[9]), r[10]))  # fmt: skip
    return out


def _leave(
    conn: sqlite3.Connection, ids: Sequence[str], start: int, end: int
) -> dict[str, list[Block]]:
    """As ``services.diary.view.leave_blocks``: each practitioner's leave, closures of the whole
    clinic (everyone) and of a location (those based there)."""
    rows = conn.execute(
        "SELECT id, practitioner_id, starts_at, ends_at, reason, kind, location_id FROM leave "
        f"WHERE (practitioner_id IN ({_marks(len(ids))}) "
        "OR (practitioner_id IS NULL AND room_id IS NULL)) "
        "AND deleted_at IS NULL AND starts_at < ? AND ends_at > ?",
        [*(key_blob(i) for i in ids), end, start],
    ).fetchall()
    out: dict[str, list[Block]] = {pid: [] for pid in ids}
    homes: dict[str, str | None] = {}
    if any(r[1] is None and r[6] is not None for r in rows):
        homes = {
            _key(pid): _key(home)
            for pid, home in conn.execute(
                "SELECT id, default_location_id FROM practitioners "
                f"WHERE id IN ({_marks(len(ids))})",
                [key_blob(i) for i in ids],
            )
        }
    for lid, pid, s, e, reason, kind, location_id in rows:
        label = reason or kind.capitalize()
        begins, ends, ref = _at(s), _at(e), _key(lid)
        if pid is not None:
            out[_key(pid)].append(Block(begins, ends, _key(pid), None, ref, label))
            continue
        for who in ids:
            if location_id is None or homes.get(who) == _key(location_id):
                out[who].append(Block(begins, ends, who, None, ref, label))
    return out


_APPOINTMENTS = """
SELECT a.id, a.practitioner_id, a.patient_id,
  coalesce(nullif(p.preferred_name, ''), p.first_name) || ' ' || p.last_name,
  p.mobile_phone, a.starts_at, a.ends_at, a.status, a.appointment_type_id, t.name, t.colour,
  a.room_id, a.notes, a.cancellation_reason, a.is_group, a.capacity,
  (SELECT count(x.id) FROM appointment_attendees x WHERE x.appointment_id = a.id
     AND x.waitlisted IS 0 AND x.status != 'cancelled' AND x.deleted_at IS NULL),
  a.series_id, t.is_new_patient, a.reminder_sent_at IS NOT NULL, a.pinned_at IS NOT NULL,
  a.clash_flagged,
  (SELECT group_concat(al.text, '; ') FROM patient_alerts al WHERE al.patient_id = a.patient_id
     AND al.archived_at IS NULL AND al.deleted_at IS NULL),
  EXISTS (SELECT * FROM invoice_lines l, invoices i WHERE l.appointment_id = a.id
     AND i.id = l.invoice_id AND i.status != 'void' AND i.deleted_at IS NULL),
  EXISTS (SELECT * FROM invoice_lines l, invoices i WHERE l.appointment_id = a.id
     AND i.id = l.invoice_id AND i.status != 'void' AND i.deleted_at IS NULL
     AND i.status = 'issued' AND i.total_cents > (SELECT coalesce(sum(pa.amount_cents), 0)
       FROM payment_allocations pa WHERE pa.invoice_id = i.id AND pa.deleted_at IS NULL)),
  a.confirmed_at IS NOT NULL,
  EXISTS (SELECT * FROM inbound_messages m WHERE m.appointment_id = a.id
     AND m.handled_at IS NULL AND m.deleted_at IS NULL),
  a.cancellation_note
FROM appointments a LEFT OUTER JOIN patients p ON p.id = a.patient_id
  LEFT OUTER JOIN appointment_types t ON t.id = a.appointment_type_id
WHERE a.practitioner_id IN ({marks}) AND a.starts_at >= ? AND a.starts_at < ?
  AND a.ends_at > ? AND a.deleted_at IS NULL
ORDER BY a.starts_at
"""


_APPOINTMENT_KEYS = (0, 1, 2, 8, 11, 17)  # the statement's key columns (times: 5 and 6)


def _appointments(
    conn: sqlite3.Connection, ids: Sequence[str], start: datetime, end: datetime
) -> list[DiaryAppointment]:
    """As ``services.diary.view.appointments_between`` (the same statement, written out)."""
    early = sqlite_utc_value(start - timedelta(hours=12))
    params = [*(key_blob(i) for i in ids), early, sqlite_utc_value(end), sqlite_utc_value(start)]
    rows = conn.execute(_APPOINTMENTS.format(marks=_marks(len(ids))), params)
    out = []
    for raw in rows:
        r = list(raw)
        for i in _APPOINTMENT_KEYS:
            r[i] = _key(r[i])
        r[5], r[6] = _at(r[5]), _at(r[6])
        out.append(appointment_of(r))
    return out


def _rooms_in_use(
    conn: sqlite3.Connection, rooms: list[str], shown: list[str], start: datetime, end: datetime
) -> list[Block]:
    if not rooms:
        return []
    rows = conn.execute(
        "SELECT id, practitioner_id, room_id, starts_at, ends_at FROM appointments "
        f"WHERE room_id IN ({_marks(len(rooms))}) "
        f"AND (practitioner_id NOT IN ({_marks(len(shown))})) "
        "AND starts_at < ? AND ends_at > ? AND starts_at >= ? "
        "AND status != 'cancelled' AND deleted_at IS NULL",
        [*(key_blob(r) for r in rooms), *(key_blob(p) for p in shown), sqlite_utc_value(end),
         sqlite_utc_value(start), sqlite_utc_value(start - timedelta(hours=12))],
    )  # fmt: skip
    return [Block(_at(s), _at(e), _key(pid), _key(rid), _key(aid), "another practitioner")
            for aid, pid, rid, s, e in rows]  # fmt: skip


def _room_closures(
    conn: sqlite3.Connection, rooms: list[str], start: int, end: int
) -> dict[str, list[Block]]:
    out: dict[str, list[Block]] = {rid: [] for rid in rooms}
    if not rooms:
        return out
    rows = conn.execute(
        "SELECT id, room_id, starts_at, ends_at, reason FROM leave "
        f"WHERE room_id IN ({_marks(len(rooms))}) AND deleted_at IS NULL "
        "AND starts_at < ? AND ends_at > ?",
        [*(key_blob(r) for r in rooms), end, start],
    )
    for lid, rid, s, e, reason in rows:
        out[_key(rid)].append(Block(_at(s), _at(e), None, _key(rid), _key(lid), reason or "Closed"))
    return out


def _holds(
    conn: sqlite3.Connection, ids: Sequence[str], rooms: Sequence[str], start: datetime,
    end: datetime, now: datetime,
) -> list[DiaryHold]:  # fmt: skip
    whose = f"practitioner_id IN ({_marks(len(ids))})"
    if rooms:
        whose = f"({whose} OR room_id IN ({_marks(len(rooms))}))"
    rows = conn.execute(
        "SELECT id, practitioner_id, room_id, starts_at, ends_at, expires_at "
        f"FROM appointment_holds WHERE {whose} AND starts_at < ? AND ends_at > ? "
        "AND expires_at > ? AND released_at IS NULL AND appointment_id IS NULL "
        "AND deleted_at IS NULL ORDER BY starts_at",
        [*(key_blob(i) for i in ids), *(key_blob(r) for r in rooms), sqlite_utc_value(end),
         sqlite_utc_value(start), sqlite_utc_value(now)],
    )  # fmt: skip
    return [DiaryHold(_key(h), _key(p), _key(r), _at(s), _at(e), _at(x))
            for h, p, r, s, e, x in rows]  # fmt: skip


def read_view(
    conn: sqlite3.Connection, screen: FirstScreen, days: Sequence[date],
    practitioner_ids: Sequence[str], now: datetime,
) -> DiaryData:  # fmt: skip
    """What ``load_view(ctx, days, practitioner_ids)`` returns, from the open read ``conn``;
    ``now``: the clinic server's time as the desk knows it (``ctx.server_now()``)."""
    tz = screen.tz
    ordered = sorted(days)
    start, _ = day_bounds_utc(ordered[0], tz)
    _, end = day_bounds_utc(ordered[-1], tz)
    wanted = set(practitioner_ids)
    shown = [p for p in screen.practitioners if p.id in wanted]
    ids = [p.id for p in shown]
    rules = _roster(conn, ids)
    since, until = sqlite_utc_value(start), sqlite_utc_value(end)
    leave = _leave(conn, ids, since, until)
    appointments = _appointments(conn, ids, start, end)
    policies = {r.id: r.overlap_policy for r in screen.rooms}
    room_ids = list(policies)
    data = DiaryData(
        tuple(ordered), shown, appointments, rules=rules, leave=leave, room_policies=policies,
        room_busy=_rooms_in_use(conn, room_ids, ids, start, end),
        room_names={r.id: r.name for r in screen.rooms},
        room_closed=_room_closures(conn, room_ids, since, until),
        holds=_holds(conn, ids, room_ids, start, end, now),
    )  # fmt: skip
    for pid in ids:
        for day in ordered:
            data.availability[(pid, day)] = availability_on(rules[pid], leave[pid], day, tz)
    return data
