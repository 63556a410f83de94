"""Sync benchmarks on loopback against a real ``frontdesk-server`` process:

- 10,000 changes made offline on one desk, pushed, and pulled by a second desk (end to end),
  against raw sqlite3 inserts of the same rows;
- a sync with nothing to do, on an empty desk and on the 10-year clinic, against one bare HTTP
  round trip to the same server;
- the first sync of the 10-year clinic onto a new desk (rows per second), against a raw sqlite3
  copy of the same rows;
- a booking on one desk visible on another online desk (p95), with the change notification
  long-poll, against a raw sqlite3 insert of one row.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import keyring
from keyring.backend import KeyringBackend

from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.models import Appointment, Practitioner
from frontdesk.paths import DeskPaths
from frontdesk.protocol import Endpoint
from frontdesk.server.seed import seed_from_desk
from frontdesk.server.store import ServerStore
from frontdesk.services.desk import open_desk
from frontdesk.sync.setup import engine_for, enrol

START = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


class ServerProcess:
    """``db``: a SQLite file, or a PostgreSQL URL with ``log`` for the server's output;
    ``extra``: more ``run`` options (``--workers 2``)."""

    def __init__(self, db: Path | str, *extra: str, log: Path | None = None) -> None:
        self.db = db
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = ServerStore(str(db))
        self.store.init()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "frontdesk.server.cli",
                "--database",
                str(db),
                "run",
                "--port",
                str(self.port),
                *extra,
            ],
            stderr=open(log or Path(db).with_suffix(".log"), "w"),  # noqa: SIM115
        )
        for _ in range(200):
            try:
                httpx.get(f"{self.url}{Endpoint.HEALTH}", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def desk(self, folder: Path, name: str):  # type: ignore[no-untyped-def]
        ctx = open_desk(DeskPaths(folder), clock=demo_clock())
        enrol(ctx, self.url, self.store.create_enrolment_code(name), device_name=name)
        return ctx, engine_for(ctx)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.store.dispose()


def run(bench: Bench) -> None:
    keyring.set_keyring(_MemoryKeyring())
    work = Path(tempfile.mkdtemp(prefix="fd-bench-sync-"))
    try:
        _offline_changes(bench, work / "offline")
        _scale(bench, work / "scale")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _offline_changes(bench: Bench, work: Path) -> None:
    work.mkdir(parents=True)
    server = ServerProcess(work / "server.sqlite3")
    try:
        a_ctx, a = server.desk(work / "a", "Front desk")
        b_ctx, b = server.desk(work / "b", "Back office")
        with a_ctx.write("add practitioner") as s:
            p = Practitioner(
                first_name="Bench",
                last_name="Mark",
                display_name="Bench Mark",
                profession="Physiotherapist",
            )
            s.add(p)
            s.flush()
            prac = p.id
        a.sync()
        b.sync()
        noop = time_ms(b.sync, repeat=30, warmup=3)
        client = httpx.Client()
        health = time_ms(lambda: client.get(f"{server.url}{Endpoint.HEALTH}"), repeat=30, warmup=3)
        bench.record(
            "sync: no-op sync, empty desk",
            "p95",
            percentile(noop, 95),
            "ms",
            percentile(health, 95),
            "baseline: one bare HTTP round trip",
        )
        # 10,000 changes offline: 5,000 bookings and 5,000 moves, in transactions of 100.
        ids: list[str] = []
        for batch in range(50):
            with a_ctx.write("book") as s:
                for n in range(100):
                    start = START + timedelta(minutes=30 * (batch * 100 + n))
                    appt = Appointment(
                        practitioner_id=prac, starts_at=start, ends_at=start + timedelta(minutes=30)
                    )
                    s.add(appt)
                    s.flush()
                    ids.append(appt.id)
        for batch in range(50):
            with a_ctx.write("move") as s:
                for appt_id in ids[batch * 100 : (batch + 1) * 100]:
                    appt = s.get(Appointment, appt_id)
                    assert appt is not None
                    appt.notes = "moved"
                    appt.starts_at += timedelta(minutes=5)
                    appt.ends_at += timedelta(minutes=5)
        started = time.perf_counter()
        pushed = a.sync()
        mid = time.perf_counter()
        pulled = b.sync()
        took = (time.perf_counter() - started) * 1000
        print(
            f"    push (and pull back) {mid - started:.1f} s, pull on desk B "
            f"{time.perf_counter() - mid:.1f} s"
        )
        assert pulled.pulled >= 10_000, pulled
        # Baseline: raw sqlite3 inserts of the same appointment and audit rows.
        src = sqlite3.connect(b_ctx.engine.url.database or "")
        rows = src.execute("SELECT * FROM appointments").fetchall()
        audit = src.execute("SELECT * FROM audit_events").fetchall()
        schema = [
            r[0]
            for r in src.execute(
                "SELECT sql FROM sqlite_master WHERE name IN ('appointments','audit_events')"
            )
        ]
        src.close()
        dst = sqlite3.connect(work / "raw.sqlite3", isolation_level=None)
        for sql in schema:
            dst.execute(sql)
        t0 = time.perf_counter()
        dst.execute("BEGIN")
        dst.executemany(f"INSERT INTO appointments VALUES ({','.join('?' * len(rows[0]))})", rows)
        dst.executemany(f"INSERT INTO audit_events VALUES ({','.join('?' * len(audit[0]))})", audit)
        dst.execute("COMMIT")
        raw = (time.perf_counter() - t0) * 1000
        dst.close()
        bench.record(
            "sync: 10,000 offline changes pushed + pulled",
            "total",
            took,
            "ms",
            raw,
            f"{pushed.pushed} mutations pushed, {pulled.pulled} rows pulled; "
            "baseline: raw inserts of the same rows",
        )
        _visible_latency(bench, server, a_ctx, a, b_ctx, b, prac)
        for ctx in (a_ctx, b_ctx):
            ctx.engine.dispose()
    finally:
        server.stop()


def _visible_latency(bench, server, a_ctx, a, b_ctx, b, prac) -> None:  # type: ignore[no-untyped-def]
    """Desk B listens with the long-poll and syncs when told, as the desk's worker does."""
    stop = threading.Event()
    seen: dict[str, float] = {}

    def listen() -> None:
        while not stop.is_set():
            if b.wait_for_change(timeout_s=5):
                b.sync()
                with b_ctx.read() as s:
                    for appt_id in list(pending):
                        if s.get(Appointment, appt_id) is not None:
                            seen[appt_id] = time.perf_counter()
                            pending.discard(appt_id)

    pending: set[str] = set()
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    samples = []
    for n in range(20):
        start = START + timedelta(days=400, minutes=30 * n)
        t0 = time.perf_counter()
        with a_ctx.write("book") as s:
            appt = Appointment(
                practitioner_id=prac, starts_at=start, ends_at=start + timedelta(minutes=30)
            )
            s.add(appt)
            s.flush()
            appt_id = appt.id
        pending.add(appt_id)
        a.sync()
        deadline = time.perf_counter() + 10
        while appt_id not in seen and time.perf_counter() < deadline:
            time.sleep(0.005)
        samples.append((seen.get(appt_id, time.perf_counter()) - t0) * 1000)
    stop.set()
    raw_db = Path(tempfile.mkdtemp()) / "raw.sqlite3"
    conn = sqlite3.connect(raw_db, isolation_level=None)
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT)")
    counter = iter(range(10**6))
    raw = time_ms(
        lambda: conn.execute("INSERT INTO t VALUES (?, 'x', 'y')", (str(next(counter)),)), repeat=20
    )
    conn.close()
    bench.record(
        "sync: booking visible on another desk",
        "p95",
        percentile(samples, 95),
        "ms",
        percentile(raw, 95),
        "push + long-poll notice + pull; baseline: raw insert",
    )


def _scale(bench: Bench, work: Path) -> None:
    work.mkdir(parents=True)
    scale = bench.scale_dir()
    server_db = work / "server.sqlite3"
    store = ServerStore(str(server_db))
    store.init()
    counts = seed_from_desk(store, scale)
    store.dispose()
    total_rows = sum(counts.values())
    server = ServerProcess(server_db)
    try:
        started = time.perf_counter()
        ctx, engine = server.desk(work / "new-desk", "New desk")
        summary = engine.sync()
        took = time.perf_counter() - started
        rate = summary.snapshot_rows / took
        # Baseline: raw sqlite3 copy of the same tables (ATTACH + INSERT … SELECT).
        raw_dir = work / "raw"
        raw_dir.mkdir()
        raw_ctx = open_desk(DeskPaths(raw_dir), clock=demo_clock())
        raw_ctx.engine.dispose()
        conn = sqlite3.connect(raw_dir / "frontdesk.sqlite3", isolation_level=None)
        conn.execute("ATTACH DATABASE ? AS src", (str(server_db),))
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        copied = 0
        for name, n in counts.items():
            if n and name not in ("clinic_settings",):
                cur = conn.execute(
                    f'INSERT OR IGNORE INTO main."{name}" SELECT * FROM src."{name}"'
                )
                copied += cur.rowcount
        conn.execute("COMMIT")
        raw_rate = copied / (time.perf_counter() - t0)
        conn.close()
        bench.record(
            "sync: first sync of the 10-year clinic",
            "rate",
            rate,
            "per_s",
            raw_rate,
            f"{summary.snapshot_rows:,} of {total_rows:,} rows in {took:.0f} s; "
            "baseline: raw sqlite3 copy",
        )
        noop = time_ms(engine.sync, repeat=30, warmup=3)
        client = httpx.Client()
        health = time_ms(lambda: client.get(f"{server.url}{Endpoint.HEALTH}"), repeat=30, warmup=3)
        bench.record(
            "sync: no-op sync, 10-year desk",
            "p95",
            percentile(noop, 95),
            "ms",
            percentile(health, 95),
            "baseline: one bare HTTP round trip",
        )
        # Interleaved with an empty desk on an empty server, so both meet the same disk (the
        # first sync's 2.5 GB are still being written back when this starts).
        small = ServerProcess(work / "small.sqlite3")
        try:
            _e_ctx, empty = small.desk(work / "empty-desk", "Empty desk")
            empty.sync()
            big_samples: list[float] = []
            empty_samples: list[float] = []
            for _ in range(40):
                big_samples += time_ms(engine.sync, repeat=1, warmup=0)
                empty_samples += time_ms(empty.sync, repeat=1, warmup=0)
            bench.record(
                "sync: no-op sync, 10-year desk vs empty desk (interleaved)",
                "p95",
                percentile(big_samples, 95),
                "ms",
                percentile(empty_samples, 95),
                f"p50 {percentile(big_samples, 50):.1f} vs {percentile(empty_samples, 50):.1f} ms",
            )
        finally:
            small.stop()
        ctx.engine.dispose()
    finally:
        server.stop()
