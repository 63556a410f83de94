"""The integration API's availability on a PostgreSQL clinic server: the benchmark clinic
seeded into a throwaway cluster (tests/pgcluster.py: ``initdb`` + ``pg_ctl``), then free times
for 20 practitioners over 28 days through the one-pass search and the per-day search it
replaced, against the same rows read with plain psycopg — interleaved, round by round.
Skipped (with a line saying so) when no PostgreSQL binaries are installed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from benchmarks.bench_api import _per_day_search
from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.server.api import availability as av
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.app import create_app
from frontdesk.server.changelog import TABLES
from frontdesk.server.seed import seed_from_desk

DAYS = 28


def _raw_reads(url: str, ids: list[str], start: Any, end: Any) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
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
        url = cluster.new_database()
        clock = demo_clock()
        app = create_app(url, clock=clock)
        store = app.state.store
        seed_from_desk(store, bench.scale_dir())
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
        want = av.Demand(None, 30, pracs)
        ids = [x["id"] for x in pracs]
        naive = (now.replace(tzinfo=None), end.replace(tzinfo=None))
        found: list[int] = []
        counted: list[int] = []

        def ours() -> None:
            with store.reading() as conn:
                slots, _f, _m = av.search(conn, want, now, end, now, tz, limit=1_000_000)
            found[:] = [len(slots)]

        def before() -> None:
            with store.reading() as conn:
                counted[:] = [_per_day_search(conn, want, now, end, tz)]

        base: list[float] = []
        mine: list[float] = []
        old: list[float] = []
        for n in range(30):
            base += time_ms(lambda: _raw_reads(url, ids, *naive), 1, 0 if n else 1)
            old += time_ms(before, 1, 0 if n else 2)
            mine += time_ms(ours, 1, 0 if n else 2)
        assert found == counted, (found, counted)
        note = f"PostgreSQL; {len(pracs)} practitioners, {DAYS} days, {found[0]} free slots"
        for stat in (95, 50):
            bench.record("api availability PG (rules, in process)", f"p{stat}",
                         percentile(mine, stat), "ms", percentile(base, stat), note)  # fmt: skip
            bench.record("api availability PG before (per practitioner-day)", f"p{stat}",
                         percentile(old, stat), "ms", percentile(base, stat), note)  # fmt: skip
        bench.record("api availability PG after / before (one pass)", "p50",
                     percentile(mine, 50), "ms", percentile(old, 50),
                     "the one-pass search against the per-day search, same run")  # fmt: skip
        store.dispose()
    finally:
        cluster.stop()
