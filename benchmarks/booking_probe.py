"""Where a booking's time goes on the 10-year clinic, beside the raw INSERT + COMMIT of
``bench_diary`` (issue 21): WAL frames per commit, checkpoints landing in a write, CPU profile.

    python -m benchmarks.booking_probe frames      # WAL frames (4 KiB pages) per commit
    python -m benchmarks.booking_probe checkpoints # which writes ran a checkpoint, their times
    python -m benchmarks.booking_probe profile     # cProfile of 60 bookings (CPU)
    python -m benchmarks.booking_probe book N      # N bookings only (run under strace -c)
    python -m benchmarks.booking_probe raw N       # N raw inserts only

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
    def __init__(self) -> None:
        from frontdesk.db.types import from_sqlite_utc_value, key_blob, key_text
        from frontdesk.domain.clock import FakeClock
        from frontdesk.domain.ids import uuid7
        from frontdesk.paths import DeskPaths
        from frontdesk.services import diary
        from frontdesk.services.desk import open_desk
        from frontdesk.services.diary import BookingRequest
        from frontdesk.services.diary.groups import next_available

        folder = Bench().fresh_scale_dir()
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
            diary.book(ctx, req, allow_clash=True)

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


def main(argv: list[str]) -> None:
    what = argv[0] if argv else "frames"
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
