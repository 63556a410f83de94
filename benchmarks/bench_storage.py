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
    before = _with_the_dropped_indexes(db, folder)
    bench.record("storage: database without the two redundant indexes (0360_perf)", "total",
                 size / 1e6, "MB", before / 1e6,
                 "baseline: the same file with ix_payment_allocations_invoice_id and "
                 "ix_credit_notes_invoice_id made again (as before 0360_perf)")  # fmt: skip
    saved = key_blob_saving(raw)
    bench.record("storage: database with keys as 16-byte blobs (estimate)", "total",
                 (size - saved) / 1e6, "MB", size / 1e6,
                 "20 bytes saved per filled key column and per key in each index entry; "
                 "the plan in docs/performance.md")  # fmt: skip
    raw.close()
    ctx.engine.dispose()


def _with_the_dropped_indexes(db: Path, folder: Path) -> int:
    """The database's size with the two indexes 0360_perf drops created again (on a copy)."""
    work = Path(tempfile.mkdtemp(prefix="bench-indexes-", dir=folder))
    try:
        copy = work / "with-indexes.sqlite3"
        shutil.copyfile(db, copy)
        conn = sqlite3.connect(copy)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("CREATE INDEX ix_credit_notes_invoice_id ON credit_notes (invoice_id)")
        conn.execute(
            "CREATE INDEX ix_payment_allocations_invoice_id ON payment_allocations (invoice_id)"
        )
        conn.commit()
        conn.close()
        return copy.stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)


def key_blob_saving(conn: sqlite3.Connection) -> int:
    """Bytes saved if every 36-character text key (37 bytes with its header) were stored as a
    16-byte blob (17): in its row, and in each index entry (its own columns and the row's key)."""
    saved = 0
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '%fts%'")]  # fmt: skip
    for table in tables:
        keys = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                if str(r[2]).upper() == "VARCHAR(36)"]  # fmt: skip
        if not keys:
            continue
        rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        filled = sum(
            conn.execute(f'SELECT count("{k}") FROM "{table}"').fetchone()[0] for k in keys
        )
        per_row_in_indexes = 0
        for (index,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).fetchall():
            columns = [r[2] for r in conn.execute(f'PRAGMA index_info("{index}")')]
            per_row_in_indexes += sum(1 for c in columns if c in keys) + 1
        saved += 20 * (filled + rows * per_row_in_indexes)
    return saved
