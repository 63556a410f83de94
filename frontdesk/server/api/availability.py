"""Free times across the whole clinic, and the check of one time before a hold or booking.

The rules are the desks': rosters, breaks, leave and closures come from
``services.diary.view`` (``roster_rules``, ``leave_blocks``) and the slots and problems from
``domain.diary`` (``availability_on``, ``free_slots_on``, ``roster_problems``, ``clashes``).
What the server adds is its own knowledge: bookings of every desk, room closures, and the
integration API's active holds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    String,
    and_,
    cast,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from frontdesk.db.types import from_sqlite_utc_value
from frontdesk.domain import online_rules
from frontdesk.domain.clinic_setup import offers
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import (
    Block,
    FreeSlot,
    Problem,
    ProblemKind,
    availability_on,
    clashes,
    free_slots_window,
    roster_problems,
)
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.server import schema as s
from frontdesk.server.api.clinic import one
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.changelog import TABLES
from frontdesk.services.diary.view import leave_blocks, roster_rules

MAX_WINDOW_DAYS = 90
SLOT_MINUTES = 15
CHUNK_DAYS = 7
ASK = -1  # ``search``'s position: catch the cache up itself


@dataclass(frozen=True)
class Demand:
    """What is being looked for: a type (its length), and who may give it."""

    type_row: dict[str, Any] | None
    minutes: int
    practitioners: list[dict[str, Any]]


@dataclass
class Diary:
    """Everything the rules need over a window, for some practitioners."""

    rules: dict[str, list[Any]]
    leave: dict[str, list[Block]]
    # Blocks, or (start, end) epoch seconds when loaded with ``seconds``
    busy: dict[str, list[Any]] = field(default_factory=dict)
    room_busy: dict[str, list[Any]] = field(default_factory=dict)
    rooms_of: dict[str, set[str]] = field(default_factory=dict)


def demand(
    conn: Connection,
    *,
    type_id: str | None,
    profession: str | None,
    practitioner_ids: Sequence[str] = (),
    location_id: str | None = None,
    online_only: bool = False,
    fact: Fact | None = None,
) -> Demand:
    """``fact`` remembers the type's and practitioners' rows (``SlotCache.memo``)."""
    fact = fact or _afresh
    if not type_id and not profession:
        raise ApiProblem(
            400, "Say what is wanted: appointment_type_id, or profession.", "missing_type"
        )
    type_row = (
        fact(("type", type_id), lambda: one(conn, "appointment_types", type_id, "appointment type"))
        if type_id
        else None
    )
    if type_row is not None and type_row["archived_at"] is not None:
        raise ApiProblem(404, "That appointment type is no longer offered.", "not_found")
    if type_row is not None and online_only and not type_row["online_bookable"]:
        raise ApiProblem(
            422,
            "The clinic does not let patients book that appointment type online.",
            "not_online_bookable",
        )
    rows: list[dict[str, Any]] = fact("practitioners", lambda: _practitioners(conn))
    for pid in practitioner_ids:
        asked = next((r for r in rows if r["id"] == pid), None)
        if asked is None:
            raise ApiProblem(
                404, f"No practitioner has the id {pid[:40]!r} in this clinic.", "not_found"
            )
        if not asked["online_bookable"]:
            raise not_online(asked)
    rows = [r for r in rows if r["online_bookable"]]
    chosen = [
        r
        for r in rows
        if (not practitioner_ids or r["id"] in practitioner_ids)
        and (location_id is None or r["default_location_id"] in (None, location_id))
        and (
            offers(type_row["profession"], type_row["practitioner_ids"], r["id"], r["profession"])
            if type_row is not None
            else (profession or "").casefold() == r["profession"].casefold()
        )
    ]
    minutes = int(type_row["duration_minutes"]) if type_row is not None else 30
    return Demand(type_row, minutes, chosen)


def _practitioners(conn: Connection) -> list[dict[str, Any]]:
    p = TABLES["practitioners"]
    return [
        dict(r)
        for r in conn.execute(
            select(p)
            .where(p.c.archived_at.is_(None), p.c.deleted_at.is_(None))
            .order_by(p.c.sort_order, p.c.display_name, p.c.id)
        ).mappings()
    ]


Fact = Callable[[Hashable, Callable[[], Any]], Any]


def _afresh(_name: Hashable, make: Callable[[], Any]) -> Any:
    return make()


def not_online(practitioner: dict[str, Any]) -> ApiProblem:
    return ApiProblem(
        422,
        f"{practitioner['display_name']} does not take online bookings: offer another "
        "practitioner, or ask the caller to ring the clinic.",
        "practitioner_not_online",
    )


def rules_for(want: Demand, practitioner: dict[str, Any]) -> online_rules.OnlineRules:
    """The online booking rules for ``want``'s type with this practitioner."""
    t = want.type_row or {}
    return online_rules.combined(
        t.get("online_min_notice_minutes"),
        t.get("online_max_ahead_days"),
        practitioner.get("online_min_notice_minutes"),
        practitioner.get("online_max_ahead_days"),
    )


def check_rules(
    want: Demand, practitioner: dict[str, Any], start: datetime, now: datetime, tz: ZoneInfo
) -> None:
    """Refuse (422 ``online_rules``) a time the online booking rules do not allow (a time
    already past is left to ``check_time``, which says so)."""
    if start < now:
        return
    if not practitioner.get("online_bookable", True):
        raise not_online(practitioner)
    why = online_rules.problem(rules_for(want, practitioner), start, now, tz)
    if why is not None:
        raise ApiProblem(422, why, "online_rules")


def load_diary(
    conn: Connection,
    practitioners: Sequence[dict[str, Any]],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    ignore_hold: str | None = None,
    ignore_appointment: str | None = None,
    rules: dict[str, list[Any]] | None = None,
    seconds: bool = False,
    holds: bool = True,
    seen: list[Any] | None = None,
) -> Diary:
    """Rules, leave, and what is busy for each practitioner over [start, end): their own
    bookings and the API's holds (``busy``) and, in their rooms, other practitioners'
    bookings and room closures (``room_busy``) — as Blocks, or with ``seconds`` as plain
    (start, end) seconds after the Unix epoch (the availability search's one-pass form).
    ``holds=False`` leaves the holds out; ``seen`` collects the bookings read, as (id,
    practitioner, room, start, end) (the slot cache's record of where each booking was)."""
    ids = [p["id"] for p in practitioners]
    session = Session(bind=conn)
    if rules is None:
        rules = roster_rules(session, ids)
    leave = leave_blocks(session, ids, start, end)
    diary = Diary(rules, leave)
    rooms: set[str] = set()
    for p in practitioners:
        mine = {r.room_id for r in rules[p["id"]] if r.room_id}
        if p.get("default_room_id"):
            mine.add(p["default_room_id"])
        diary.rooms_of[p["id"]] = mine
        rooms |= mine
        diary.busy[p["id"]] = []
        diary.room_busy[p["id"]] = []
    a = TABLES["appointments"]
    s_a, e_a = _times(conn, a.c.starts_at, a.c.ends_at, seconds)
    live = (
        a.c.status != AppointmentStatus.CANCELLED,
        a.c.deleted_at.is_(None),
        a.c.starts_at < end,
        # a lower bound on the start (a booking is at most 12 hours) keeps the
        # (practitioner, start) and (room, start) indexes range scans instead of all history
        a.c.starts_at > start - timedelta(hours=12),
        a.c.ends_at > start,
    )
    # the practitioners' bookings, then other practitioners' bookings in their rooms: two
    # index range scans (one OR of both reads every booking twice and is five times slower)
    places: list[ColumnElement[bool]] = [a.c.practitioner_id.in_(ids)]
    if rooms:
        places.append(and_(a.c.room_id.in_(rooms), a.c.practitioner_id.not_in(ids)))
    groups: list[tuple[str, Any]] = []  # (label, rows of id, practitioner, room, start, end)
    for place in places:
        result = conn.execute(
            select(a.c.id, a.c.practitioner_id, a.c.room_id, s_a, e_a).where(*live, place)
        )
        # plain strings and floats: the driver's tuples as they are (no row objects)
        got = result.cursor.fetchall() if seconds and result.cursor else result.all()
        result.close()
        groups.append(
            ("", [r for r in got if r[0] != ignore_appointment] if ignore_appointment else got)
        )
        if seen is not None:
            seen.extend(got)
    if holds:
        groups.append(("held", _holds(conn, ids, rooms, start, end, now, ignore_hold, seconds)))
    if rooms:
        lv = TABLES["leave"]
        s_l, e_l = _times(conn, lv.c.starts_at, lv.c.ends_at, seconds)
        groups.append((
            "room closed",
            conn.execute(
                select(lv.c.id, lv.c.practitioner_id, lv.c.room_id, s_l, e_l).where(
                    and_(lv.c.practitioner_id.is_(None), lv.c.room_id.in_(rooms)),
                    lv.c.deleted_at.is_(None),
                    lv.c.starts_at < end,
                    lv.c.ends_at > start,
                )
            ).all(),
        ))  # fmt: skip
    shared = [(rid, pid) for pid, mine in diary.rooms_of.items() for rid in mine]
    busy, room_busy = diary.busy, diary.room_busy
    for label, rows in groups:
        for ref, pid, room, b0, b1 in rows:
            item: Any = (b0, b1) if seconds else Block(_utc(b0), _utc(b1), pid, room, ref, label)
            if pid in busy:
                busy[pid].append(item)
            if room is not None:
                for rid, other in shared:
                    if rid == room and other != pid:
                        room_busy[other].append(item)
    return diary


def _holds(
    conn: Connection,
    ids: Sequence[str],
    rooms: set[str],
    start: datetime,
    end: datetime,
    now: datetime,
    ignore_hold: str | None,
    seconds: bool,
) -> list[Any]:
    """The API's holds still active over [start, end) of these practitioners or in these
    rooms, as (id, practitioner, room, start, end)."""
    h = s.api_holds.c
    s_h, e_h = _times(conn, h.starts_at, h.ends_at, seconds)
    place: ColumnElement[bool] = h.practitioner_id.in_(ids)
    if rooms:
        place = or_(place, h.room_id.in_(rooms))
    rows = conn.execute(
        select(h.id, h.practitioner_id, h.room_id, s_h, e_h).where(
            h.expires_at > now,
            h.released_at.is_(None),
            h.appointment_id.is_(None),
            h.starts_at < end,
            h.ends_at > start,
            place,
        )
    ).all()
    return [r for r in rows if r[0] != ignore_hold]


def _open_holds(conn: Connection) -> list[Any]:
    """Every hold neither released nor booked, as (id, practitioner, room, start, end,
    expires) with aware UTC times (those past their expiry included: the caller's clock
    decides)."""
    h = s.api_holds.c
    s_h, e_h = _times(conn, h.starts_at, h.ends_at, False)
    until = type_coerce(h.expires_at, String)
    rows = conn.execute(
        select(h.id, h.practitioner_id, h.room_id, s_h, e_h, until).where(
            h.released_at.is_(None), h.appointment_id.is_(None)
        )
    ).all()
    return [(r[0], r[1], r[2], _utc(r[3]), _utc(r[4]), _utc(r[5])) for r in rows]


def epoch_columns(conn: Connection, start: Any, end: Any) -> tuple[Any, Any]:
    """A stored start and end as seconds after the Unix epoch, worked out by the database."""
    return _times(conn, start, end, True)


def _times(conn: Connection, start: Any, end: Any, seconds: bool) -> tuple[Any, Any]:
    """How to read a stored time: as the driver gives it (integer microseconds on SQLite,
    converted by ``_utc`` without SQLAlchemy's per-row type processing), or
    ``seconds`` after the Unix epoch worked out by the database (to the millisecond)."""
    if not seconds:
        return type_coerce(start, String).label("s"), type_coerce(end, String).label("e")
    if conn.dialect.name == "sqlite":

        def epoch(col: Any) -> Any:
            # typed Float: a Numeric would be handed back as Decimals, slowly
            # stored as integer microseconds (db/types.py)
            return type_coerce(func.round(type_coerce(col, Integer) / 1_000_000.0, 3), Float)
    else:

        def epoch(col: Any) -> Any:
            return type_coerce(cast(func.extract("epoch", col), Float), Float)

    return epoch(start).label("s"), epoch(end).label("e")


def _utc(value: Any) -> datetime:
    """A stored UTC time (integer microseconds on SQLite, a datetime on PostgreSQL) as an aware
    UTC instant."""
    if isinstance(value, int):
        return from_sqlite_utc_value(value)
    when: datetime = value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def search(
    conn: Connection,
    want: Demand,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    weekdays: int = 0b1111111,
    earliest_minute: int = 0,
    latest_minute: int = 1440,
    limit: int = 200,
    cache: SlotCache | None = None,
    position: int | None = ASK,
) -> tuple[list[FreeSlot], dict[str, FreeSlot | None], bool]:
    """Free slots in [start, end) earliest first (at most ``limit``), each practitioner's
    first free slot, and whether slots were left out.

    Each practitioner's whole local days are worked out by the rules without the API's holds
    (and kept in ``cache`` when given: ``slot_cache``), then narrowed to the window, the
    online booking rules and the holds active now. ``position``: where ``cache`` was caught
    up to for this snapshot, when the caller already did (``SlotCache.catch_up``)."""
    if end <= start:
        raise ApiProblem(
            422, "The window ends before it starts: give 'to' after 'from'.", "bad_window"
        )
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise ApiProblem(422, f"Ask for at most {MAX_WINDOW_DAYS} days at a time.", "bad_window")
    first_free: dict[str, FreeSlot | None] = {p["id"]: None for p in want.practitioners}
    if not want.practitioners:
        return [], first_free, False
    at = position if position != ASK else cache.catch_up(conn, tz) if cache else None
    length = timedelta(minutes=want.minutes)
    variant = (want.minutes, earliest_minute, latest_minute)
    not_before = max(start, now)
    found: list[FreeSlot] = []
    days = [
        d
        for d in _days(start.astimezone(tz).date(), end.astimezone(tz).date())
        if weekdays & (1 << d.weekday())
    ]
    ids = [p["id"] for p in want.practitioners]
    if at is not None and cache is not None:
        rules = cache.rules(conn, at, ids)
    else:
        rules = roster_rules(Session(bind=conn), ids)
    rooms_of = {p["id"]: _rooms_of(p, rules[p["id"]]) for p in want.practitioners}
    # the online booking rules and the window: each practitioner's first and last start
    last_start = end - length + timedelta(microseconds=1)  # a slot must end by ``end``
    bounds: dict[str, tuple[datetime, datetime]] = {}
    for p in want.practitioners:
        r = rules_for(want, p)
        latest = r.latest(now, tz)
        bounds[p["id"]] = (
            max(not_before, r.earliest(now)),
            min(last_start, latest) if latest is not None else last_start,
        )
    held = _held_by(conn, ids, rooms_of, start, end, now, cache, at)
    # a week at a time, stopping once ``limit`` slots are found and every practitioner has a
    # first free slot: later weeks can only add later slots
    for at_day in range(0, len(days), CHUNK_DAYS):
        chunk = days[at_day : at_day + CHUNK_DAYS]
        lo = max(start, day_bounds_utc(chunk[0], tz)[0])
        wanted = [p for p in want.practitioners if bounds[p["id"]][1] > lo]
        got: dict[tuple[str, date], tuple[FreeSlot, ...]] = {}
        missing: list[dict[str, Any]] = []
        for p in wanted:
            for day in chunk:
                cached = cache.get(p["id"], day, variant) if at is not None and cache else None
                if cached is None:
                    missing.append(p)
                    break
                got[p["id"], day] = cached
        if missing:
            fresh = _work_out(conn, missing, chunk, rules, length, tz, variant, now)
            got.update(fresh[0])
            if at is not None and cache is not None:
                cache.keep(at, variant, fresh[0], {p["id"]: rooms_of[p["id"]] for p in missing},
                           fresh[1])  # fmt: skip
        for p in wanted:
            pid = p["id"]
            floor, ceiling = bounds[pid]
            holds = held.get(pid, ())
            for day in chunk:
                for slot in got[pid, day]:
                    if slot.start < floor:
                        continue
                    if slot.start >= ceiling:
                        continue
                    if holds and any(h0 < slot.end and h1 > slot.start for h0, h1 in holds):
                        continue
                    if first_free[pid] is None:
                        first_free[pid] = slot
                    found.append(slot)
        if len(found) > limit and all(v is not None for v in first_free.values()):
            break
    found.sort(key=lambda sl: (sl.start, sl.practitioner_id))
    return found[:limit], first_free, len(found) > limit


def _rooms_of(practitioner: dict[str, Any], rules: Sequence[Any]) -> frozenset[str]:
    """The rooms a practitioner works in: their roster lines' and their default room."""
    mine = {r.room_id for r in rules if r.room_id}
    if practitioner.get("default_room_id"):
        mine.add(practitioner["default_room_id"])
    return frozenset(mine)


def _held_by(
    conn: Connection,
    ids: Sequence[str],
    rooms_of: dict[str, frozenset[str]],
    start: datetime,
    end: datetime,
    now: datetime,
    cache: SlotCache | None = None,
    at: int | None = None,
) -> dict[str, list[tuple[datetime, datetime]]]:
    """The holds active now over [start, end) that close a time to each practitioner: their
    own, and others' in the rooms they use. With ``cache``, the holds open at position ``at``
    are read once for every call at that position (``SlotCache.open_holds``)."""
    rooms = set().union(*rooms_of.values())
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    if cache is not None and at is not None:
        spans = [
            (pid, room, h0, h1)
            for _ref, pid, room, h0, h1, until in cache.open_holds(at, lambda: _open_holds(conn))
            if until > now and h0 < end and h1 > start and (pid in ids or room in rooms)
        ]
    else:
        spans = [
            (pid, room, _utc(h0), _utc(h1))
            for _ref, pid, room, h0, h1 in _holds(conn, ids, rooms, start, end, now, None, False)
        ]
    for pid, room, h0, h1 in spans:
        span = (h0, h1)
        for other, mine in rooms_of.items():
            if other == pid or (room is not None and room in mine):
                out.setdefault(other, []).append(span)
    return out


def _work_out(
    conn: Connection,
    practitioners: Sequence[dict[str, Any]],
    chunk: Sequence[date],
    rules: dict[str, list[Any]],
    length: timedelta,
    tz: ZoneInfo,
    variant: tuple[int, int, int],
    now: datetime,
) -> tuple[dict[tuple[str, date], tuple[FreeSlot, ...]], list[Any]]:
    """Each practitioner's free slots on each day of ``chunk`` by the rules, without holds or
    the call's own limits, and the bookings read (for the cache)."""
    seen: list[Any] = []
    lo, hi = day_bounds_utc(chunk[0], tz)[0], day_bounds_utc(chunk[-1], tz)[1]
    diary = load_diary(
        conn, practitioners, lo, hi, now, rules=rules, seconds=True, holds=False, seen=seen
    )
    out: dict[tuple[str, date], tuple[FreeSlot, ...]] = {}
    for p in practitioners:
        pid = p["id"]
        by_day: dict[date, list[FreeSlot]] = {day: [] for day in chunk}
        for slot in free_slots_window(
            pid,
            chunk,
            diary.rules[pid],
            diary.leave[pid],
            [*diary.busy[pid], *diary.room_busy[pid]],
            length,
            tz,
            slot=SLOT_MINUTES,
            earliest_minute=variant[1],
            latest_minute=variant[2],
        ):
            by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
        for day, slots in by_day.items():
            out[pid, day] = tuple(slots)
    return out, seen


def room_for(diary: Diary, practitioner: dict[str, Any], start: datetime, tz: ZoneInfo) -> Any:
    """The room a booking at ``start`` goes in: the roster line's, else the default room."""
    day = start.astimezone(tz).date()
    for rule in diary.rules[practitioner["id"]]:
        if rule.kind != "break" and rule.room_id and rule.applies_on(day):
            avail = availability_on([rule], [], day, tz)
            if any(b.start <= start < b.end for b in avail.work):
                return rule.room_id
    return practitioner.get("default_room_id")


def check_time(
    conn: Connection,
    practitioner: dict[str, Any],
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    ignore_hold: str | None = None,
    ignore_appointment: str | None = None,
) -> tuple[list[Problem], str | None]:
    """Why [start, end) cannot be given (empty when it can), and the room it would use."""
    if start < now:
        return [
            Problem(ProblemKind.PAST, "That time has already passed: choose a later time.")
        ], None
    day = start.astimezone(tz).date()
    lo, hi = day_bounds_utc(day, tz)
    diary = load_diary(
        conn,
        [practitioner],
        lo,
        hi,
        now,
        ignore_hold=ignore_hold,
        ignore_appointment=ignore_appointment,
    )
    pid = practitioner["id"]
    avail = availability_on(diary.rules[pid], diary.leave[pid], day, tz)
    problems = roster_problems(start, end, avail, tz)
    room = room_for(diary, practitioner, start, tz)
    problems += clashes(start, end, pid, room, [*diary.busy[pid], *diary.room_busy[pid]], tz=tz)
    return problems, room
