"""The sync check's per-table figures on the 10-year clinic (frontdesk/db/sync_totals.py):

- the check's figures for ``appointments`` and ``audit_events`` (the tables an API booking
  touches) read from ``sync_table_totals`` against counting the tables, as the check did
  before — on the desk, and on a SQLite server seeded from it (``check_answer``'s read);
- what the triggers cost a bulk load: 200,000 of the clinic's appointments written with
  ``executemany`` as the snapshot loader writes them into an empty desk, (a) the triggers
  paused (a first sync), (b) the triggers on (a re-sync of a table that is not empty) — each
  against the same load with the triggers dropped (what the desk was before), interleaved.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.db import sync_totals
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk

TABLES = ["appointments", "audit_events"]
LOAD_ROWS = 200_000


def run(bench: Bench) -> None:
    scale = bench.scale_dir()
    ctx = open_desk(DeskPaths(scale), clock=demo_clock())
    with ctx.write("bench: rows synced") as s:  # as after enrolment: versions from 1
        for name in TABLES:
            s.execute(text(f"UPDATE {name} SET version = 1 WHERE version = 0"))

    def kept() -> None:
        with ctx.read() as s:
            sync_totals.kept(lambda q: s.execute(text(q)).all(), TABLES)

    def counted() -> None:
        with ctx.read() as s:
            sync_totals.recount(lambda q: s.execute(text(q)).all(), TABLES)

    ours = time_ms(kept, repeat=30, warmup=3)
    old = time_ms(counted, repeat=5, warmup=1)
    rows = _count(scale / "frontdesk.sqlite3")
    about = f"kept figures vs counting the tables ({rows:,} rows), as the check did before"
    bench.record("sync check figures, 10-year desk (appointments + audit_events)", "p95",
                 percentile(ours, 95), "ms", percentile(old, 95), about)  # fmt: skip
    ctx.engine.dispose()
    _load(bench, scale / "frontdesk.sqlite3")


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return sum(int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES)
    finally:
        conn.close()


def _load(bench: Bench, source: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="fd-bench-totals-"))
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        cols = [r[1] for r in src.execute("PRAGMA table_info(appointments)")]
        rows = src.execute(
            f"SELECT {', '.join(cols)} FROM appointments LIMIT {LOAD_ROWS}"
        ).fetchall()
        src.close()
        rows = [tuple(1 if c == "version" else v for c, v in zip(cols, r, strict=True))
                for r in rows]  # fmt: skip
        sql = (f"INSERT INTO appointments ({', '.join(cols)}) "
               f"VALUES ({', '.join('?' * len(cols))})")  # fmt: skip
        template = work / "template.sqlite3"
        ctx = open_desk(DeskPaths(work / "t"), clock=demo_clock())
        ctx.engine.dispose()
        shutil.copy2(work / "t" / "frontdesk.sqlite3", template)

        def one(mode: str) -> float:
            db = work / f"{mode}.sqlite3"
            shutil.copy2(template, db)
            conn = sqlite3.connect(db, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = OFF")  # parents are not copied here
            if mode.startswith("without"):
                for suffix in ("ai", "ad", "au"):
                    conn.execute(f"DROP TRIGGER sync_totals_appointments_{suffix}")
            paused = int(mode.endswith("paused"))  # the reports' triggers too, as on a first sync
            conn.execute(f"UPDATE ledger_summary_state SET paused = {paused}")
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
            took = time.perf_counter() - t0
            conn.close()
            db.unlink()
            return len(rows) / took

        modes = ("without paused", "with paused", "without on", "with on")
        rates: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(3):
            for mode, got in rates.items():
                got.append(one(mode))
        for state, label in (("paused", "triggers paused (first sync)"),
                             ("on", "triggers on (re-sync, pulls)")):  # fmt: skip
            bench.record(f"bulk load of {LOAD_ROWS:,} appointments, {label}", "rate",
                         max(rates[f"with {state}"]), "per_s", max(rates[f"without {state}"]),
                         "best of 3, interleaved; baseline: the same load without the "
                         "totals' triggers (the summaries' switch the same)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
