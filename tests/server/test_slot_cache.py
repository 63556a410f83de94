"""The availability cache (``server/api/slot_cache.py``) always answers what a fresh
computation answers: after random bookings, moves and cancellations made on a desk (synced)
and through the API, holds taken, booked, released and lapsing, a shared room, leave and a
roster change — on SQLite and PostgreSQL. After each change, random questions (window,
weekdays, hours, length, practitioners, limit) are put both to a search through the cache and
to one without it, and through HTTP (the server's own cache) against the fresh answer."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from frontdesk.models import Appointment, Leave, Practitioner, Room, RosterEntry
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.changelog import TABLES
from tests.server.api_world import API, auth, build, key
from tests.sync.clinic import Clinic

WEEK = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the fixtures' clocks start before this


def _share_a_room(world: Any) -> str:
    with world.desk.ctx.write("a shared room") as s:
        room = Room(location_id=world.location_id, name="Gym")
        s.add(room)
        s.flush()
        for pid in world.practitioners:
            p = s.get(Practitioner, pid)
            assert p is not None
            p.default_room_id = room.id
        room_id = room.id
    assert world.desk.sync()
    return room_id


def _ask(clinic: Clinic, rng: random.Random, world: Any, cache: SlotCache) -> None:
    store = clinic.store
    now = store.now()
    with store.reading() as conn:
        tz = clinic_zone(conn)
        t = TABLES["appointment_types"]
        type_row = dict(conn.execute(select(t).where(t.c.id == world.type_id)).mappings().one())
        want = av.demand(conn, type_id=world.type_id, profession=None)
        minutes = rng.choice([30, 30, 45])
        pracs = rng.choice([want.practitioners, want.practitioners[:1], want.practitioners[1:]])
        demand = av.Demand(type_row, minutes, pracs)
        start = now + timedelta(hours=rng.randint(-12, 24 * 4), minutes=rng.choice([0, 7, 15]))
        end = start + timedelta(days=rng.randint(1, 10), minutes=rng.choice([0, 20]))
        kw: dict[str, Any] = {
            "weekdays": rng.choice([0b1111111, 0b0010101]),
            "earliest_minute": rng.choice([0, 0, 9 * 60 + 10]),
            "latest_minute": rng.choice([1440, 1440, 12 * 60 + 30]),
            "limit": rng.choice([3, 40, 10_000]),
        }
        fresh = av.search(conn, demand, start, end, now, tz, **kw)
        cached = av.search(conn, demand, start, end, now, tz, cache=cache, **kw)
    assert cached == fresh, (start, end, kw)
    # and through HTTP, with the server's own cache
    r = clinic.client.get(
        f"{API}/availability",
        params={"appointment_type_id": world.type_id, "from": start.isoformat(),
                "to": end.isoformat(), "limit": 500},
        headers=auth(world.token),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    with store.reading() as conn:
        want = av.demand(conn, type_id=world.type_id, profession=None)
        slots, _f, _m = av.search(conn, want, start, end, now, tz, limit=500)
    got = [(x["practitioner_id"], datetime.fromisoformat(x["start"])) for x in r.json()["slots"]]
    assert got == [(sl.practitioner_id, sl.start) for sl in slots]


def _free(clinic: Clinic, world: Any, rng: random.Random) -> dict[str, Any] | None:
    r = clinic.client.get(
        f"{API}/availability",
        params={"appointment_type_id": world.type_id, "limit": 200},
        headers=auth(world.token),
    )
    slots = r.json()["slots"]
    return rng.choice(slots) if slots else None


def _change(clinic: Clinic, world: Any, rng: random.Random, room: str, mine: list[str]) -> str:
    desk = world.desk
    now = clinic.store.now()
    when = (now + timedelta(hours=rng.randint(1, 24 * 6))).replace(second=0, microsecond=0)
    when = when.replace(minute=rng.choice([0, 10, 15, 30, 45]))
    pid = rng.choice(world.practitioners)
    roll = rng.random()
    if roll < 0.2:
        with desk.ctx.write("book") as s:
            a = Appointment(
                practitioner_id=pid,
                patient_id=world.patient_id,
                room_id=room if rng.random() < 0.5 else None,
                starts_at=when,
                ends_at=when + timedelta(minutes=rng.choice([15, 30, 50, 90])),
            )
            s.add(a)
            s.flush()
            mine.append(a.id)
        done = "desk booked"
    elif roll < 0.3 and mine:
        desk.move(rng.choice(mine), when)
        done = "desk moved"
    elif roll < 0.34 and world.booked:
        moved = rng.choice(world.booked)
        slot = _free(clinic, world, rng)
        if slot is None:
            return "nothing free"
        r = clinic.client.post(
            f"{API}/appointments/{moved}/move", json={"start": slot["start"],
            "practitioner_id": slot["practitioner_id"]}, headers=auth(world.token),
        )  # fmt: skip
        assert r.status_code in (200, 409, 422), r.text
        done = "api moved"
    elif roll < 0.4 and mine:
        desk.cancel(mine.pop(rng.randrange(len(mine))))
        done = "desk cancelled"
    elif roll < 0.42:
        with desk.ctx.write("leave") as s:
            s.add(Leave(practitioner_id=pid, starts_at=when, ends_at=when + timedelta(hours=3)))
        done = "leave"
    elif roll < 0.45:
        with desk.ctx.write("roster") as s:
            s.add(
                RosterEntry(
                    practitioner_id=pid,
                    weekday=when.weekday(),
                    start_minute=600,
                    end_minute=660,
                    kind="break",
                    effective_from=date(2026, 1, 5),
                )
            )
        done = "roster"
    elif roll < 0.5:
        clinic.server_clock.advance(timedelta(minutes=rng.choice([2, 6])))
        done = "time passed"
    else:
        slot = _free(clinic, world, rng)
        if slot is None:
            return "nothing free"
        body = {"practitioner_id": slot["practitioner_id"], "appointment_type_id": world.type_id,
                "start": slot["start"]}  # fmt: skip
        head = auth(world.token, **{"Idempotency-Key": str(uuid.uuid4())})
        if roll < 0.7:
            r = clinic.client.post(f"{API}/holds", json={**body, "minutes": 5}, headers=head)
            assert r.status_code == 201, r.text
            world.holds.append(r.json()["id"])
            done = "held"
        elif roll < 0.8 and world.holds:
            hold = world.holds.pop()
            r = clinic.client.post(
                f"{API}/appointments",
                json={"patient_id": world.patient_id, "hold_id": hold},
                headers=head,
            )
            assert r.status_code in (201, 410), r.text
            done = "hold booked"
        elif roll < 0.85 and world.holds:
            r = clinic.client.delete(f"{API}/holds/{world.holds.pop()}", headers=head)
            assert r.status_code in (204, 410), r.text
            done = "hold released"
        elif roll < 0.93 and world.booked:
            r = clinic.client.post(
                f"{API}/appointments/{world.booked.pop()}/cancel",
                json={"reason": "other"},
                headers=head,
            )
            assert r.status_code == 200, r.text
            done = "api cancelled"
        else:
            r = clinic.client.post(
                f"{API}/appointments", json={**body, "patient_id": world.patient_id}, headers=head
            )
            assert r.status_code == 201, r.text
            world.booked.append(r.json()["id"])
            done = "api booked"
    assert desk.sync()
    return done


def test_the_cached_answer_equals_a_fresh_one_after_any_change(any_clinic: Clinic) -> None:
    clinic = any_clinic
    with time_machine.travel(WEEK, tick=False):
        world = build(clinic)
        world.token = key(clinic.store, rate_per_minute=100_000)  # type: ignore[attr-defined]
        world.holds, world.booked = [], []  # type: ignore[attr-defined]
        room = _share_a_room(world)
        cache = SlotCache()
        rng = random.Random(17)
        mine: list[str] = []
        done: dict[str, int] = {}
        for _ in range(3):
            _ask(clinic, rng, world, cache)
        for _step in range(80):
            what = _change(clinic, world, rng, room, mine)
            done[what] = done.get(what, 0) + 1
            for _ in range(3):
                _ask(clinic, rng, world, cache)
    stats = cache.stats()
    assert stats["hits"] > 0 and stats["flushes"] > 0, stats  # it was used, and dropped
    assert {
        "desk booked",
        "desk moved",
        "desk cancelled",
        "api booked",
        "api moved",
        "api cancelled",
        "held",
        "hold booked",
        "hold released",
    } <= set(done), done


def test_a_taken_times_alternatives_through_the_cache_equal_a_fresh_search(
    any_clinic: Clinic,
) -> None:
    """The 409's next free times come through the server's slot cache (``booking._refuse``),
    caught up in the refused write: a desk's booking synced since the cache last saw the day,
    and the API's own booking, are both left out — the same three a fresh search finds."""
    clinic = any_clinic
    with time_machine.travel(WEEK, tick=False):
        world = build(clinic)
        token = key(clinic.store, rate_per_minute=100_000)
        first = clinic.client.get(
            f"{API}/availability", params={"appointment_type_id": world.type_id, "limit": 50},
            headers=auth(token),
        ).json()["slots"]  # fmt: skip
        pid = first[0]["practitioner_id"]
        mine = [x for x in first if x["practitioner_id"] == pid]
        # the API books the first time; a desk books the second (synced: the cache had it free)
        body = {"patient_id": world.patient_id, "practitioner_id": pid,
                "appointment_type_id": world.type_id, "start": mine[0]["start"]}  # fmt: skip
        r = clinic.client.post(f"{API}/appointments", json=body,
                               headers=auth(token, **{"Idempotency-Key": "one"}))  # fmt: skip
        assert r.status_code == 201, r.text
        second = datetime.fromisoformat(mine[1]["start"])
        with world.desk.ctx.write("book") as s:
            s.add(
                Appointment(
                    practitioner_id=pid,
                    patient_id=world.patient_id,
                    starts_at=second,
                    ends_at=second + timedelta(minutes=30),
                )
            )
        assert world.desk.sync()
        stats = clinic.app.state.slot_cache.stats()
        taken = clinic.client.post(f"{API}/appointments", json=body,
                                   headers=auth(token, **{"Idempotency-Key": "two"}))  # fmt: skip
        assert taken.status_code == 409, taken.text
        offered = [(a["practitioner_id"], a["start"]) for a in taken.json()["alternatives"]]
        store = clinic.store
        now = store.now()
        with store.reading() as conn:
            tz = clinic_zone(conn)
            want = av.demand(conn, type_id=world.type_id, profession=None)
            near = av.Demand(want.type_row, want.minutes,
                             [p for p in want.practitioners if p["id"] == pid])  # fmt: skip
            after = datetime.fromisoformat(mine[0]["start"])
            fresh, _f, _m = av.search(conn, near, after, after + timedelta(days=28), now, tz,
                                      limit=3)  # fmt: skip
    assert len(offered) == 3
    assert offered == [(sl.practitioner_id, sl.start.astimezone(tz).isoformat()) for sl in fresh]
    assert mine[1]["start"] not in {start for _p, start in offered}
    assert clinic.app.state.slot_cache.stats()["hits"] > stats["hits"]  # the cache answered
