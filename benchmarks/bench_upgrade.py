"""The desk upgrade on the 10-year clinic (issue 21): a file at the revision before this
branch's (``FRONTDESK_BENCH_OLD_DB``, e.g. the cache main built, or else the cached clinic taken
down to it) upgraded in place the way a start-up does it — compressed backup first, the
revisions, then compacting — with progress; every table's row count and content digest compared
before and after. Baselines from the same run: a plain copy of the file, and its size before."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from alembic import command

from benchmarks.harness import CACHE, Bench
from frontdesk.db import migrate
from frontdesk.db.digest import table_digests
from frontdesk.db.engine import make_engine
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk

FROM = "0380_checks"  # the revision before this upgrade's (0400_blobkeys)


def old_copy(bench: Bench, into: Path) -> Path:
    """A copy of the 10-year clinic at ``FROM``: the given file, or the cached one taken down."""
    target = desk_paths(into).database
    given = os.environ.get("FRONTDESK_BENCH_OLD_DB")
    if given:
        shutil.copyfile(given, target)
        return target
    shutil.copyfile(desk_paths(bench.scale_dir()).database, target)
    engine = make_engine(target)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, FROM)
    engine.dispose()
    return target


def run(bench: Bench) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-upgrade-", dir=CACHE))
    try:
        desk = work / "desk"
        desk.mkdir()
        db = old_copy(bench, desk)
        revision = migrate.current_revision(make_engine(db))
        started = time.perf_counter()
        shutil.copyfile(db, work / "plain-copy.sqlite3")
        copy_s = time.perf_counter() - started
        (work / "plain-copy.sqlite3").unlink()
        size_before = db.stat().st_size
        free_before, _ = migrate.free_bytes(db)
        before = table_digests(db)
        before.pop("alembic_version")

        phases: dict[str, float] = {}
        last = [time.perf_counter(), ""]

        def progress(what: str, _fraction: float) -> None:
            now = time.perf_counter()
            if what != last[1]:
                if last[1]:
                    phases[str(last[1])] = phases.get(str(last[1]), 0.0) + now - float(last[0])
                last[:] = [now, what]

        started = time.perf_counter()
        ctx = open_desk(desk_paths(desk), progress=progress)
        upgrade_s = time.perf_counter() - started
        ctx.engine.dispose()
        after = table_digests(db)
        after.pop("alembic_version")
        lost = sorted(t for t in before if before[t] != after.get(t))
        assert not lost, f"tables whose rows changed in the upgrade: {lost}"
        rows = sum(n for n, _d in before.values())
        size_after = db.stat().st_size
        bench.record("upgrade: 10-year desk in place (backup, revisions, compact)", "total",
                     upgrade_s, "s", copy_s,
                     f"from {revision}; " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
                     + "; baseline plain file copy")  # fmt: skip
        bench.record("upgrade: database file after the upgrade", "total", size_after / 1e6, "MB",
                     size_before / 1e6,
                     f"{len(before)} tables, {rows:,} rows: counts and content digests equal; "
                     f"{free_before / 1e6:,.0f} MB were free pages before")  # fmt: skip
        backups = sorted(desk_paths(desk).backups.glob("before-upgrade-*"))
        packed = sum(p.stat().st_size for p in backups)
        bench.record("upgrade: the backup made first (compressed)", "total", packed / 1e6, "MB",
                     size_before / 1e6, "baseline the file it copies")  # fmt: skip
        keep = os.environ.get("FRONTDESK_BENCH_KEEP_UPGRADED")
        if keep:  # seed a scale cache for this revision without building the clinic again
            Path(keep).mkdir(parents=True, exist_ok=True)
            db.replace(Path(keep) / "frontdesk.sqlite3")
    finally:
        shutil.rmtree(work, ignore_errors=True)
