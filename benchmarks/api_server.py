"""A clinic server holding the benchmark clinic, for the integration API's benchmarks.

Seeding the 10-year clinic into a server (``frontdesk-server seed``) takes minutes, so the
seeded server is kept in the benchmark cache beside the clinic (keyed by the clinic's key and
the server's migrations): a SQLite server as its file, a PostgreSQL server as a ``pg_dump``
archive restored into each run's throwaway cluster. Each benchmark works on its own copy.

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


def seeded_postgres(bench: Bench, cluster: Any) -> str:
    """A new database in ``cluster`` holding the seeded benchmark clinic."""
    from frontdesk.server.seed import seed_from_desk
    from frontdesk.server.store import ServerStore
    from tests.pgcluster import _find

    dump = CACHE / f"server-{_key()}" / "server.pgdump"
    url = str(cluster.new_database())
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    if dump.exists():
        started = time.perf_counter()
        subprocess.run(
            [_find("pg_restore") or "pg_restore", "--no-owner", "-j", "2", "-d", plain, str(dump)],
            check=True,
            capture_output=True,
        )
        print(f"  restored the seeded PostgreSQL server in {time.perf_counter() - started:.0f} s")
        return url
    started = time.perf_counter()
    store = ServerStore(url)
    store.init(backup=False)
    seed_from_desk(store, bench.scale_dir())
    store.dispose()
    print(f"  seeded a PostgreSQL server in {time.perf_counter() - started:.0f} s")
    dump.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [_find("pg_dump") or "pg_dump", "-Fc", "-f", str(dump.with_suffix(".building")), plain],
        check=False,
        capture_output=True,
    )
    if made.returncode == 0:
        dump.with_suffix(".building").rename(dump)
    else:  # the run goes on; the next one seeds again
        print(f"  pg_dump failed ({made.returncode}): the seeded server is not kept")
    return url


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
