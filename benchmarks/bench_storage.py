"""Storage on the 10-year clinic (issue 21): the maintained balances checked against the ledger;
"Back up now" into the deduplicating store (first backup, and a second after a day's bookings and
check-outs through the services) against the one-file way before it; the store's size over
simulated days and what 23 kept backups come to; restoring and checking one; and where the
database's bytes go (SQLite's dbstat) — each beside a baseline from the same run: the raw ledger
aggregate, a plain file copy, the database's own size. ``FRONTDESK_BENCH_STORAGE=backups`` runs
the backups part alone (parts: balances, backups, breakdown, rebuilt)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import DEMO_TODAY, ROOT, Bench, demo_clock
from frontdesk.db import backup_store
from frontdesk.db.backup import backup_file
from frontdesk.db.types import key_blob, key_text, sqlite_utc_value
from frontdesk.paths import desk_paths
from frontdesk.services import backups, billing, diary
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.billing.ledger import aged_sql
from frontdesk.services.desk import open_desk
from frontdesk.services.diary import BookingRequest, appointments
from frontdesk.services.diary.groups import next_available

BREAKDOWN = ROOT / "benchmarks" / "storage-breakdown.json"
# Which parts run (all by default), e.g. FRONTDESK_BENCH_STORAGE=backups for the backups alone.
PARTS = set(
    os.environ.get("FRONTDESK_BENCH_STORAGE", "balances,backups,breakdown,rebuilt").split(",")
)
BACKUP_DAYS = int(os.environ.get("FRONTDESK_BENCH_BACKUP_DAYS", "5"))  # simulated days
DAY_BOOKINGS = int(os.environ.get("FRONTDESK_BENCH_DAY_BOOKINGS", "275"))  # the clinic's mean


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(desk_paths(folder), clock=demo_clock())
    paths = desk_paths(folder)
    db = paths.database
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size

    # -- the maintained balances, proved equal to the ledger ------------------------------------
    if "balances" in PARTS:
        started = time.perf_counter()
        check = check_balances(ctx)
        ours = time.perf_counter() - started
        assert check.ok, check.differences[:5]
        params = {"c30": "2026-10-28", "c60": "2026-09-28", "c90": "2026-08-29"}
        started = time.perf_counter()
        raw.execute(aged_sql(), params).fetchall()
        base = time.perf_counter() - started
        bench.record("storage: balances check, whole clinic", "total", ours, "s", base,
                     f"{check.invoices_checked:,} open invoices, "
                     f"{check.debtors_checked:,} debtors equal the ledger; "
                     "baseline one raw aged-debtors aggregate")  # fmt: skip

    # -- back up now, the store's size over days of changes, restore -----------------------------
    if "backups" in PARTS:
        backup_figures(bench, ctx, raw, size)
    if "breakdown" not in PARTS:
        raw.close()
        ctx.engine.dispose()
        return

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
    if "rebuilt" not in PARTS:
        return
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


def _copy_seconds(db: Path, work: Path) -> float:
    """The baseline: a plain copy of the database file (best of two, page cache warm alike)."""
    times = []
    for _ in range(2):
        target = work / "plain-copy.sqlite3"
        started = time.perf_counter()
        shutil.copyfile(db, target)
        times.append(time.perf_counter() - started)
        target.unlink()
    return min(times)


_USUAL: dict[tuple[int, str], str | None] = {}


def _usual_type(raw: sqlite3.Connection, practitioner_id: str) -> str | None:
    """The practitioner's latest appointment type that has a default service: the day's own
    bookings are of it, so later days check them out like the clinic's (untyped bookings were
    never checked out, and the days went quiet once the clinic's booked ones ran out)."""
    if (id(raw), practitioner_id) not in _USUAL:
        row = raw.execute(
            "SELECT a.appointment_type_id FROM appointments a "
            "JOIN appointment_types t ON t.id = a.appointment_type_id "
            "WHERE a.practitioner_id = ? AND t.default_service_id IS NOT NULL "
            "ORDER BY a.starts_at DESC LIMIT 1",
            (key_blob(practitioner_id),),
        ).fetchone()
        _USUAL[(id(raw), practitioner_id)] = key_text(row[0]) if row else None
    return _USUAL[(id(raw), practitioner_id)]


def a_day(ctx: Any, raw: sqlite3.Connection, day: int, bookings: int | None = None) -> int:
    """A clinic's day through the services: ``bookings`` (DAY_BOOKINGS) bookings a week or so
    ahead, and as many of the earliest booked appointments checked out (completed, invoiced,
    issued, paid by EFTPOS). Returns the operations made."""
    bookings = DAY_BOOKINGS if bookings is None else bookings
    slots = next_available(ctx, duration_minutes=30, limit=bookings,
                           starting=DEMO_TODAY + timedelta(days=7 + day))  # fmt: skip
    active = raw.execute("SELECT count(*) FROM patients WHERE archived_at IS NULL").fetchone()[0]
    patients = [key_text(r[0]) for r in raw.execute(  # keys: 16-byte blobs on the desk
        "SELECT id FROM patients WHERE archived_at IS NULL LIMIT ? OFFSET ?",
        (bookings, day * 997 % max(active - bookings, 1)))]  # fmt: skip
    for i, slot in enumerate(slots):
        diary.book(ctx, BookingRequest(slot.practitioner_id, slot.start, slot.end,
                                       patients[i % len(patients)],
                                       _usual_type(raw, slot.practitioner_id)),
                   allow_clash=True)  # fmt: skip
    today = ctx.clock.now().astimezone(ctx.tz).date()
    day_ends = datetime.combine(today + timedelta(days=1), datetime.min.time(), ctx.tz)
    due = [key_text(r[0]) for r in raw.execute(
        "SELECT a.id FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "JOIN appointment_types t ON t.id = a.appointment_type_id "
        "WHERE a.status = 'booked' AND p.archived_at IS NULL AND a.deleted_at IS NULL "
        "AND t.default_service_id IS NOT NULL AND a.starts_at < ? "
        "ORDER BY a.starts_at LIMIT ?",
        (sqlite_utc_value(day_ends), bookings),
    )]  # fmt: skip
    for appointment_id in due:
        appointments.set_status(ctx, appointment_id, "completed")
        invoice_id = billing.invoice_from_appointment(ctx, appointment_id)
        billing.issue_invoice(ctx, invoice_id)
        owing = billing.invoice_view(ctx, invoice_id).total_cents
        billing.take_payment(ctx, method="eftpos", amount_cents=max(owing, 1),
                             invoice_ids=[invoice_id], keep_credit=True)  # fmt: skip
    return len(slots) + len(due)


def backup_figures(bench: Bench, ctx: Any, raw: sqlite3.Connection, size: int) -> None:
    """Back up now (before this round: one compressed file; now: the store, first and second
    backup with a day's changes between), the store's growth over BACKUP_DAYS simulated days,
    and a restore — each against a plain copy of the file in the same run."""
    paths = ctx.paths
    db = paths.database
    store = paths.backups
    shutil.rmtree(store, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=paths.data_dir))
    clock = ctx.clock
    try:
        base = _copy_seconds(db, work)
        started = time.perf_counter()
        one_file = backup_file(db, work / "before.sqlite3.zst")
        before = time.perf_counter() - started
        packed_before = one_file.stat().st_size
        one_file.unlink()
        note = f"{size / 1e6:,.0f} MB database; baseline plain file copy"
        bench.record("storage: back up now, before (one .zst file, quick_check)", "total",
                     before, "s", base, note)  # fmt: skip

        started = time.perf_counter()
        first = backups.backup_now(ctx, thorough=False)
        first_s = time.perf_counter() - started
        manifest = backup_store.read_manifest(first)
        stored = backup_store.chunks_bytes(store)
        bench.record("storage: back up now, store, first backup", "total", first_s, "s", base,
                     f"{len(manifest.chunks):,} chunks, {stored / 1e6:,.0f} MB "
                     f"({stored / size:.2f} of the file; one file before: "
                     f"{packed_before / size:.2f}); read by {manifest.read}; {note}")  # fmt: skip

        started = time.perf_counter()
        ops = a_day(ctx, raw, 0)
        day_s = time.perf_counter() - started
        clock.advance(timedelta(days=1))
        base = _copy_seconds(db, work)
        started = time.perf_counter()
        second = backups.backup_now(ctx, thorough=False)
        second_s = time.perf_counter() - started
        grown = backup_store.chunks_bytes(store) - stored
        changed = len({c.digest for c in backup_store.read_manifest(second).chunks}
                      - {c.digest for c in manifest.chunks})  # fmt: skip
        bench.record("storage: back up now, store, after a day's changes", "total", second_s,
                     "s", base, f"{ops} bookings and checkouts ({day_s:.0f} s) changed "
                     f"{changed:,} of {len(manifest.chunks):,} chunks: {grown / 1e6:.1f} MB "
                     f"new; {before / second_s:.1f}x faster than before; {note}")  # fmt: skip

        # more days, one daily backup each (retention keeps all of them: fewer than 7 days)
        daily: list[int] = [grown]
        for day in range(1, BACKUP_DAYS):
            a_day(ctx, raw, day)
            clock.advance(timedelta(days=1))
            was = backup_store.chunks_bytes(store)
            backups.daily_backup_if_due(paths, clock, ctx.tz)
            daily.append(backup_store.chunks_bytes(store) - was)
        folder = backups.folder_bytes(store)
        kept = len(backups.list_backups(store))
        mean = sum(daily) / len(daily)
        bench.record(f"storage: backups folder, {kept} backups over {BACKUP_DAYS} days",
                     "total", folder / 1e6, "MB", size / 1e6,
                     f"new a day {min(daily) / 1e6:.1f}-{max(daily) / 1e6:.1f} MB "
                     f"(mean {mean / 1e6:.1f}); baseline the database")  # fmt: skip
        # 23 kept (7 daily, 4 weekly, 12 monthly) span a year: at most the first backup plus
        # every day's new chunks for 365 days (an upper bound: a chunk changed on many days is
        # counted on each); 23 consecutive days: the first plus 22 days' new chunks.
        year = stored + 365 * mean
        month = stored + 22 * mean
        bench.record("storage: 23 backups kept, a year's span (upper bound)", "total",
                     year / 1e6, "MB", size / 1e6,
                     f"{year / size:.2f}x the database (goal <= 3x); 23 consecutive "
                     f"days: {month / size:.2f}x; one-file backups: "
                     f"{23 * packed_before / size:.2f}x")  # fmt: skip

        latest = backups.list_backups(store)[0].path
        base = _copy_seconds(db, work)
        started = time.perf_counter()
        backup_store.restore_to(latest, work / "restored.sqlite3")
        restore_s = time.perf_counter() - started
        (work / "restored.sqlite3").unlink()
        bench.record("storage: restore from the store (unpack, every digest checked)", "total",
                     restore_s, "s", base, "baseline plain file copy")  # fmt: skip
        started = time.perf_counter()
        backups.check_backup(latest)
        bench.record("storage: check a backup in the store (every chunk unpacked, digests)",
                     "total", time.perf_counter() - started, "s", base,
                     "baseline plain file copy")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
