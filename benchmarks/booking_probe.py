"""Where a booking's time goes on the 10-year clinic, beside the raw INSERT + COMMIT of
``bench_diary`` (issue 21): WAL frames per commit, checkpoints landing in a write, CPU profile.

    python -m benchmarks.booking_probe frames      # WAL frames (4 KiB pages) per commit
    python -m benchmarks.booking_probe checkpoints # which writes ran a checkpoint, their times
    python -m benchmarks.booking_probe profile     # cProfile of 60 bookings (CPU)
    python -m benchmarks.booking_probe book N      # N bookings only (run under strace -c)
    python -m benchmarks.booking_probe raw N       # N raw inserts only
    python -m benchmarks.booking_probe ab OLD.py   # interleaved A/B on two copies: OLD.py is
        the diary's appointments.py before this change (git show main:…), run with SQLite's
        own checkpoints (1,000 pages, inside a commit) against this code with db/checkpoint.py

Runs on a private copy of the cached clinic (``Bench.fresh_scale_dir``), never the cache.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.harness import Bench, percentile

TZ = ZoneInfo("Australia/Sydney")
FRAME = 4096 + 24  # page size + frame header


class Probe:
    def __init__(self, folder: Path | None = None, book_fn: Any = None) -> None:
        from frontdesk.db.types import from_sqlite_utc_value, key_blob, key_text
        from frontdesk.domain.clock import FakeClock
        from frontdesk.domain.ids import uuid7
        from frontdesk.paths import DeskPaths
        from frontdesk.services import diary
        from frontdesk.services.desk import open_desk
        from frontdesk.services.diary import BookingRequest
        from frontdesk.services.diary.groups import next_available

        folder = folder or Bench().fresh_scale_dir()
        self.db = folder / "frontdesk.sqlite3"
        raw = sqlite3.connect(self.db)
        last = raw.execute("SELECT max(starts_at) FROM appointments").fetchone()[0]
        today = from_sqlite_utc_value(last).astimezone(TZ).date() - timedelta(weeks=4)
        clock = FakeClock(datetime.combine(today, dtime(7, 0), TZ).astimezone(UTC))
        self.ctx = ctx = open_desk(DeskPaths(folder), clock=clock)
        slots = next_available(ctx, duration_minutes=30, limit=60, starting=today + timedelta(1))
        patients = [key_text(r[0]) for r in raw.execute(
            "SELECT id FROM patients WHERE archived_at IS NULL LIMIT 200").fetchall()]  # fmt: skip
        raw.close()
        self.writer = sqlite3.connect(self.db, isolation_level=None)
        self.writer.execute("PRAGMA synchronous=FULL")
        from frontdesk.db.checkpoint import BACKSTOP_PAGES

        ckpt = os.environ.get("PROBE_AUTOCHECKPOINT", str(BACKSTOP_PAGES))
        self.writer.execute(f"PRAGMA wal_autocheckpoint={int(ckpt)}")
        n = iter(range(10**6))
        m = iter(range(10**6))

        def book() -> None:
            i = next(n)
            s = slots[i % len(slots)]
            req = BookingRequest(s.practitioner_id, s.start, s.end, patients[i % 200])
            (book_fn or diary.book)(ctx, req, allow_clash=True)

        def raw_insert() -> None:
            i = next(m)
            s = slots[i % len(slots)]
            now = clock.now()
            self.writer.execute("BEGIN IMMEDIATE")
            self.writer.execute(
                "INSERT INTO appointments (id, version, created_at, updated_at, practitioner_id, "
                "patient_id, starts_at, ends_at, status, cancellation_note, is_group, capacity, "
                "notes, clash_flagged) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 'booked', '', 0, 1, '', 0)",
                (key_blob(uuid7()), _v(now), _v(now), key_blob(s.practitioner_id),
                 key_blob(patients[i % 200]), _v(s.start), _v(s.end)),
            )  # fmt: skip
            self.writer.execute("COMMIT")

        self.book: Callable[[], None] = book
        self.raw: Callable[[], None] = raw_insert

    def wal_frames(self) -> int:
        wal = Path(f"{self.db}-wal")
        return max(0, (wal.stat().st_size - 32) // FRAME) if wal.exists() else 0

    def truncate(self) -> None:
        self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _v(value: datetime) -> int:
    from frontdesk.db.types import sqlite_utc_value

    return int(sqlite_utc_value(value))


def frames(p: Probe, n: int = 40) -> None:
    """With checkpoints held off, the WAL only grows: its size after each commit is the frames
    (pages) that commit wrote and fsynced."""
    from sqlalchemy import event

    for conn in (p.writer,):
        conn.execute("PRAGMA wal_autocheckpoint=0")

    def no_ckpt(dbapi: Any, _rec: Any) -> None:
        dbapi.execute("PRAGMA wal_autocheckpoint=0")

    event.listen(p.ctx.engine, "connect", no_ckpt)
    p.ctx.engine.dispose()
    p.book()
    p.raw()  # warm
    p.truncate()
    for name, fn in (("booking", p.book), ("raw insert", p.raw)):
        out = []
        for _ in range(n):
            before = p.wal_frames()
            fn()
            out.append(p.wal_frames() - before)
        print(f"{name:<11} frames per commit: p50 {percentile(out, 50):.0f}  "
              f"min {min(out)}  max {max(out)}  mean {sum(out) / n:.1f}  "
              f"(≈ {sum(out) / n * FRAME / 1024:.0f} KiB written and fsynced)")  # fmt: skip
    pages_by_table(p)


def pages_by_table(p: Probe) -> None:
    """Which b-trees one booking dirties: the WAL's frames after one booking, by page number,
    mapped to their table or index through dbstat."""
    import struct

    p.truncate()
    p.book()
    data = Path(f"{p.db}-wal").read_bytes()
    pages = set()
    off = 32
    while off + FRAME <= len(data):
        (pgno,) = struct.unpack(">I", data[off : off + 4])
        pages.add(pgno)
        off += FRAME
    conn = sqlite3.connect(p.db)
    try:
        rows = conn.execute(
            f"SELECT name, pageno FROM dbstat WHERE pageno IN ({','.join(map(str, pages))})"
        ).fetchall()
    except sqlite3.OperationalError as err:
        print("dbstat:", err)
        return
    finally:
        conn.close()
    by: dict[str, int] = {}
    for name, _pg in rows:
        by[name] = by.get(name, 0) + 1
    print(f"one booking: {(len(data) - 32) // FRAME} frames, {len(pages)} distinct pages")
    for name, count in sorted(by.items(), key=lambda kv: -kv[1]):
        print(f"  {count:>3}  {name}")
    print(f"  {len(pages) - len(rows):>3}  (not a b-tree page: header / freelist)")


def checkpoints(p: Probe, n: int = 150) -> None:
    """Interleaved as bench_diary runs them: which writes found the main file changed (a
    checkpoint ran inside them) and what they took."""
    db = p.db
    rows = []
    for _ in range(n):
        for name, fn in (("book", p.book), ("raw", p.raw)):
            mtime = db.stat().st_mtime_ns
            t0 = time.perf_counter()
            fn()
            ms = (time.perf_counter() - t0) * 1000
            rows.append((name, ms, db.stat().st_mtime_ns != mtime))
    for name in ("book", "raw"):
        mine = [r for r in rows if r[0] == name]
        ck = [r[1] for r in mine if r[2]]
        plain = [r[1] for r in mine if not r[2]]
        print(f"{name:<5} {len(mine)} writes: {len(ck)} ran a checkpoint "
              f"({', '.join(f'{x:.1f}' for x in ck)} ms); the others p50 "
              f"{percentile(plain, 50):.2f} p95 {percentile(plain, 95):.2f} ms")  # fmt: skip
    allms = {n: [r[1] for r in rows if r[0] == n] for n in ("book", "raw")}
    for name, ms in allms.items():
        print(f"{name:<5} all: p50 {percentile(ms, 50):.2f} p95 {percentile(ms, 95):.2f} ms")


def profile(p: Probe, n: int = 60) -> None:
    import cProfile
    import pstats

    for _ in range(5):
        p.book()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        p.book()
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def _copy_synced(name: str) -> Path:
    """A private copy of the cached clinic, fsynced, so no checkpoint pays for the copy."""
    import shutil

    from benchmarks.harness import CACHE, ensure_scale_db

    folder = CACHE / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(ensure_scale_db(Bench()) / "frontdesk.sqlite3", folder / "frontdesk.sqlite3")
    fd = os.open(folder / "frontdesk.sqlite3", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return folder


def ab(old_source: str, rounds: int = 120, pause_every: int = 10) -> None:
    """Old and new code paths on two copies of the clinic, interleaved (old booking, old raw,
    new booking, new raw), with a pause of a second every ``pause_every`` rounds as a
    receptionist pauses (the new desk's idle checkpoint runs then; the old desk's checkpoints
    run inside whichever commit crosses 1,000 pages)."""
    import importlib.util

    from sqlalchemy import event

    spec = importlib.util.spec_from_file_location("old_appointments", old_source)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_appointments"] = old  # its dataclasses look their module up
    spec.loader.exec_module(old)
    a = Probe(_copy_synced("ab-old"), book_fn=old.book)
    b = Probe(_copy_synced("ab-new"))

    def sqlite_default(dbapi: Any, _rec: Any) -> None:
        dbapi.execute("PRAGMA wal_autocheckpoint=1000")

    event.listen(a.ctx.engine, "connect", sqlite_default)
    a.ctx.engine.dispose()
    a.ctx.checkpoints = None
    a.writer.execute("PRAGMA wal_autocheckpoint=1000")
    for p in (a, b):
        p.book()
        p.raw()
    times: dict[str, list[float]] = {k: [] for k in ("old", "old raw", "new", "new raw")}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    ckpt = {"old": 0, "new": 0}
    for r in range(rounds):
        for name, p in (("old", a), ("new", b)):
            mtime = p.db.stat().st_mtime_ns
            t0, c0 = time.perf_counter(), time.process_time()
            p.book()
            times[name].append((time.perf_counter() - t0) * 1000)
            cpu[name].append((time.process_time() - c0) * 1000)
            ckpt[name] += p.db.stat().st_mtime_ns != mtime
            t0 = time.perf_counter()
            p.raw()
            times[f"{name} raw"].append((time.perf_counter() - t0) * 1000)
        if (r + 1) % pause_every == 0:
            time.sleep(1.0)
    assert b.ctx.checkpoints is not None
    for name in ("old", "new"):
        ours, raw = times[name], times[f"{name} raw"]
        print(f"{name}: book p50 {percentile(ours, 50):.2f} p95 {percentile(ours, 95):.2f} ms, "
              f"raw p50 {percentile(raw, 50):.2f} p95 {percentile(raw, 95):.2f} ms, ratio p50 "
              f"{percentile(ours, 50) / percentile(raw, 50):.2f} p95 "
              f"{percentile(ours, 95) / percentile(raw, 95):.2f}; CPU p50 "
              f"{percentile(cpu[name], 50):.2f} p95 {percentile(cpu[name], 95):.2f} ms; "
              f"{ckpt[name]} bookings ran a checkpoint")  # fmt: skip
    print(f"new: {b.ctx.checkpoints.runs} idle checkpoints, last {b.ctx.checkpoints.last}")
    for p in (a, b):
        p.ctx.engine.dispose()


def main(argv: list[str]) -> None:
    what = argv[0] if argv else "frames"
    if what == "ab":
        ab(argv[1])
        return
    p = Probe()
    if what == "frames":
        frames(p)
    elif what == "checkpoints":
        checkpoints(p)
    elif what == "profile":
        profile(p)
    elif what in ("book", "raw"):
        count = int(argv[1]) if len(argv) > 1 else 50
        fn = p.book if what == "book" else p.raw
        fn()
        print("pid", os.getpid(), "start", flush=True)
        for _ in range(count):
            fn()
    p.ctx.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
