"""A clinic server holding the benchmark clinic, for the integration API's benchmarks.

Seeding the 10-year clinic into a server (``frontdesk-server seed``) takes minutes, so the
seeded server is kept in the benchmark cache beside the clinic (keyed by the clinic's key and
the server's migrations): a SQLite server as its file, a PostgreSQL server as the stopped
cluster's data directory, copied for each run's throwaway cluster. Each benchmark works on its
own copy.

A freshly seeded server's change log is empty; a server in use never is. ``first_change``
makes one change (a held-and-released time) so the server is as it is in use.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import CACHE, ROOT, Bench, schema_key


def _key() -> str:
    digest = hashlib.sha256(schema_key().encode())
    for path in sorted((ROOT / "frontdesk" / "server" / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def enrolled_clinic_folder() -> Path:
    """Where the cached 10-year desk enrolled with a SQLite server holding the clinic is kept
    (``reception/`` the desk, ``server.sqlite3``, the desk's access key in ``keyring.json``,
    ``ready`` once complete): built by ``bench_api_desk`` (the server seeded from the desk) or
    kept from ``bench_sync``'s first sync; keyed by the clinic's and the server's migrations."""
    return CACHE / f"apidesk-{schema_key()}-{_key()}"


def seeded_sqlite(bench: Bench, dest: Path) -> Path:
    """A private copy, at ``dest``, of a SQLite server seeded with the benchmark clinic."""
    from frontdesk.server.seed import seed_from_desk
    from frontdesk.server.store import ServerStore

    kept = CACHE / f"server-{_key()}" / "server.sqlite3"
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        building = kept.with_suffix(".building")
        building.unlink(missing_ok=True)
        started = time.perf_counter()
        store = ServerStore(str(building))
        store.init(backup=False)
        seed_from_desk(store, bench.scale_dir())
        store.dispose()
        building.rename(kept)
        print(f"  seeded a SQLite server in {time.perf_counter() - started:.0f} s (cached)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    shutil.copy2(kept, dest)
    return dest


def _pg_major() -> str:
    from tests.pgcluster import _find

    out = subprocess.run(
        [_find("pg_ctl") or "pg_ctl", "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.split()[-1].split(".")[0]


def seeded_postgres(bench: Bench) -> tuple[Any, str]:
    """A throwaway cluster (``tests/pgcluster.py``) holding the seeded benchmark clinic, and
    the database's URL. The first run seeds it (``seed_from_desk``: COPY, indexes after) and
    keeps the stopped cluster's data directory in the cache; later runs start on a copy."""
    from frontdesk.server.seed import seed_from_desk
    from frontdesk.server.store import ServerStore
    from tests.pgcluster import PgCluster

    folder = CACHE / f"server-{_key()}"
    seeding = hashlib.sha256((ROOT / "frontdesk" / "server" / "seed.py").read_bytes())
    kept = folder / f"pgdata-{_pg_major()}-{seeding.hexdigest()[:8]}"
    if kept.exists():
        started = time.perf_counter()
        cluster = PgCluster(data_from=kept)
        print(f"  started the cached PostgreSQL server in {time.perf_counter() - started:.1f} s")
        return cluster, cluster.url((kept / "frontdesk.dbname").read_text())
    for old in CACHE.glob("server-*/pgdata-*"):  # one seeded cluster kept: several GB each
        shutil.rmtree(old, ignore_errors=True)
    cluster = PgCluster()
    url = cluster.new_database()
    store = ServerStore(url)
    store.init(backup=False)
    started = time.perf_counter()
    seed_from_desk(store, bench.scale_dir())
    seeded = time.perf_counter() - started
    store.dispose()
    plain = _plain_copy_seconds(cluster, bench.scale_dir() / "frontdesk.sqlite3")
    bench.record("seed PostgreSQL from the desk (COPY, indexes after)", "total", seeded * 1000,
                 "ms", plain * 1000, "baseline: plain COPY of the appointments table alone "
                 "into a table without indexes")  # fmt: skip
    name = url.rsplit("/", 1)[1]
    cluster.stop(keep=kept)
    (kept / "frontdesk.dbname").write_text(name)
    cluster = PgCluster(data_from=kept)
    return cluster, cluster.url(name)


def _plain_copy_seconds(cluster: Any, desk_db: Path) -> float:
    """The biggest table alone, COPYed as plainly as psycopg allows into a bare table."""
    import sqlite3

    import psycopg

    from frontdesk.db.types import maybe_key_text

    src = sqlite3.connect(f"file:{desk_db}?mode=ro", uri=True)
    url = cluster.new_database()
    with psycopg.connect(url) as pg:
        cols = [r[1] for r in src.execute("PRAGMA table_info(appointments)")]
        pg.execute("CREATE TABLE appointments (" + ", ".join(f'"{c}" text' for c in cols) + ")")
        started = time.perf_counter()
        rows = src.execute("SELECT * FROM appointments")
        with pg.cursor().copy("COPY appointments FROM STDIN") as copy:
            while batch := rows.fetchmany(10_000):
                for row in batch:
                    copy.write_row(tuple(map(maybe_key_text, row)))  # keys: blobs on the desk
        pg.commit()
        took = time.perf_counter() - started
    src.close()
    with psycopg.connect(cluster.url(), autocommit=True) as admin:  # not kept in the cache
        admin.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]}")
    return took


def first_change(client: Any, headers: dict[str, str], type_id: str) -> None:
    """Hold a free time and release it: the change log is no longer empty, as in use."""
    r = client.get(
        "/api/v1/availability", params={"appointment_type_id": type_id, "limit": 1}, headers=headers
    )
    slot = r.json()["slots"][0]
    held = client.post(
        "/api/v1/holds",
        json={"practitioner_id": slot["practitioner_id"], "appointment_type_id": type_id,
              "start": slot["start"], "minutes": 1},
        headers=headers,
    )  # fmt: skip
    assert held.status_code == 201, held.text
    gone = client.delete(f"/api/v1/holds/{held.json()['id']}", headers=headers)
    assert gone.status_code == 204, gone.text
