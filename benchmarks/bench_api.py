"""The integration API's availability on the benchmark clinic: free times for 20 practitioners
over 28 days, through the API's code (the desks' diary rules over the server's store) and
through the whole HTTP call, against the same reads in raw sqlite3 (rosters, leave and
bookings of those practitioners in that window: the least any implementation must do).
Then holds and bookings through HTTP, each against a raw-SQL insert of one row.

The server is seeded from the cached demo clinic (``frontdesk-server seed``), its clock at the
demo's "now". Set FRONTDESK_BENCH_YEARS to build a smaller clinic when the 10-year one is too
slow to build on the machine at hand.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks.harness import CACHE, Bench, demo_clock, percentile, time_ms
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.app import create_app
from frontdesk.server.changelog import TABLES
from frontdesk.server.seed import seed_from_desk

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


def _raw_reads(db: str, ids: list[str], start: str, end: str, early: str) -> int:
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
    scale = bench.scale_dir()
    work = CACHE / "api"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = str(work / "server.sqlite3")
    clock = demo_clock()
    app = create_app(db, clock=clock)
    store = app.state.store
    seed_from_desk(store, scale)
    _key, token = create_key(
        store,
        "bench",
        parse_scopes(["availability:read", "appointments:write"]),
        rate_per_minute=10_000_000,
    )
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
    want = av.Demand(None, 30, pracs)
    ids = [x["id"] for x in pracs]
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    raw_start, raw_end = now.strftime(fmt), end.strftime(fmt)
    raw_early = (now - timedelta(hours=12)).strftime(fmt)
    found: list[Any] = []

    def ours() -> None:
        with store.reading() as conn:
            slots, _first, _more = av.search(conn, want, now, end, now, tz, limit=1_000_000)
        found[:] = slots

    counted: list[int] = []

    def before() -> None:
        with store.reading() as conn:
            counted[:] = [_per_day_search(conn, want, now, end, tz)]

    # interleaved (raw, before, after in each round) so the machine's load, which swings on a
    # shared machine, falls on all three alike
    base: list[float] = []
    mine: list[float] = []
    old: list[float] = []
    for _round in range(30):
        base += time_ms(lambda: _raw_reads(db, ids, raw_start, raw_end, raw_early), 1, 0)
        old += time_ms(before, 1, 0 if _round else 2)
        mine += time_ms(ours, 1, 0 if _round else 2)
    assert counted == [len(found)], (counted, len(found))
    note = f"{len(pracs)} practitioners, {DAYS} days, {len(found)} free slots"
    for stat in (95, 50):
        bench.record(
            "api availability before (per practitioner-day)",
            f"p{stat}",
            percentile(old, stat),
            "ms",
            percentile(base, stat),
            note,
        )
    bench.record(
        "api availability after / before (one pass)",
        "p50",
        percentile(mine, 50),
        "ms",
        percentile(old, 50),
        "the one-pass search against the per-day search, same rows, same run",
    )
    bench.record(
        "api availability (rules, in process)",
        "p95",
        percentile(mine, 95),
        "ms",
        percentile(base, 95),
        note,
    )
    bench.record(
        "api availability (rules, in process)",
        "p50",
        percentile(mine, 50),
        "ms",
        percentile(base, 50),
        note,
    )
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    with store.reading() as conn:
        t = TABLES["appointment_types"]
        by_type = conn.execute(select(t.c.id).where(t.c.archived_at.is_(None)).limit(1)).scalar()
        pt = TABLES["patients"]
        patient = conn.execute(select(pt.c.id).where(pt.c.deleted_at.is_(None)).limit(1)).scalar()
    # one type: the practitioners who offer it, over the same 28 days
    params = {
        "appointment_type_id": by_type,
        "limit": 2000,
        "from": now.isoformat(),
        "to": end.isoformat(),
    }

    offered: list[dict[str, Any]] = []

    def http() -> None:
        r = client.get("/api/v1/availability", params=params, headers=headers)
        assert r.status_code == 200, r.text
        offered[:] = r.json()["slots"]

    over_http = time_ms(http, repeat=30)
    bench.record(
        "api availability (HTTP, one type)",
        "p95",
        percentile(over_http, 95),
        "ms",
        percentile(base, 95),
        "whole call: key, rules, JSON",
    )
    # holds and bookings: each on its own free slot
    hold_ms: list[float] = []
    book_ms: list[float] = []
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
        book_ms.append((time.perf_counter() - t0) * 1000)
        used += 1
    con = sqlite3.connect(db)

    def raw_insert() -> None:
        con.execute(
            "INSERT INTO server_api_holds (id, key_id, practitioner_id, starts_at, "
            "ends_at, expires_at) VALUES (?, 'k', 'p', '2030-01-01', '2030-01-01', "
            "'2030-01-01')",
            (str(uuid.uuid4()),),
        )
        con.commit()

    raw = time_ms(raw_insert, repeat=30)
    con.close()
    if hold_ms and book_ms:
        bench.record(
            "api hold (HTTP)",
            "p95",
            percentile(hold_ms, 95),
            "ms",
            percentile(raw, 95),
            f"{len(hold_ms)} holds; baseline one raw insert",
        )
        bench.record(
            "api booking (HTTP, from a hold)",
            "p95",
            percentile(book_ms, 95),
            "ms",
            percentile(raw, 95),
            f"{len(book_ms)} bookings",
        )
    client.close()
    store.dispose()
