"""The integration API's availability on a PostgreSQL clinic server: the benchmark clinic
seeded into a throwaway cluster (tests/pgcluster.py: ``initdb`` + ``pg_ctl``), then free times
for 20 practitioners over 28 days (afresh, cached after a booking, cached unchanged) against
the same rows read with plain psycopg; holds and bookings through HTTP against one raw insert
and commit — interleaved, round by round. Then a webhook after a booking, on a real
``frontdesk-server run`` over the same database (``bench_api_feed.measure``). The seeded
cluster is kept in the benchmark cache (``api_server.seeded_postgres``).
Skipped (with a line saying so) when no PostgreSQL binaries are installed."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from benchmarks.api_server import first_change, seeded_postgres
from benchmarks.bench_api import _per_day_search
from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.domain.clinic_setup import offers
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.api.slot_cache import SlotCache
from frontdesk.server.app import create_app
from frontdesk.server.changelog import TABLES

DAYS = 28
ROUNDS = 30


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
        cluster, url = seeded_postgres(bench)
    except (FileNotFoundError, ImportError) as exc:
        print(f"  skipped: no PostgreSQL here ({exc})")
        return
    try:
        clock = demo_clock()
        app = create_app(url, clock=clock, serving=True)  # as `frontdesk-server run`
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
            types = conn.execute(
                select(t.c.id, t.c.profession, t.c.practitioner_ids)
                .where(t.c.archived_at.is_(None), t.c.is_group.is_(False))
                .order_by(t.c.id)
            ).all()
            by_type = types[0].id
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
        hold_ms: list[float] = []
        from_hold_ms: list[float] = []
        direct_ms: list[float] = []
        offered = {  # a type each practitioner offers, for holds and bookings
            x["id"]: next(
                (ty.id for ty in types
                 if offers(ty.profession, ty.practitioner_ids or "", x["id"], x["profession"])),
                by_type,
            )
            for x in pracs
        }  # fmt: skip

        statements: dict[str, list[int]] = {"hold": [], "from_hold": [], "direct": []}
        counted: list[int] = [0]

        def count(*_a: Any) -> None:
            counted[0] += 1

        event.listen(store.engine, "before_cursor_execute", count)

        def book_one() -> None:
            """A hold, then a booking from it (each timed); then a booking by practitioner,
            type and start (timed). Each on a free time found by the last search."""
            for _try in range(20):
                slot = rng.choice(found)
                counted[0] = 0
                t0 = time.perf_counter()
                r = client.post(
                    "/api/v1/holds",
                    json={"practitioner_id": slot.practitioner_id,
                          "appointment_type_id": offered[slot.practitioner_id],
                          "start": slot.start.isoformat(), "minutes": 5},
                    headers=headers,
                )  # fmt: skip
                if r.status_code == 201:
                    hold_ms.append((time.perf_counter() - t0) * 1000)
                    statements["hold"].append(counted[0])
                    counted[0] = 0
                    t0 = time.perf_counter()
                    b = client.post(
                        "/api/v1/appointments",
                        json={"patient_id": patient, "hold_id": r.json()["id"]},
                        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    )
                    assert b.status_code == 201, b.text
                    from_hold_ms.append((time.perf_counter() - t0) * 1000)
                    statements["from_hold"].append(counted[0])
                    break
            for _try in range(20):
                slot = rng.choice(found)
                counted[0] = 0
                t0 = time.perf_counter()
                r = client.post(
                    "/api/v1/appointments",
                    json={"patient_id": patient, "practitioner_id": slot.practitioner_id,
                          "appointment_type_id": offered[slot.practitioner_id],
                          "start": slot.start.isoformat()},
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                )  # fmt: skip
                if r.status_code == 201:
                    direct_ms.append((time.perf_counter() - t0) * 1000)
                    statements["direct"].append(counted[0])
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
        raw_write: list[float] = []
        health: list[float] = []  # the HTTP stack's own cost, in the same process

        def raw_insert() -> None:
            raw_conn.execute(
                "INSERT INTO server_api_holds (id, key_id, practitioner_id, starts_at, ends_at, "
                "expires_at) VALUES (%s, 'k', 'p', '2030-01-01', '2030-01-01', '2030-01-01')",
                [str(uuid.uuid4())],
            )
            raw_conn.commit()

        for n in range(ROUNDS):
            base += time_ms(lambda: _raw_reads(raw_conn, ids, *naive), 1, 0 if n else 1)
            raw_conn.commit()
            cold += time_ms(fresh, 1, 0)
            raw_write += time_ms(raw_insert, 1, 0)
            health += time_ms(lambda: client.get("/health"), 1, 0)
            book_one()
            after_booking += time_ms(cached, 1, 0)
            warm += time_ms(cached, 1, 0)
        raw_conn.execute("DELETE FROM server_api_holds WHERE key_id = 'k'")
        raw_conn.commit()
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
        for label, samples in (
            ("api hold PG (HTTP)", hold_ms),
            ("api booking PG (HTTP, from a hold)", from_hold_ms),
            ("api booking PG (HTTP, practitioner + type + start)", direct_ms),
        ):
            for stat in (95, 50):
                bench.record(
                    label, f"p{stat}", percentile(samples, stat), "ms",
                    percentile(raw_write, stat),
                    f"{len(samples)} calls; baseline one raw insert + commit (psycopg); a bare "
                    f"/health p{stat} {percentile(health, stat):.1f} ms",
                )  # fmt: skip
        print(f"  slot cache: {cache.stats()}")
        event.remove(store.engine, "before_cursor_execute", count)
        print(
            "  statements a call (median; the call log's batched writes of reads aside): "
            + ", ".join(f"{k} {sorted(v)[len(v) // 2]}" for k, v in statements.items() if v)
        )
        client.__exit__(None, None, None)
        store.dispose()
        # the webhook after a booking, on a real server process over this database
        from benchmarks import api_writes
        from benchmarks.bench_api_feed import measure
        from benchmarks.bench_sync import ServerProcess

        # holds and bookings against a real server process, over a kept-alive connection
        api_writes.measure(bench, url, cluster.dir)
        measure(bench, ServerProcess(url, log=cluster.dir / "server.log"), " PG")
    finally:
        cluster.stop()
