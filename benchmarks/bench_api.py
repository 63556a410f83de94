"""The integration API's availability on the benchmark clinic: free times for 20 practitioners
over 28 days, through the API's code (the desks' diary rules over the server's store) and
through the whole HTTP call, against the same reads in raw sqlite3 (rosters, leave and
bookings of those practitioners in that window: the least any implementation must do).

Three figures for the search, interleaved round by round with the raw reads: worked out
afresh (no cache: the cost after the clinic's rosters or leave change), through the slot cache
just after a booking made through the API in the window (the usual case on a busy server: the
booked practitioner's days are worked out again), and through the cache with nothing changed.
Then holds and bookings through HTTP, each against a raw-SQL insert of one row.

The server is seeded from the cached demo clinic (``benchmarks/api_server.py``), its clock at
the demo's "now". Set FRONTDESK_BENCH_YEARS to build a smaller clinic when the 10-year one is
too slow to build on the machine at hand.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks.api_server import first_change, seeded_sqlite
from benchmarks.harness import CACHE, Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import sqlite_utc_value
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.app import create_app
from frontdesk.server.changelog import TABLES

DAYS = 28


def _by_day(blocks: Any, tz: Any) -> dict[Any, list[Any]]:
    """Blocks by each local day they touch (as the search bucketed them before)."""
    out: dict[Any, list[Any]] = {}
    for b in blocks:
        first = b.start.astimezone(tz).date()
        last = b.end.astimezone(tz).date()
        for day in av._days(first, last):
            out.setdefault(day, []).append(b)
    return out


def _per_day_search(conn: Any, want: av.Demand, start: datetime, end: datetime, tz: Any) -> int:
    """The search as it was before the one-pass window: each practitioner's day through
    ``availability_on`` and ``free_slots_on`` (the same loads), for the before → after ratio."""
    from sqlalchemy.orm import Session

    from frontdesk.domain.diary import availability_on, free_slots_on
    from frontdesk.services.diary.view import roster_rules

    ids = [p["id"] for p in want.practitioners]
    rules = roster_rules(Session(bind=conn), ids)
    length = timedelta(minutes=want.minutes)
    days = av._days(start.astimezone(tz).date(), end.astimezone(tz).date())
    n = 0
    for at in range(0, len(days), av.CHUNK_DAYS):
        chunk = days[at : at + av.CHUNK_DAYS]
        lo = max(start, av.day_bounds_utc(chunk[0], tz)[0])
        hi = min(end, av.day_bounds_utc(chunk[-1], tz)[1])
        diary = av.load_diary(conn, want.practitioners, lo, hi, start, rules=rules)
        busy = {pid: _by_day(b, tz) for pid, b in diary.busy.items()}
        room = {pid: _by_day(b, tz) for pid, b in diary.room_busy.items()}
        for day in chunk:
            for pid in ids:
                avail = availability_on(diary.rules[pid], diary.leave[pid], day, tz)
                if not avail.work:
                    continue
                for slot in free_slots_on(
                    pid, day, avail, busy[pid].get(day, []), length, tz, slot=av.SLOT_MINUTES,
                    not_before=start, room_busy=room[pid].get(day, []),
                ):  # fmt: skip
                    if slot.end > end:
                        break
                    n += 1
    return n


def _raw_reads(db: str, ids: list[str], start: int, end: int, early: int) -> int:
    """Rosters, leave and live bookings of ``ids`` in [start, end), plainly."""
    con = sqlite3.connect(db)
    marks = ",".join("?" * len(ids))
    n = len(
        con.execute(
            f"SELECT practitioner_id, weekday, start_minute, end_minute, kind, every_weeks, "
            f"week_offset, effective_from, effective_until, room_id FROM roster_entries "
            f"WHERE practitioner_id IN ({marks}) AND deleted_at IS NULL",
            ids,
        ).fetchall()
    )
    n += len(
        con.execute(
            f"SELECT id, practitioner_id, starts_at, ends_at FROM leave WHERE deleted_at IS NULL "
            f"AND (practitioner_id IN ({marks}) OR practitioner_id IS NULL) "
            f"AND starts_at < ? AND ends_at > ?",
            [*ids, end, start],
        ).fetchall()
    )
    n += len(
        con.execute(
            f"SELECT id, practitioner_id, room_id, starts_at, ends_at FROM appointments "
            f"WHERE practitioner_id IN ({marks}) AND status != 'cancelled' AND deleted_at IS NULL "
            f"AND starts_at < ? AND starts_at > ? AND ends_at > ?",
            [*ids, end, early, start],
        ).fetchall()
    )
    con.close()
    return n


def run(bench: Bench) -> None:
    work = CACHE / "api"
    shutil.rmtree(work, ignore_errors=True)
    db = str(seeded_sqlite(bench, work / "server.sqlite3"))
    clock = demo_clock()
    app = create_app(db, clock=clock, serving=True)  # as `frontdesk-server run`
    store = app.state.store
    _key, token = create_key(
        store,
        "bench",
        parse_scopes(["availability:read", "appointments:write"]),
        rate_per_minute=10_000_000,
    )
    client = TestClient(app)
    # One event loop for the whole run, as a running server has: without the context each
    # request starts a thread and a loop of its own (~5 ms a call that no real client pays).
    client.__enter__()
    headers = {"Authorization": f"Bearer {token}"}
    now = clock.now()
    end = now + timedelta(days=DAYS)
    with store.reading() as conn:
        tz = clinic_zone(conn)
        p = TABLES["practitioners"]
        pracs = [
            dict(r)
            for r in conn.execute(
                select(p).where(p.c.archived_at.is_(None), p.c.deleted_at.is_(None)).limit(20)
            ).mappings()
        ]
        t = TABLES["appointment_types"]
        types = dict(
            conn.execute(
                select(t.c.id, t.c.practitioner_ids).where(
                    t.c.archived_at.is_(None), t.c.is_group.is_(False)
                )
            ).all()
        )
        by_type = next(iter(types))
        pt = TABLES["patients"]
        patient = conn.execute(select(pt.c.id).where(pt.c.deleted_at.is_(None)).limit(1)).scalar()
    first_change(client, headers, by_type)
    want = av.Demand(None, 30, pracs)
    ids = [x["id"] for x in pracs]
    # the server's SQLite keeps keys as text but times as integer microseconds (s0009)
    raw_start, raw_end = sqlite_utc_value(now), sqlite_utc_value(end)
    raw_early = sqlite_utc_value(now - timedelta(hours=12))
    rostered = _raw_reads(db, ids, raw_end, raw_end, raw_end)  # rosters (and leave ending after)
    assert _raw_reads(db, ids, raw_start, raw_end, raw_early) > rostered, "no bookings read"
    cache = SlotCache()
    found: list[Any] = []

    def fresh() -> None:
        with store.reading() as conn:
            found[:] = av.search(conn, want, now, end, now, tz, limit=1_000_000)[0]

    def cached() -> None:
        with store.reading() as conn:
            found[:] = av.search(conn, want, now, end, now, tz, limit=1_000_000, cache=cache)[0]

    rng = random.Random(3)
    book_ms: list[float] = []

    def book_one() -> None:
        """Book one of the free times through the API (its days drop out of the cache)."""
        for _try in range(20):
            slot = rng.choice(found)
            offered = [tid for tid, who in types.items() if slot.practitioner_id in (who or "")]
            t0 = time.perf_counter()
            r = client.post(
                "/api/v1/appointments",
                json={"patient_id": patient, "practitioner_id": slot.practitioner_id,
                      "appointment_type_id": offered[0] if offered else by_type,
                      "start": slot.start.isoformat()},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )  # fmt: skip
            if r.status_code == 201:
                book_ms.append((time.perf_counter() - t0) * 1000)
                return

    # interleaved (raw, fresh, after a booking, unchanged in each round) so the machine's
    # load, which swings on a shared machine, falls on all alike
    base: list[float] = []
    cold: list[float] = []
    after_booking: list[float] = []
    warm: list[float] = []
    fresh()
    cached()
    for _round in range(30):
        base += time_ms(lambda: _raw_reads(db, ids, raw_start, raw_end, raw_early), 1, 0)
        cold += time_ms(fresh, 1, 0)
        book_one()
        after_booking += time_ms(cached, 1, 0)
        warm += time_ms(cached, 1, 0)
    with store.reading() as conn:
        counted = _per_day_search(conn, want, now, end, tz)
    assert counted == len(found), (counted, len(found))
    note = f"{len(pracs)} practitioners, {DAYS} days, {len(found)} free slots"
    for label, samples in (
        ("fresh: no cache", cold),
        ("cached, just after a booking", after_booking),
        ("cached, nothing changed", warm),
    ):
        for stat in (95, 50):
            bench.record(
                f"api availability ({label})",
                f"p{stat}",
                percentile(samples, stat),
                "ms",
                percentile(base, stat),
                note + "; baseline: raw sqlite3 reads of the same rows",
            )
    # one type over HTTP (the server's own cache; a booking between calls)
    params = {"appointment_type_id": by_type, "limit": 2000, "from": now.isoformat(),
              "to": end.isoformat()}  # fmt: skip
    offered: list[dict[str, Any]] = []

    def http() -> None:
        r = client.get("/api/v1/availability", params=params, headers=headers)
        assert r.status_code == 200, r.text
        offered[:] = r.json()["slots"]

    over_http: list[float] = []
    base_http: list[float] = []
    for _round in range(30):
        base_http += time_ms(lambda: _raw_reads(db, ids, raw_start, raw_end, raw_early), 1, 0)
        book_one()
        over_http += time_ms(http, 1, 0)
    bench.record(
        "api availability (HTTP, one type, after a booking)",
        "p95",
        percentile(over_http, 95),
        "ms",
        percentile(base_http, 95),
        f"whole call: key, rules, JSON; {len(offered)} slots",
    )
    # holds and bookings: each on its own free slot
    hold_ms: list[float] = []
    from_hold_ms: list[float] = []
    taken: set[tuple[str, Any]] = set()
    used = 0
    for slot in offered:
        if used >= 40:
            break
        start = datetime.fromisoformat(slot["start"])
        if any(
            k[0] == slot["practitioner_id"] and abs((k[1] - start).total_seconds()) < 3600
            for k in taken
        ):
            continue
        taken.add((slot["practitioner_id"], start))
        body = {
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": by_type,
            "start": slot["start"],
            "minutes": 5,
        }
        t0 = time.perf_counter()
        h = client.post("/api/v1/holds", json=body, headers=headers)
        hold_ms.append((time.perf_counter() - t0) * 1000)
        if h.status_code != 201:
            continue
        t0 = time.perf_counter()
        b = client.post(
            "/api/v1/appointments",
            json={"patient_id": patient, "hold_id": h.json()["id"]},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert b.status_code == 201, b.text
        from_hold_ms.append((time.perf_counter() - t0) * 1000)
        used += 1
    con = sqlite3.connect(db)
    later = sqlite_utc_value(datetime(2030, 1, 1, tzinfo=UTC))

    def raw_insert() -> None:
        con.execute(
            "INSERT INTO server_api_holds (id, key_id, practitioner_id, starts_at, "
            "ends_at, expires_at) VALUES (?, 'k', 'p', ?, ?, ?)",
            (str(uuid.uuid4()), later, later, later),
        )
        con.commit()

    raw = time_ms(raw_insert, repeat=30)
    con.close()
    bench.record(
        "api hold (HTTP)",
        "p95",
        percentile(hold_ms, 95),
        "ms",
        percentile(raw, 95),
        f"{len(hold_ms)} holds; baseline one raw insert + commit",
    )
    bench.record(
        "api booking (HTTP, from a hold)",
        "p95",
        percentile(from_hold_ms, 95),
        "ms",
        percentile(raw, 95),
        f"{len(from_hold_ms)} bookings",
    )
    bench.record(
        "api booking (HTTP, practitioner + type + start)",
        "p95",
        percentile(book_ms, 95),
        "ms",
        percentile(raw, 95),
        f"{len(book_ms)} bookings",
    )
    print(f"  slot cache: {cache.stats()}; server's: {app.state.slot_cache.stats()}")
    client.__exit__(None, None, None)
    store.dispose()
