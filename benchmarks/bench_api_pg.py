"""The integration API's availability on a PostgreSQL clinic server: the benchmark clinic
seeded into a throwaway cluster (tests/pgcluster.py: ``initdb`` + ``pg_ctl``), then free times
for 20 practitioners over 28 days through the one-pass search and the per-day search it
replaced, against the same rows read with plain psycopg — interleaved, round by round.
Skipped (with a line saying so) when no PostgreSQL binaries are installed."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks.api_server import first_change, seeded_postgres
from benchmarks.bench_api import _per_day_search
from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.app import create_app
from frontdesk.server.changelog import TABLES

DAYS = 28


def _raw_reads(con: Any, ids: list[str], start: Any, end: Any) -> int:
    """Over one open connection, as the server's pool keeps them."""
    n = len(
        con.execute(
            "SELECT practitioner_id, weekday, start_minute, end_minute, kind, every_weeks, "
            "week_offset, effective_from, effective_until, room_id FROM roster_entries "
            "WHERE practitioner_id = ANY(%s) AND deleted_at IS NULL",
            [ids],
        ).fetchall()
    )
    n += len(
        con.execute(
            "SELECT id, practitioner_id, starts_at, ends_at FROM leave WHERE deleted_at IS "
            "NULL AND (practitioner_id = ANY(%s) OR practitioner_id IS NULL) "
            "AND starts_at < %s AND ends_at > %s",
            [ids, end, start],
        ).fetchall()
    )
    n += len(
        con.execute(
            "SELECT id, practitioner_id, room_id, starts_at, ends_at FROM appointments "
            "WHERE practitioner_id = ANY(%s) AND status != 'cancelled' AND deleted_at IS "
            "NULL AND starts_at < %s AND starts_at > %s AND ends_at > %s",
            [ids, end, start - timedelta(hours=12), start],
        ).fetchall()
    )
    return n


def run(bench: Bench) -> None:
    try:
        from tests.pgcluster import PgCluster

        cluster = PgCluster()
    except (FileNotFoundError, ImportError) as exc:
        print(f"  skipped: no PostgreSQL here ({exc})")
        return
    try:
        url = seeded_postgres(bench, cluster)
        clock = demo_clock()
        app = create_app(url, clock=clock)
        store = app.state.store
        now = clock.now()
        end = now + timedelta(days=DAYS)
        with store.reading() as conn:
            tz = clinic_zone(conn)
            p = TABLES["practitioners"]
            pracs = [
                dict(r)
                for r in conn.execute(
                    select(p)
                    .where(p.c.archived_at.is_(None), p.c.deleted_at.is_(None))
                    .order_by(p.c.id)
                    .limit(20)
                ).mappings()
            ]
            t = TABLES["appointment_types"]
            by_type = conn.execute(
                select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False)).limit(1)
            ).scalar()
        _key, token = create_key(
            store, "bench", parse_scopes(["availability:read", "appointments:write"]),
            rate_per_minute=10_000_000,
        )  # fmt: skip
        client = TestClient(app)
        # One event loop for the whole run, as a running server has: without the context each
        # request starts a thread and a loop of its own (~5 ms a call that no real client pays).
        client.__enter__()
        headers = {"Authorization": f"Bearer {token}"}
        first_change(client, headers, str(by_type))
        want = av.Demand(None, 30, pracs)
        ids = [x["id"] for x in pracs]
        naive = (now.replace(tzinfo=None), end.replace(tzinfo=None))
        found: list[Any] = []
        cache = SlotCache()

        def fresh() -> None:
            with store.reading() as conn:
                found[:] = av.search(conn, want, now, end, now, tz, limit=1_000_000)[0]

        def cached() -> None:
            with store.reading() as conn:
                found[:] = av.search(conn, want, now, end, now, tz, limit=1_000_000, cache=cache)[0]

        rng = random.Random(3)

        def book_one() -> None:
            for _try in range(20):
                slot = rng.choice(found)
                r = client.post(
                    "/api/v1/holds",
                    json={"practitioner_id": slot.practitioner_id, "appointment_type_id": by_type,
                          "start": slot.start.isoformat(), "minutes": 5},
                    headers=headers,
                )  # fmt: skip
                if r.status_code == 201:
                    b = client.post(
                        "/api/v1/appointments",
                        json={"patient_id": patient, "hold_id": r.json()["id"]},
                        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    )
                    assert b.status_code == 201, b.text
                    return

        with store.reading() as conn:
            pt = TABLES["patients"]
            patient = conn.execute(select(pt.c.id).limit(1)).scalar()
        base: list[float] = []
        cold: list[float] = []
        after_booking: list[float] = []
        warm: list[float] = []
        fresh()
        cached()
        raw_conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        for n in range(30):
            base += time_ms(lambda: _raw_reads(raw_conn, ids, *naive), 1, 0 if n else 1)
            cold += time_ms(fresh, 1, 0)
            book_one()
            after_booking += time_ms(cached, 1, 0)
            warm += time_ms(cached, 1, 0)
        raw_conn.close()
        with store.reading() as conn:
            counted = _per_day_search(conn, want, now, end, tz)
        assert counted == len(found), (counted, len(found))
        note = f"PostgreSQL; {len(pracs)} practitioners, {DAYS} days, {len(found)} free slots"
        for label, samples in (
            ("fresh: no cache", cold),
            ("cached, just after a booking", after_booking),
            ("cached, nothing changed", warm),
        ):
            for stat in (95, 50):
                bench.record(f"api availability PG ({label})", f"p{stat}",
                             percentile(samples, stat), "ms", percentile(base, stat),
                             note + "; baseline: the rows read with plain psycopg")  # fmt: skip
        print(f"  slot cache: {cache.stats()}")
        client.__exit__(None, None, None)
        store.dispose()
    finally:
        cluster.stop()
