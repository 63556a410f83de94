"""What a year of kept backups really takes (issue 21: 7 daily, 4 weekly, 12 monthly backups
≤ 3× the database). On a copy of the 10-year clinic, FRONTDESK_BENCH_BACKUP_DAYS (30) real days
are simulated — each DAY_BOOKINGS bookings and the day's check-outs through the services
(bench_storage.a_day), the clock moved a day, then the daily backup and prune exactly as the app
runs them — and every backup's manifest is kept in memory. From those:

* the new chunk bytes after 1, 7 and 30 days (a chunk changed on many days counts once);
* the real backups folder after the days, with the prune (and after the 6-hour grace the
  prune leaves young unlisted chunks);
* the year: the 23 kept backups' union is at most the oldest kept one plus, for each next kept
  backup, the chunks new since the one before it — the gaps worked out from the prune rule on a
  year of daily backups, each gap's bytes from the measured 1/7/30-day figures;
* the database's own growth over the days (the goal is a ratio to the database).

Each figure is printed against the database's size in the same run. The days' manifests and
file sizes are cached in FRONTDESK_BENCH_CACHE (a rerun with the same code prints them again
at once; FRONTDESK_BENCH_BACKUP_YEAR_FRESH=1 simulates afresh). With
FRONTDESK_BENCH_BACKUP_COPIES=1 the database is also copied on days 0, 1, 7 and the last (for
the page-by-page analysis in docs/performance.md section 2)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.bench_storage import a_day
from benchmarks.harness import CACHE, DEMO_TODAY, ROOT, Bench, demo_clock, schema_key
from frontdesk.db import backup_store
from frontdesk.domain.backup_retention import backups_to_keep
from frontdesk.paths import desk_paths
from frontdesk.services import backups
from frontdesk.services.desk import open_desk

DAYS = int(os.environ.get("FRONTDESK_BENCH_BACKUP_DAYS", "30"))
FRESH = os.environ.get("FRONTDESK_BENCH_BACKUP_YEAR_FRESH") == "1"
DAY_BOOKINGS = int(os.environ.get("FRONTDESK_BENCH_DAY_BOOKINGS", "275"))  # as bench_storage
COPIES = os.environ.get("FRONTDESK_BENCH_BACKUP_COPIES") == "1"
SPANS = (1, 7, 30)


def _code_key() -> str:
    digest = hashlib.sha256(schema_key().encode())
    for part in ("frontdesk/db/backup_store.py", "benchmarks/bench_storage.py",
                 "benchmarks/bench_backups_year.py", "frontdesk/services/backups.py"):  # fmt: skip
        digest.update((ROOT / part).read_bytes())
    digest.update(f"{DAYS}/{DAY_BOOKINGS}".encode())
    return digest.hexdigest()[:16]


def simulate(bench: Bench) -> dict[str, Any]:
    """The simulated days: per day the newest backup's chunks ({digest: packed}), the
    database's size, the folder on the disk, the backups kept, and the day's seconds."""
    folder = bench.fresh_scale_dir()
    paths = desk_paths(folder)
    ctx = open_desk(paths, clock=demo_clock())
    clock, tz = ctx.clock, ctx.tz
    raw = sqlite3.connect(paths.database)
    shutil.rmtree(paths.backups, ignore_errors=True)
    copies = CACHE / "backups-year-copies"
    days: list[dict[str, Any]] = []

    def settle() -> int:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return backups.database_bytes(paths.database)

    def after_backup(day: int, seconds: dict[str, float]) -> None:
        daily = [b for b in backups.list_backups(paths.backups) if b.kind == "daily"]
        manifest = backup_store.read_manifest(daily[0].path)
        days.append({
            "day": day,
            "database": settle(),
            "chunks": {c.digest: c.packed for c in manifest.chunks},
            "folder": backups.folder_bytes(paths.backups),
            "kept": len(daily),
            "seconds": seconds,
        })  # fmt: skip
        if COPIES and day in {0, 1, 7, DAYS}:
            copies.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(paths.database, copies / f"day{day:02d}.sqlite3")
        new = sum(p for d, p in days[-1]["chunks"].items() if d not in days[-2]["chunks"]) if (
            day) else sum(days[0]["chunks"].values())  # fmt: skip
        print(f"  day {day:>2}: database {days[-1]['database'] / 1e6:,.1f} MB, new chunks "
              f"{new / 1e6:.1f} MB, folder {days[-1]['folder'] / 1e6:,.0f} MB, "
              f"{len(daily)} daily kept; {seconds}", flush=True)  # fmt: skip

    try:
        settle()
        started = time.perf_counter()
        backups.daily_backup_if_due(paths, clock, tz)
        after_backup(0, {"backup": round(time.perf_counter() - started, 1)})
        for day in range(1, DAYS + 1):
            started = time.perf_counter()
            a_day(ctx, raw, day - 1, DAY_BOOKINGS)
            clock.advance(timedelta(days=1))
            middle = time.perf_counter()
            backups.daily_backup_if_due(paths, clock, tz)  # backup, prune, full check
            after_backup(day, {"day": round(middle - started, 1),
                               "backup": round(time.perf_counter() - middle, 1)})  # fmt: skip
        # what the prune frees once the chunks are past their grace (6 hours, by the files'
        # clock: every chunk here is younger in real time)
        future = backup_store.fs_now(paths.backups / backup_store.CHUNKS)
        backup_store.collect_garbage(paths.backups, now=future + backup_store.GRACE_SECONDS + 1)
        return {
            "days": days,
            "folder_after_grace": backups.folder_bytes(paths.backups),
            "tz": str(tz),
        }
    finally:
        raw.close()
        ctx.engine.dispose()


def new_bytes(older: dict[str, int], newer: dict[str, int]) -> int:
    """Packed bytes of the chunks ``newer`` lists and ``older`` does not."""
    return sum(p for d, p in newer.items() if d not in older)


def kept_gaps(tz: ZoneInfo, end: datetime) -> list[int]:
    """Days between consecutive kept backups after a year of daily backups ending at ``end``
    (by the prune rule itself), oldest first."""
    stamps = [end - timedelta(days=n) for n in range(400)]
    kept = sorted(backups_to_keep(stamps, tz))
    return [(b - a).days for a, b in itertools.pairwise(kept)]


def span_bytes(measured: dict[int, float], gap: int) -> float:
    """New bytes over ``gap`` days, never less than the truth: the figure measured over the
    shortest measured span at least as long (what a shorter span writes, a longer one holds
    too, give or take a chunk changed back), and past the longest in proportion to it (the
    curve bends down: chunks changed again count once)."""
    for span in sorted(measured):
        if gap <= span:
            return measured[span]
    longest = max(measured)
    return measured[longest] * gap / longest


def run(bench: Bench) -> None:
    cache = CACHE / f"backups-year-{_code_key()}.json"
    started = time.perf_counter()
    if cache.exists() and not FRESH:
        data = json.loads(cache.read_text())
        print(f"  (the {DAYS} simulated days from {cache.name}; "
              "FRONTDESK_BENCH_BACKUP_YEAR_FRESH=1 simulates again)", flush=True)  # fmt: skip
    else:
        data = simulate(bench)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(data))
        print(f"  simulated {DAYS} days in {time.perf_counter() - started:.0f} s", flush=True)
    days = data["days"]
    size0, size = days[0]["database"], days[-1]["database"]
    first = sum(days[0]["chunks"].values())
    chunks = [d["chunks"] for d in days]
    note = f"baseline the database ({size0 / 1e6:,.0f} MB before the days)"

    bench.record("backups year: first backup (every chunk)", "total", first / 1e6, "MB",
                 size0 / 1e6, f"{len(chunks[0]):,} chunks; {note}")  # fmt: skip
    measured: dict[int, float] = {}
    for span in SPANS:
        pairs = [(chunks[i], chunks[i + span]) for i in range(len(chunks) - span)]
        if not pairs:
            continue
        values = [new_bytes(a, b) for a, b in pairs]
        measured[span] = sum(values) / len(values)
        bench.record(f"backups year: new chunks over {span} day(s)", "total",
                     measured[span] / 1e6, "MB", size0 / 1e6,
                     f"mean of {len(values)} pair(s) {min(values) / 1e6:.1f}-"
                     f"{max(values) / 1e6:.1f} MB; {note}")  # fmt: skip
    bench.record(f"backups year: database after {len(days) - 1} days", "total", size / 1e6,
                 "MB", size0 / 1e6,
                 f"grew {(size - size0) / 1e6:.1f} MB; baseline the database before")  # fmt: skip
    bench.record(f"backups year: folder after {len(days) - 1} days, pruned", "total",
                 days[-1]["folder"] / 1e6, "MB", size / 1e6,
                 f"{days[-1]['kept']} backups kept; with young chunks (the prune's 6-hour "
                 "grace); baseline the database then")  # fmt: skip
    bench.record(f"backups year: folder after {len(days) - 1} days, past the grace", "total",
                 data["folder_after_grace"] / 1e6, "MB", size / 1e6,
                 f"{days[-1]['kept']} backups kept; baseline the database then")  # fmt: skip

    tz = ZoneInfo(data["tz"])
    # the year's schedule depends on the day of the month it ends: every end date of a year
    end0 = datetime.combine(DEMO_TODAY, datetime.min.time(), tz).replace(hour=7)
    per_day_growth = (size - size0) / max(len(days) - 1, 1)
    years = []
    for shift in range(366):
        gaps = kept_gaps(tz, (end0 + timedelta(days=shift)).astimezone(UTC))
        years.append((first + sum(span_bytes(measured, g) for g in gaps), gaps))
    worst, gaps = max(years)
    kinds = Counter("a day" if g == 1 else "2-13 days" if g < 14 else "14+ days" for g in gaps)
    schedule = ", ".join(f"{n} of {k}" for k, n in sorted(kinds.items()))
    year_db = size0 + per_day_growth * sum(gaps)
    bench.record("backups year: 23 kept over a year, bound, against the database now", "total",
                 worst / 1e6, "MB", size0 / 1e6,
                 f"{len(gaps) + 1} distinct backups over {sum(gaps)} days (the worst of 366 "
                 f"end dates); gaps {schedule}: first + new chunks over each gap "
                 "(each from the mean over the next measured span up); goal <= 3x")  # fmt: skip
    bench.record("backups year: the same bound, against the database a year on", "total",
                 worst / 1e6, "MB", year_db / 1e6,
                 f"the database grown {per_day_growth / 1e6:.2f} MB a day as in the simulated "
                 f"days; best of {min(u for u, _ in years) / size0:.2f}x now")  # fmt: skip
