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
from operator import attrgetter
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
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
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
    free_slots_by_day,
    roster_problems,
)
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.server import schema as s
from frontdesk.server.api.clinic import one
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.changelog import TABLES
from frontdesk.services.diary.view import roster_rules

MAX_WINDOW_DAYS = 90
SLOT_MINUTES = 15
CHUNK_DAYS = 31
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
    busy: dict[str, list[Block]] = field(default_factory=dict)
    room_busy: dict[str, list[Block]] = field(default_factory=dict)
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
    fact = fact or afresh
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


def afresh(_name: Hashable, make: Callable[[], Any]) -> Any:
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
) -> Diary:
    """Rules, leave, and what is busy for each practitioner over [start, end) as Blocks: their
    own bookings and the API's holds (``busy``) and, in their rooms, other practitioners'
    bookings and room closures (``room_busy``). ``rules``: the roster lines when the caller
    has them (``SlotCache.rules``), else read.

    Leave, bookings, holds and closures come in one statement (``_diary_rows``): a hold or
    booking's check is one round trip to a PostgreSQL server for all of them, not five."""
    ids = [p["id"] for p in practitioners]
    if rules is None:
        rules = roster_rules(Session(bind=conn), ids)
    diary = Diary(rules, {pid: [] for pid in ids})
    for p in practitioners:
        diary.rooms_of[p["id"]] = set(_rooms_of(p, rules[p["id"]]))
        diary.busy[p["id"]] = []
        diary.room_busy[p["id"]] = []
    rooms = set().union(*diary.rooms_of.values())
    users = _room_users(diary.rooms_of)
    home = {p["id"]: p.get("default_location_id") for p in practitioners}
    for tag, ref, pid, place, b0, b1, label in _diary_rows(conn, ids, rooms, start, end, now):
        if tag == LEAVE:  # ``leave_blocks``: the practitioner's, the clinic's, their location's
            for who in [pid] if pid is not None else ids:
                if pid is not None or place is None or home[who] == place:
                    diary.leave[who].append(Block(_utc(b0), _utc(b1), who, None, ref, label))
            continue
        if ref == (ignore_hold if tag == HOLD else ignore_appointment):
            continue
        room = place
        item = Block(_utc(b0), _utc(b1), pid, room, ref, label)
        if pid in diary.busy:
            diary.busy[pid].append(item)
        for other in users.get(room, ()) if room is not None else ():
            if other != pid:
                diary.room_busy[other].append(item)
    return diary


def _diary_rows(
    conn: Connection,
    ids: Sequence[str],
    rooms: set[str],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Any]:
    """``load_diary``'s rows as (tag, id, practitioner, room or location, start, end, label):
    the practitioners' bookings and other practitioners' in their rooms, the API's active
    holds of them or in their rooms, the rooms' closures, and leave (the practitioners', the
    clinic's closures and their locations', the location in the room's column)."""
    a, lv, h = TABLES["appointments"], TABLES["leave"], s.api_holds.c

    def text(value: str) -> Any:
        return type_coerce(literal_column(f"'{value}'"), String)

    def tagged(query: Any, tag: int, label: Any = "", kind: Any = "") -> Any:
        return query.add_columns(
            literal_column(str(tag), Integer).label("tag"),
            (text(label) if isinstance(label, str) else label).label("label"),
            (text(kind) if isinstance(kind, str) else kind).label("kind"),
        )

    parts = [
        tagged(q, BOOKING)
        for q in _bookings(a, ids, rooms, start, end, *_times(conn, a.c.starts_at, a.c.ends_at))
    ]
    s_h, e_h = _times(conn, h.starts_at, h.ends_at)
    held: ColumnElement[bool] = h.practitioner_id.in_(ids)
    if rooms:
        held = or_(held, h.room_id.in_(rooms))
    parts.append(tagged(
        select(h.id, h.practitioner_id, h.room_id, s_h, e_h).where(
            h.expires_at > now, h.released_at.is_(None), h.appointment_id.is_(None),
            h.starts_at < end, h.ends_at > start, held,
        ),
        HOLD,
        "held",
    ))  # fmt: skip
    if rooms:
        parts.append(
            tagged(
                _room_closures(conn, rooms, start, end),
                CLOSURE,
                "room closed",
            )
        )
    parts.append(tagged(
        _leave(conn, ids, start, end),
        LEAVE,
        type_coerce(lv.c.reason, String),
        type_coerce(lv.c.kind, String),
    ))  # fmt: skip
    rows = conn.execute(union_all(*parts)).all()
    # a leave's label as ``leave_blocks`` gives it: its reason, else its kind capitalised
    return [
        (tag, ref, pid, place, b0, b1, label or (kind or "").capitalize())
        for ref, pid, place, b0, b1, tag, label, kind in rows
    ]


def _room_users(rooms_of: dict[str, Any]) -> dict[str, list[str]]:
    """Each room and the practitioners (of ``rooms_of``) working in it: a booking, hold or
    closure there closes the time to all of them (to its own practitioner in any case)."""
    out: dict[str, list[str]] = {}
    for pid, mine in rooms_of.items():
        for room in mine:
            out.setdefault(room, []).append(pid)
    return out


def _bookings(
    a: Any, ids: Sequence[str], rooms: set[str], start: datetime, end: datetime, s_a: Any, e_a: Any
) -> list[Any]:
    """The selects of the bookings that close times to these practitioners over [start, end),
    as (id, practitioner, room, start, end): their own, then other practitioners' in their
    rooms — two index range scans (one OR of both reads every booking twice and is five times
    slower)."""
    live = (
        a.c.status != AppointmentStatus.CANCELLED,
        a.c.deleted_at.is_(None),
        a.c.starts_at < end,
        # a lower bound on the start (a booking is at most 12 hours) keeps the
        # (practitioner, start) and (room, start) indexes range scans instead of all history
        a.c.starts_at > start - timedelta(hours=12),
        a.c.ends_at > start,
    )
    places: list[ColumnElement[bool]] = [a.c.practitioner_id.in_(ids)]
    if rooms:
        places.append(and_(a.c.room_id.in_(rooms), a.c.practitioner_id.not_in(ids)))
    return [select(a.c.id, a.c.practitioner_id, a.c.room_id, s_a, e_a).where(*live, place)
            for place in places]  # fmt: skip


def _room_closures(
    conn: Connection, rooms: set[str], start: datetime, end: datetime, seconds: bool = False
) -> Any:
    """The rooms' own closures over [start, end), as (id, practitioner, room, start, end)."""
    lv = TABLES["leave"]
    s_l, e_l = _times(conn, lv.c.starts_at, lv.c.ends_at, seconds)
    return select(lv.c.id, lv.c.practitioner_id, lv.c.room_id, s_l, e_l).where(
        and_(lv.c.practitioner_id.is_(None), lv.c.room_id.in_(rooms)),
        lv.c.deleted_at.is_(None),
        lv.c.starts_at < end,
        lv.c.ends_at > start,
    )


def _leave(
    conn: Connection, ids: Sequence[str], start: datetime, end: datetime, seconds: bool = False
) -> Any:
    """The leave over [start, end) that ``leave_blocks`` reads, as (id, practitioner, location,
    start, end): the practitioners' own, the whole clinic's closures and locations' closures
    (the location in the room's column; a room's own closure is ``_room_closures``')."""
    lv = TABLES["leave"]
    s_l, e_l = _times(conn, lv.c.starts_at, lv.c.ends_at, seconds)
    return select(lv.c.id, lv.c.practitioner_id, lv.c.location_id, s_l, e_l).where(
        or_(
            lv.c.practitioner_id.in_(ids),
            and_(lv.c.practitioner_id.is_(None), lv.c.room_id.is_(None)),
        ),
        lv.c.deleted_at.is_(None),
        lv.c.starts_at < end,
        lv.c.ends_at > start,
    )


BOOKING, CLOSURE, LEAVE, HOLD = 0, 1, 2, 3


def closed_seconds(
    conn: Connection,
    practitioners: Sequence[dict[str, Any]],
    rooms_of: dict[str, frozenset[str]],
    start: datetime,
    end: datetime,
    seen: list[Any] | None = None,
) -> dict[str, list[tuple[float, float]]]:
    """What closes times to each practitioner over [start, end), without the API's holds, as
    (start, end) seconds after the Unix epoch worked out by the database: their bookings and
    leave, the clinic's closures (and their location's), and in their rooms other
    practitioners' bookings and the rooms' closures — ``load_diary``'s reads as one statement
    (one round trip to a PostgreSQL server, not four), each row a plain tuple of the driver's.
    ``seen`` collects the bookings read, as (id, practitioner, room, start, end) (the slot
    cache's record of where each booking was)."""
    ids = [p["id"] for p in practitioners]
    rooms = set().union(*rooms_of.values())
    a = TABLES["appointments"]

    def tagged(query: Any, tag: int) -> Any:
        return query.add_columns(literal_column(str(tag), Integer))

    s_a, e_a = _times(conn, a.c.starts_at, a.c.ends_at, True)
    parts = [tagged(q, BOOKING) for q in _bookings(a, ids, rooms, start, end, s_a, e_a)]
    if rooms:
        parts.append(tagged(_room_closures(conn, rooms, start, end, True), CLOSURE))
    # leave (``leave_blocks``' rows): the practitioners' own, the whole clinic's closures and
    # their locations' (the location in the room's column)
    parts.append(tagged(_leave(conn, ids, start, end, True), LEAVE))
    result = conn.execute(union_all(*parts))
    # plain strings and floats: the driver's tuples as they are (no row objects)
    rows = result.cursor.fetchall() if result.cursor else result.all()
    result.close()
    out: dict[str, list[tuple[float, float]]] = {pid: [] for pid in ids}
    home = {p["id"]: p.get("default_location_id") for p in practitioners}
    users = _room_users(rooms_of)
    nobody: list[str] = []
    for ref, pid, place, b0, b1, tag in rows:
        span = (b0, b1)
        if tag == LEAVE:
            if pid is not None:
                out[pid].append(span)
            else:
                for who in ids:
                    if place is None or home[who] == place:
                        out[who].append(span)
            continue
        if tag == BOOKING and seen is not None:
            seen.append((ref, pid, place, b0, b1))
        if pid in out:
            out[pid].append(span)
        for other in users.get(place, nobody) if place is not None else nobody:
            if other != pid:
                out[other].append(span)
    return out


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


def _times(conn: Connection, start: Any, end: Any, seconds: bool = False) -> tuple[Any, Any]:
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
    # a month at a time (a 28-day window from mid-morning touches 29 days), stopping once
    # ``limit`` slots are found and every practitioner has a first free slot: later days can
    # only add later slots
    for at_day in range(0, len(days), CHUNK_DAYS):
        chunk = days[at_day : at_day + CHUNK_DAYS]
        lo = max(start, day_bounds_utc(chunk[0], tz)[0])
        wanted = [p for p in want.practitioners if bounds[p["id"]][1] > lo]
        got: dict[tuple[str, date], tuple[FreeSlot, ...]] = {}
        missing: list[dict[str, Any]] = []
        gaps: set[date] = set()  # the days some practitioner has not in the cache
        for p in wanted:
            lacks = False
            for day in chunk:
                cached = cache.get(p["id"], day, variant) if at is not None and cache else None
                if cached is None:
                    lacks = True
                    gaps.add(day)
                else:
                    got[p["id"], day] = cached
            if lacks:
                missing.append(p)
        if missing:
            # from the first day missing to the last (just after a booking: its days only)
            span = [d for d in chunk if min(gaps) <= d <= max(gaps)]
            mine = {p["id"]: rooms_of[p["id"]] for p in missing}
            fresh = _work_out(conn, missing, span, rules, mine, length, tz, variant)
            got.update(fresh[0])
            if at is not None and cache is not None:
                cache.keep(at, variant, fresh[0], mine, fresh[1])
        # day by day: every slot of a later local day starts after every slot of an earlier
        # one, so once the days so far hold more than ``limit`` slots and everyone has a first
        # free slot, the rest of the window changes nothing (a fortnight of a type many
        # practitioners offer is usually settled on its first day)
        for day in chunk:
            for p in wanted:
                pid = p["id"]
                floor, ceiling = bounds[pid]
                holds = held.get(pid, ())
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
                found.sort(key=_EARLIEST_FIRST)
                return found[:limit], first_free, True
    found.sort(key=_EARLIEST_FIRST)
    return found[:limit], first_free, len(found) > limit


_EARLIEST_FIRST = attrgetter("start", "practitioner_id")


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
    days: Sequence[date],
    rules: dict[str, list[Any]],
    rooms_of: dict[str, frozenset[str]],
    length: timedelta,
    tz: ZoneInfo,
    variant: tuple[int, int, int],
) -> tuple[dict[tuple[str, date], tuple[FreeSlot, ...]], list[Any]]:
    """Each practitioner's free slots on each of ``days`` by the rules, without holds or the
    call's own limits, and the bookings read (for the cache)."""
    seen: list[Any] = []
    lo, hi = day_bounds_utc(days[0], tz)[0], day_bounds_utc(days[-1], tz)[1]
    closed = closed_seconds(conn, practitioners, rooms_of, lo, hi, seen)
    out: dict[tuple[str, date], tuple[FreeSlot, ...]] = {}
    none: tuple[FreeSlot, ...] = ()
    for p in practitioners:
        pid = p["id"]
        by_day = free_slots_by_day(
            pid, days, rules[pid], closed[pid], length, tz, slot=SLOT_MINUTES,
            earliest_minute=variant[1], latest_minute=variant[2],
        )  # fmt: skip
        for day in days:
            slots = by_day.get(day)
            out[pid, day] = tuple(slots) if slots else none
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
    rules: dict[str, list[Any]] | None = None,
) -> tuple[list[Problem], str | None]:
    """Why [start, end) cannot be given (empty when it can), and the room it would use
    (``rules``: the practitioner's roster lines when the caller has them)."""
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
        rules=rules,
    )
    pid = practitioner["id"]
    avail = availability_on(diary.rules[pid], diary.leave[pid], day, tz)
    problems = roster_problems(start, end, avail, tz)
    room = room_for(diary, practitioner, start, tz)
    problems += clashes(start, end, pid, room, [*diary.busy[pid], *diary.room_busy[pid]], tz=tz)
    return problems, room
