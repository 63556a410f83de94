"""The availability search (``server/api/availability.search``: one read of what closes times,
the window's one pass in local minutes, holds and the online booking rules applied after)
gives exactly what brute force gives: every 15-minute start of every roster line, each of its
5-minute steps checked against the breaks and against every booking, hold, leave and closure
as instants — for random rosters (fortnightly lines, dates they start and end), breaks, leave,
clinic and location closures, a shared room (other practitioners' bookings, its closures),
bookings (cancelled and deleted ones too), holds (active, lapsed, released, booked), online
booking rules (notice, reach), windows, weekdays, hours and lengths; on a real SQLite server
and on PostgreSQL. Days with a daylight-saving change are left to
``tests/domain/test_free_slots_window.py`` (which holds the window's pass to the desks' own
day-by-day rules there)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from frontdesk.domain.diary import RosterRule, local_instant
from frontdesk.server import schema as s
from frontdesk.server.api import availability as av
from frontdesk.server.changelog import TABLES
from frontdesk.server.store import ServerStore

TZ = ZoneInfo("Australia/Sydney")
# away from Sydney's changes (5 Apr and 4 Oct 2026): winter and summer
FIRST_DAYS = (date(2026, 6, 8), date(2026, 11, 16))
PRACS = ("p1", "p2", "p3")  # p3 is never asked about: its bookings matter only in the room
ROOM, LOCATION, OTHER_LOCATION = "room-gym", "loc-main", "loc-other"
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerStore]:
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("reference") / "server.sqlite3")
    else:
        url = str(request.getfixturevalue("pg_cluster").new_database())
    store = ServerStore(url)
    store.init(backup=False)
    with store.writing() as conn:
        for lid in (LOCATION, OTHER_LOCATION):
            conn.execute(insert(TABLES["locations"]).values(id=lid, name=lid, **_made()))
        conn.execute(
            insert(TABLES["rooms"]).values(id=ROOM, location_id=LOCATION, name="Gym", **_made())
        )
    yield store
    store.dispose()


def _made() -> dict[str, Any]:
    return {"created_at": STAMP, "updated_at": STAMP}


# -- the world, drawn ---------------------------------------------------------------------------
five = st.integers(0, 287).map(lambda n: n * 5)  # a minute of the day, on a 5-minute step


@st.composite
def roster(draw: st.DrawFn, pid: str, first: date) -> list[dict[str, Any]]:
    """Work lines that never overlap on a weekday (one or two, any fortnight pattern), and
    breaks anywhere."""
    lines = []
    for weekday in range(7):
        if draw(st.integers(0, 5)) == 0:
            continue
        a = 5 * draw(st.integers(0, 200))  # from midnight to 16:40
        cuts = [a, min(1440, a + 5 * draw(st.integers(6, 120)))]
        if draw(st.booleans()):  # a second line later in the day
            c = cuts[1] + 5 * draw(st.integers(0, 24))
            cuts += [c, min(1440, c + 5 * draw(st.integers(1, 60)))] if c < 1200 else []
        for a, b in zip(cuts[0::2], cuts[1::2], strict=False):
            every = draw(st.sampled_from([1, 1, 2]))
            lines.append({
                "practitioner_id": pid, "weekday": weekday, "start_minute": a, "end_minute": b,
                "kind": "work", "every_weeks": every,
                "week_offset": draw(st.integers(0, every - 1)),
                "effective_from": first - timedelta(days=draw(st.sampled_from([400, 3]))),
                "effective_until": draw(st.sampled_from([None, None, first + timedelta(days=4)])),
                "room_id": draw(st.sampled_from([None, None, ROOM])),
            })  # fmt: skip
    for _ in range(draw(st.integers(0, 4))):
        a = draw(five)
        lines.append({
            "practitioner_id": pid, "weekday": draw(st.integers(0, 6)), "start_minute": a,
            "end_minute": min(1440, a + draw(st.sampled_from([15, 30, 60, 95]))), "kind": "break",
            "every_weeks": 1, "week_offset": 0, "effective_from": first - timedelta(days=400),
            "effective_until": None, "room_id": None,
        })  # fmt: skip
    return lines


def span(draw: st.DrawFn, first: date, most: int = 180) -> tuple[datetime, datetime]:
    """A stretch on 5-minute steps within the fortnight from ``first`` (local midnight)."""
    base = local_instant(first, 0, TZ)
    start = base + timedelta(minutes=5 * draw(st.integers(-100, 14 * 288)))
    return start, start + timedelta(minutes=5 * draw(st.integers(1, most // 5)))


@st.composite
def world(draw: st.DrawFn) -> dict[str, Any]:
    first = draw(st.sampled_from(FIRST_DAYS))
    w: dict[str, Any] = {"first": first, "rosters": [], "leave": [], "bookings": [], "holds": []}
    for pid in PRACS[:2]:
        w["rosters"] += draw(roster(pid, first))
    w["homes"] = {
        "p1": {"default_room_id": ROOM, "default_location_id": LOCATION},
        "p2": {"default_room_id": draw(st.sampled_from([None, ROOM])),
               "default_location_id": draw(st.sampled_from([LOCATION, OTHER_LOCATION]))},
        "p3": {"default_room_id": ROOM, "default_location_id": LOCATION},
    }  # fmt: skip
    for _ in range(draw(st.integers(0, 4))):
        # a practitioner's leave, the clinic's closure, a location's, the room's
        who = draw(st.sampled_from(["p1", "p2", "p1", "p2", "clinic", "location", "room"]))
        a, b = span(draw, first, 60 * 30)
        w["leave"].append({
            "practitioner_id": who if who.startswith("p") else None,
            "location_id": LOCATION if who == "location" else None,
            "room_id": ROOM if who == "room" else None,
            "starts_at": a, "ends_at": b,
        })  # fmt: skip
    for _ in range(draw(st.integers(0, 30))):
        a, b = span(draw, first)
        w["bookings"].append({
            "practitioner_id": draw(st.sampled_from(PRACS)),
            "room_id": draw(st.sampled_from([None, ROOM])),
            "status": draw(st.sampled_from(["booked", "booked", "arrived", "cancelled"])),
            "deleted_at": draw(st.sampled_from([None, None, None, STAMP])),
            "starts_at": a, "ends_at": b,
        })  # fmt: skip
    now = local_instant(first, 0, TZ) + timedelta(minutes=draw(st.integers(0, 4 * 1440)))
    w["now"] = now
    for _ in range(draw(st.integers(0, 4))):
        a, b = span(draw, first, 60)
        state = draw(st.sampled_from(["active", "active", "lapsed", "released", "booked"]))
        w["holds"].append({
            "practitioner_id": draw(st.sampled_from(PRACS)),
            "room_id": draw(st.sampled_from([None, ROOM])),
            "starts_at": a, "ends_at": b,
            "expires_at": now + timedelta(minutes=-3 if state == "lapsed" else 5),
            "released_at": now if state == "released" else None,
            "appointment_id": "booked" if state == "booked" else None,
        })  # fmt: skip
    notice = st.sampled_from([None, None, 0, 90, 60 * 5])
    ahead = st.sampled_from([None, None, None, 2, 9])
    w["type"] = {"online_min_notice_minutes": draw(notice), "online_max_ahead_days": draw(ahead)}
    w["rules"] = {
        pid: {"online_min_notice_minutes": draw(notice), "online_max_ahead_days": draw(ahead)}
        for pid in PRACS
    }
    w["asked"] = draw(st.sampled_from([["p1", "p2"], ["p1"], ["p2"]]))
    w["start"] = now + timedelta(minutes=draw(st.integers(-600, 3 * 1440)))
    w["end"] = w["start"] + timedelta(
        days=draw(st.integers(1, 8)), minutes=draw(st.integers(-600, 600))
    )
    w["minutes"] = draw(st.sampled_from([15, 30, 45, 60, 20]))
    w["weekdays"] = draw(st.sampled_from([0b1111111, 0b0010101]))
    w["earliest"] = draw(st.sampled_from([0, 0, 9 * 60 + 10]))
    w["latest"] = draw(st.sampled_from([1440, 1440, 12 * 60 + 30]))
    return w


def _lay(store: ServerStore, w: dict[str, Any]) -> None:
    """The drawn world as the server's rows (the previous example's gone)."""
    with store.writing() as conn:
        for name in ("appointments", "leave", "roster_entries", "practitioners"):
            conn.execute(delete(TABLES[name]))
        conn.execute(delete(s.api_holds))
        for pid in PRACS:
            conn.execute(insert(TABLES["practitioners"]).values(
                id=pid, first_name=pid, last_name=pid, display_name=pid, profession="physio",
                **w["homes"][pid], **w["rules"][pid], **_made(),
            ))  # fmt: skip
        rows = [("roster_entries", r) for r in w["rosters"]]
        rows += [("leave", r) for r in w["leave"]]
        rows += [("appointments", r) for r in w["bookings"]]
        for name, row in rows:
            conn.execute(insert(TABLES[name]).values(id=str(uuid.uuid4()), **row, **_made()))
        for row in w["holds"]:
            conn.execute(insert(s.api_holds).values(id=str(uuid.uuid4()), key_id="k", **row))


# -- brute force ------------------------------------------------------------------------------
def _reference(w: dict[str, Any], want: av.Demand) -> list[tuple[str, datetime, datetime]]:
    out = []
    now, length = w["now"], timedelta(minutes=w["minutes"])
    homes = w["homes"]
    for p in want.practitioners:
        pid = p["id"]
        lines = [RosterRule(**r, label="") for r in w["rosters"] if r["practitioner_id"] == pid]
        rooms = {r.room_id for r in lines if r.room_id} | {homes[pid]["default_room_id"]} - {None}
        closed = [
            (b["starts_at"], b["ends_at"])
            for b in w["bookings"]
            if b["status"] != "cancelled" and b["deleted_at"] is None
            and (b["practitioner_id"] == pid or b["room_id"] in rooms)
        ]  # fmt: skip
        for lv in w["leave"]:
            if (
                lv["practitioner_id"] == pid
                or (lv["room_id"] is not None and lv["room_id"] in rooms)
                or (lv["practitioner_id"] is None and lv["room_id"] is None
                    and lv["location_id"] in (None, homes[pid]["default_location_id"]))
            ):  # fmt: skip
                closed.append((lv["starts_at"], lv["ends_at"]))
        for h in w["holds"]:
            active = h["expires_at"] > now and h["released_at"] is None
            if (
                active
                and h["appointment_id"] is None
                and (h["practitioner_id"] == pid or h["room_id"] in rooms)
            ):
                closed.append((h["starts_at"], h["ends_at"]))
        rules = av.rules_for(want, p)
        floor = max(w["start"], now, rules.earliest(now))
        latest = rules.latest(now, TZ)
        day = w["start"].astimezone(TZ).date()
        while day <= w["end"].astimezone(TZ).date():
            today = [r for r in lines if r.weekday == day.weekday() and r.applies_on(day)]
            breaks = [r for r in today if r.kind == "break"]
            if w["weekdays"] & (1 << day.weekday()):
                for line in (r for r in today if r.kind == "work"):
                    for m in range(0, 1440, 15):
                        if not (line.start_minute <= m and m + w["minutes"] <= line.end_minute):
                            continue
                        if not (w["earliest"] <= m < w["latest"]):
                            continue
                        start = local_instant(day, m, TZ)
                        if start < floor or start + length > w["end"]:
                            continue
                        if latest is not None and start >= latest:
                            continue
                        if all(
                            _step_free(day, c, breaks, closed)
                            for c in range(m, m + w["minutes"], 5)
                        ):
                            out.append((pid, start, start + length))
            day += timedelta(days=1)
    return sorted(out, key=lambda x: (x[1], x[0]))


def _step_free(day: date, minute: int, breaks: list[RosterRule], closed: list[Any]) -> bool:
    """Whether the 5 minutes from ``minute`` on ``day`` are outside every break and closed
    stretch."""
    if any(b.start_minute < minute + 5 and minute < b.end_minute for b in breaks):
        return False
    a, b = local_instant(day, minute, TZ), local_instant(day, minute + 5, TZ)
    return not any(c0 < b and a < c1 for c0, c1 in closed)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(w=world())
def test_the_search_equals_brute_force(store: ServerStore, w: dict[str, Any]) -> None:
    _lay(store, w)
    with store.reading() as conn:
        pracs = [p for p in av._practitioners(conn) if p["id"] in w["asked"]]
        want = av.Demand(w["type"], w["minutes"], pracs)
        slots, first, _more = av.search(
            conn, want, w["start"], w["end"], w["now"], TZ, weekdays=w["weekdays"],
            earliest_minute=w["earliest"], latest_minute=w["latest"], limit=100_000,
        )  # fmt: skip
        # a small limit (the search stops after the day that fills it): the same first slots,
        # each practitioner's same first free time, and "more" exactly when more exist
        limit = 1 + (w["start"].day + w["minutes"] + len(w["asked"])) % 9
        few, few_first, more = av.search(
            conn, want, w["start"], w["end"], w["now"], TZ, weekdays=w["weekdays"],
            earliest_minute=w["earliest"], latest_minute=w["latest"], limit=limit,
        )  # fmt: skip
    expected = _reference(w, want)
    assert [(x.practitioner_id, x.start, x.end) for x in slots] == expected
    assert [(x.practitioner_id, x.start, x.end) for x in few] == expected[:limit]
    assert more == (len(expected) > limit)
    for pid in w["asked"]:
        mine = [x for x in expected if x[0] == pid]
        for firsts in (first, few_first):
            got = firsts[pid]
            assert (got.practitioner_id, got.start, got.end) == mine[0] if got else not mine
