"""Storage on the 10-year clinic (issue 21): the maintained balances checked against the ledger,
"Back up now" (online copy, Zstandard, trial restore), what a backup weighs, restoring one, and
where the database's bytes go (SQLite's dbstat) — each beside a baseline from the same run: the
raw ledger aggregate, a plain file copy, the database's own size."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ROOT, Bench, demo_clock
from frontdesk.db.backup import backup_file, materialise
from frontdesk.paths import desk_paths
from frontdesk.services import backups
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.billing.ledger import aged_sql
from frontdesk.services.desk import open_desk

BREAKDOWN = ROOT / "benchmarks" / "storage-breakdown.json"


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(desk_paths(folder), clock=demo_clock())
    paths = desk_paths(folder)
    db = paths.database
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size

    # -- the maintained balances, proved equal to the ledger ------------------------------------
    started = time.perf_counter()
    check = check_balances(ctx)
    ours = time.perf_counter() - started
    assert check.ok, check.differences[:5]
    params = {"c30": "2026-10-28", "c60": "2026-09-28", "c90": "2026-08-29"}
    started = time.perf_counter()
    raw.execute(aged_sql(), params).fetchall()
    base = time.perf_counter() - started
    bench.record("storage: balances check, whole clinic", "total", ours, "s", base,
                 f"{check.invoices_checked:,} open invoices, {check.debtors_checked:,} debtors "
                 "equal the ledger; baseline one raw aged-debtors aggregate")  # fmt: skip

    # -- back up now ----------------------------------------------------------------------------
    work = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=folder))
    try:
        # Interleaved, best of two each: the earlier pipeline (full trial restore into a
        # temporary file) against the streamed check of the packed file, and a plain copy.
        timings: dict[str, list[float]] = {"copy": [], "restore": [], "stream": []}
        for _round in range(2):
            started = time.perf_counter()
            shutil.copyfile(db, work / "plain-copy.sqlite3")
            timings["copy"].append(time.perf_counter() - started)
            for way in ("restore", "stream"):
                target = work / f"{way}.sqlite3.zst"
                target.unlink(missing_ok=True)
                started = time.perf_counter()
                backup_file(db, target, check=way)  # type: ignore[arg-type]
                timings[way].append(time.perf_counter() - started)
                target.unlink()
        base = min(timings["copy"])
        old = min(timings["restore"])
        note = f"{size / 1e6:,.0f} MB database; baseline plain file copy"
        bench.record("storage: back up, earlier way (copy, zstd, trial restore)", "total", old,
                     "s", base, note)  # fmt: skip
        started = time.perf_counter()
        made = backups.backup_now(ctx)
        new = min([time.perf_counter() - started, *timings["stream"]])
        note = f"{new / old:.2f}x the earlier way in this run; {note}"
        bench.record("storage: back up now (copy, zstd + quick_check, streamed check)", "total",
                     new, "s", base, note)  # fmt: skip
        packed = made.stat().st_size
        bench.record("storage: one backup's size", "total", packed / 1e6, "MB", size / 1e6,
                     f"23 kept (7 daily, 4 weekly, 12 monthly) = {23 * packed / size:.2f}x the "
                     "database; goal <= 3x")  # fmt: skip
        started = time.perf_counter()
        materialise(made, work / "restored.sqlite3")
        ours = time.perf_counter() - started
        (work / "restored.sqlite3").unlink()
        started = time.perf_counter()
        shutil.copyfile(work / "plain-copy.sqlite3", work / "copy-again.sqlite3")
        base = time.perf_counter() - started
        bench.record("storage: unpack a backup for restore", "total", ours, "s", base,
                     "baseline plain file copy")  # fmt: skip
        made.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # -- where the bytes go -----------------------------------------------------------------
    started = time.perf_counter()
    rows = raw.execute(
        "SELECT name, SUM(pgsize), SUM(payload), SUM(ncell) FROM dbstat GROUP BY name"
    ).fetchall()
    kinds = dict(raw.execute("SELECT name, type FROM sqlite_master").fetchall())
    owner = dict(raw.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    elapsed = time.perf_counter() - started
    objects = sorted(
        (
            {
                "name": name,
                "kind": kinds.get(name, "table"),
                "table": owner.get(name, name),
                "bytes": int(b),
                "payload": int(p),
                "cells": int(n),
            }
            for name, b, p, n in rows
        ),
        key=lambda o: -o["bytes"],
    )
    tables: dict[str, int] = {}
    for o in objects:
        tables[o["table"]] = tables.get(o["table"], 0) + o["bytes"]
    index_bytes = sum(o["bytes"] for o in objects if o["kind"] == "index")
    BREAKDOWN.write_text(json.dumps({"database_bytes": size, "objects": objects}, indent=1))
    print(f"  database {size / 1e6:,.0f} MB; indexes {index_bytes / 1e6:,.0f} MB "
          f"({index_bytes / size:.0%}); dbstat read in {elapsed:.1f} s", flush=True)  # fmt: skip
    for name, b in sorted(tables.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {name:<32} {b / 1e6:>9,.1f} MB  {b / size:>5.1%}", flush=True)
    bench.record("storage: database file", "total", size / 1e6, "MB", size / 1e6,
                 f"indexes {index_bytes / size:.0%} of it; breakdown in "
                 f"{BREAKDOWN.relative_to(ROOT)}")  # fmt: skip
    raw.close()
    ctx.engine.dispose()
    # The same rows rebuilt into fresh files (packed alike): as they are (the baseline), with
    # keys as 16-byte blobs, and with stored times as integers as well (docs/performance.md).
    rebuilt = {(k, t): rebuilt_size(db, folder, keys=k, times=t)
               for k, t in ((False, False), (True, False), (True, True))}  # fmt: skip
    base = rebuilt[(False, False)]
    bench.record("storage: database file, same rows rebuilt as they are", "total", base / 1e6,
                 "MB", size / 1e6, "baseline the database file itself")  # fmt: skip
    bench.record("storage: same rows rebuilt, keys as 16-byte blobs (measured)", "total",
                 rebuilt[(True, False)] / 1e6, "MB", base / 1e6,
                 "baseline the same rows rebuilt as they are")  # fmt: skip
    bench.record("storage: same rows rebuilt, keys as blobs and times as integers", "total",
                 rebuilt[(True, True)] / 1e6, "MB", base / 1e6,
                 f"{rebuilt[(True, True)] / size:.2f}x the database file; "
                 "baseline the same rows rebuilt as they are")  # fmt: skip


def _as_key_blob(column: str) -> str:
    """SQL for the size a 36-character key would take as a 16-byte blob: 16 bytes that keep the
    key distinct (its last 16 hex digits, random in a UUIDv7) — the same length as the real
    blob, and SQLite stores blobs without compression, so the same bytes on the page."""
    return (f"CASE WHEN typeof({column}) = 'text' AND length({column}) = 36 "
            f"AND substr({column}, 9, 1) = '-' AND substr({column}, 24, 1) = '-' "
            f"THEN CAST(substr(replace({column}, '-', ''), 17, 16) AS BLOB) "
            f"ELSE {column} END")  # fmt: skip


def _as_microseconds(column: str) -> str:
    """SQL turning a stored UTC time (``YYYY-MM-DD HH:MM:SS.ffffff``) into integer microseconds."""
    return (f"CASE WHEN typeof({column}) = 'text' AND length({column}) = 26 "
            f"AND substr({column}, 11, 1) = ' ' AND substr({column}, 20, 1) = '.' "
            f"THEN CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr({column}, 21, 6) AS INTEGER) ELSE {column} END")  # fmt: skip


def rebuilt_size(db: Path, work: Path, *, keys: bool, times: bool) -> int:
    """The size of ``db`` rebuilt table by table into a fresh file (rows first, then the same
    indexes, so pages are packed alike), with every key as a 16-byte blob (``keys``) and every
    stored time as integer microseconds (``times``), or as they are (neither: the baseline).
    Measured on real files, so what the plan in docs/performance.md would give."""
    target = Path(tempfile.mkdtemp(prefix="bench-rebuilt-", dir=work)) / "rebuilt.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS rebuilt", (str(target),))
        conn.execute("PRAGMA rebuilt.journal_mode=OFF")
        conn.execute("PRAGMA rebuilt.synchronous=OFF")
        objects = conn.execute(
            "SELECT type, name, sql FROM main.sqlite_master WHERE sql IS NOT NULL "
            "AND type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
        ).fetchall()
        conn.execute("BEGIN")
        for kind, name, sql in objects:
            if str(sql).upper().startswith("CREATE VIRTUAL"):
                continue  # its shadow tables are copied as they are
            if kind == "table":
                conn.execute(sql.replace("CREATE TABLE ", "CREATE TABLE rebuilt.", 1))
                columns = [r[1] for r in conn.execute(f'PRAGMA main.table_info("{name}")')]
                values = []
                for c in columns:
                    value = f'"{c}"'
                    value = _as_microseconds(value) if times else value
                    value = _as_key_blob(value) if keys else value
                    values.append(value)
                conn.execute(f'INSERT INTO rebuilt."{name}" SELECT {", ".join(values)} '
                             f'FROM main."{name}"')  # fmt: skip
            else:
                head = "CREATE UNIQUE INDEX " if sql.upper().startswith("CREATE UNIQUE") else (
                    "CREATE INDEX ")  # fmt: skip
                conn.execute(sql.replace(head, f"{head}rebuilt.", 1))
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE rebuilt")
        return target.stat().st_size
    finally:
        conn.close()
        shutil.rmtree(target.parent, ignore_errors=True)
