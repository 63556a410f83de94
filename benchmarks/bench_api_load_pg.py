"""``bench_api_load``'s mixed traffic (80 % availability, 10 % look-ups by phone, 10 % bookings
and cancellations, open-loop) against a real ``frontdesk-server run`` on a PostgreSQL clinic
server: the seeded benchmark clinic's cached cluster (``api_server.seeded_postgres``). The
same run, rate and figures as on SQLite (FRONTDESK_BENCH_API_RATE, FRONTDESK_BENCH_API_SECONDS),
each figure's name marked " PG". Skipped when no PostgreSQL binaries are installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import bench_api_load
from benchmarks.api_server import seeded_postgres
from benchmarks.bench_sync import ServerProcess
from benchmarks.harness import Bench


def run(bench: Bench) -> None:
    try:
        cluster, url = seeded_postgres(bench)
    except (FileNotFoundError, ImportError) as exc:
        print(f"  skipped: no PostgreSQL here ({exc})")
        return
    first = len(bench.results)
    module: Any = bench_api_load
    kept = module.seeded_sqlite, module.ServerProcess
    try:
        # bench_api_load's own run, its server on this database instead of a SQLite copy
        module.seeded_sqlite = lambda _bench, _dest: url
        module.ServerProcess = lambda db, *extra: ServerProcess(
            db, *extra, log=Path(cluster.dir) / "server.log"
        )
        print("  (on PostgreSQL)")
        bench_api_load.run(bench)
    finally:
        module.seeded_sqlite, module.ServerProcess = kept
        cluster.stop()
    for result in bench.results[first:]:
        result.name += " PG"
