"""Sync benchmarks on loopback against a real ``frontdesk-server`` process:

- 10,000 changes made offline on one desk, pushed, and pulled by a second desk (end to end),
  against raw sqlite3 inserts of the same rows; also the CPU time of the desk and the server
  processes for it;
- a sync with nothing to do, on an empty desk and on the 10-year clinic, against one bare HTTP
  round trip to the same server;
- the no-op sync of the 10-year desk against an empty desk's on an empty server, interleaved
  in the same run (issue 21: p95 ≤ 10 ms and ≤ 1.5× the empty desk's), with the requests,
  local transactions and desk CPU a no-op sync takes: on a copy of the cached 10-year desk
  enrolled with its server (``api_server.enrolled_clinic_folder``: a consistent copy through
  SQLite's backup, even while another run writes the cache, synced to disk before anything is
  timed), caught up with one untimed sync;
- the first sync of the 10-year clinic onto a new desk (rows per second), against a raw sqlite3
  copy of the same rows — only with FRONTDESK_BENCH_FIRST_SYNC=1, or when that cache is
  missing (5 million rows take many minutes on a loaded machine); the desk and server it
  leaves become the cache when there is none;
- a booking on one desk visible on another online desk (p95), with the change notification
  long-poll, against a raw sqlite3 insert of one row.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import keyring
from keyring.backend import KeyringBackend
from sqlalchemy import update

from benchmarks.api_server import enrolled_clinic_folder
from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.models import Appointment, Practitioner, SyncState
from frontdesk.paths import DeskPaths
from frontdesk.protocol import Endpoint
from frontdesk.server.seed import seed_from_desk
from frontdesk.server.store import ServerStore
from frontdesk.services.desk import open_desk
from frontdesk.sync import keychain
from frontdesk.sync.engine import SyncFailed
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

    def adopt(self, folder: Path):  # type: ignore[no-untyped-def]
        """A desk already enrolled with this server's database (a cached copy), pointed at
        this run's port."""
        ctx = open_desk(DeskPaths(folder), clock=demo_clock())
        with ctx.write("bench: this run's server port") as s:
            s.execute(update(SyncState).where(SyncState.id == 1).values(server_url=self.url))
        return ctx, engine_for(ctx)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.store.dispose()


def run(bench: Bench) -> None:
    keyring.set_keyring(_MemoryKeyring())
    work = Path(tempfile.mkdtemp(prefix="fd-bench-sync-"))
    try:
        _offline_changes(bench, work / "offline")
        cached = enrolled_clinic_folder()
        if os.environ.get("FRONTDESK_BENCH_FIRST_SYNC") == "1" or not (cached / "ready").exists():
            _scale(bench, work / "scale", keep=cached)
        else:
            print("  (the first sync of the 10-year clinic: FRONTDESK_BENCH_FIRST_SYNC=1)")
            _noop_cached(bench, cached, work / "cached")
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
        _noop_against_round_trip(bench, "sync: no-op sync, empty desk", b, server)
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
        profile = _profiler()
        cpu0, server0 = time.process_time(), server.cpu_seconds()
        started = time.perf_counter()
        pushed = a.sync()
        mid = time.perf_counter()
        cpu1, server1 = time.process_time(), server.cpu_seconds()
        pulled = b.sync()
        took = (time.perf_counter() - started) * 1000
        cpu2, server2 = time.process_time(), server.cpu_seconds()
        if profile is not None:
            profile.disable()
        print(
            f"    push (and pull back) {mid - started:.1f} s, pull on desk B "
            f"{time.perf_counter() - mid:.1f} s; CPU: desks {cpu1 - cpu0:.1f} + "
            f"{cpu2 - cpu1:.1f} s, server {server1 - server0:.1f} + {server2 - server1:.1f} s"
        )
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
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
        raw_cpu = time.process_time()
        dst.execute("BEGIN")
        dst.executemany(f"INSERT INTO appointments VALUES ({','.join('?' * len(rows[0]))})", rows)
        dst.executemany(f"INSERT INTO audit_events VALUES ({','.join('?' * len(audit[0]))})", audit)
        dst.execute("COMMIT")
        raw = (time.perf_counter() - t0) * 1000
        raw_cpu = (time.process_time() - raw_cpu) * 1000
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
        bench.record(
            "sync: 10,000 offline changes, CPU (desks + server)",
            "total",
            (cpu2 - cpu0 + server2 - server0) * 1000,
            "ms",
            raw_cpu,
            f"desk A's push {(cpu1 - cpu0) * 1000:,.0f}, desk B's pull "
            f"{(cpu2 - cpu1) * 1000:,.0f}, server {(server2 - server0) * 1000:,.0f} ms; "
            "baseline: CPU of the raw inserts",
        )
        _visible_latency(bench, server, a_ctx, a, b_ctx, b, prac)
        for ctx in (a_ctx, b_ctx):
            ctx.engine.dispose()
    finally:
        server.stop()


def _profiler() -> cProfile.Profile | None:
    """FRONTDESK_BENCH_SYNC_PROFILE=1: where the desk process's time goes in the push and pull
    of the 10,000 changes (printed, by time spent in each function itself)."""
    if os.environ.get("FRONTDESK_BENCH_SYNC_PROFILE") != "1":
        return None
    profile = cProfile.Profile()
    profile.enable()
    return profile


def _visible_latency(bench, server, a_ctx, a, b_ctx, b, prac) -> None:  # type: ignore[no-untyped-def]
    """Desk B listens with the long-poll and syncs when told, as the desk's worker does."""
    stop = threading.Event()
    seen: dict[str, float] = {}

    def listen() -> None:
        while not stop.is_set():
            try:
                if not b.wait_for_change(timeout_s=5):
                    continue
                b.sync()
                with b_ctx.read() as s:
                    for appt_id in list(pending):
                        if s.get(Appointment, appt_id) is not None:
                            seen[appt_id] = time.perf_counter()
                            pending.discard(appt_id)
            except SyncFailed:
                if stop.is_set():  # the timed part is over: a long-poll or sync cut short
                    return
                raise

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
    thread.join(timeout=10)  # its last long-poll ends within 5 s, before the server stops
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


def _scale(bench: Bench, work: Path, keep: Path) -> None:
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
        _settle(work / "new-desk" / "frontdesk.sqlite3", server_db)
        _noop_figures(bench, server, ctx, engine, work)
        ctx.engine.dispose()
        token = keychain.load_token(work / "new-desk")
    finally:
        server.stop()
    if not (keep / "ready").exists() and token:
        _keep_as_cache(work / "new-desk", server_db, token, keep)


def _keep_as_cache(desk: Path, server_db: Path, token: str, keep: Path) -> None:
    """The desk the first sync made and its server become the cached enrolled clinic (moved,
    not copied), so later runs time the no-op sync on a copy of them without a first sync."""
    shutil.rmtree(keep, ignore_errors=True)
    (keep / "reception").mkdir(parents=True)
    pairs = ((server_db, keep / "server.sqlite3"),
             (desk / "frontdesk.sqlite3", keep / "reception" / "frontdesk.sqlite3"))  # fmt: skip
    for suffix in ("", "-wal", "-shm"):
        for source, dest in pairs:
            if Path(f"{source}{suffix}").exists():
                shutil.move(f"{source}{suffix}", f"{dest}{suffix}")
    # as bench_api_desk's FileKeyring keeps it: the entry named by the desk's folder
    entry = f"{keychain.SERVICE}/{keychain.entry_name(keep / 'reception')}"
    (keep / "keyring.json").write_text(json.dumps({entry: token}))
    (keep / "ready").write_text("")
    print(f"    kept this desk and its server as the cache ({keep})", flush=True)


def _settle(*files: Path) -> None:
    """Wait until what was written to these files is on the disk: a copy's or a first sync's
    gigabytes still being written back make every commit's fsync wait behind them (the first
    figure was once 64.8 ms for that alone)."""
    for path in files:
        for suffix in ("", "-wal"):
            name = f"{path}{suffix}"
            if os.path.exists(name):
                fd = os.open(name, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)


def _noop_against_round_trip(bench: Bench, name: str, engine: Any, server: ServerProcess) -> None:
    noop = time_ms(engine.sync, repeat=30, warmup=3)
    client = httpx.Client()
    health = time_ms(lambda: client.get(f"{server.url}{Endpoint.HEALTH}"), repeat=30, warmup=3)
    bench.record(name, "p95", percentile(noop, 95), "ms", percentile(health, 95),
                 "baseline: one bare HTTP round trip")  # fmt: skip


def _noop_figures(bench: Bench, server: ServerProcess, ctx: Any, engine: Any, work: Path) -> None:
    """The 10-year desk's sync with nothing to do: against a bare round trip, and interleaved
    with an empty desk's on an empty server (the issue's "≤ 1.5× the empty desk"), with what
    each no-op sync does on either desk."""
    _noop_against_round_trip(bench, "sync: no-op sync, 10-year desk", engine, server)
    small = ServerProcess(work / "small.sqlite3")
    try:
        e_ctx, empty = small.desk(work / "empty-desk", "Empty desk")
        empty.sync()
        _settle(work / "empty-desk" / "frontdesk.sqlite3", work / "small.sqlite3")
        big, big_cpu = _Tally(ctx, engine), []
        little, little_cpu = _Tally(e_ctx, empty), []
        big_samples: list[float] = []
        empty_samples: list[float] = []
        servers0 = server.cpu_seconds(), small.cpu_seconds()
        for _ in range(40):  # in turn, so both meet the same machine and disk
            for tally, samples, cpu in ((big, big_samples, big_cpu),
                                        (little, empty_samples, little_cpu)):  # fmt: skip
                c0, t0 = time.process_time(), time.perf_counter()
                tally.engine.sync()
                samples.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        servers1 = server.cpu_seconds(), small.cpu_seconds()
        servers = [(b - a) * 1000 / 40 for a, b in zip(servers0, servers1, strict=True)]
        bench.record(
            "sync: no-op sync, 10-year desk vs empty desk (interleaved)",
            "p95",
            percentile(big_samples, 95),
            "ms",
            percentile(empty_samples, 95),
            f"p50 {percentile(big_samples, 50):.1f} vs {percentile(empty_samples, 50):.1f} ms; "
            f"load average {os.getloadavg()[0]:.1f}",
        )
        bench.record(
            "sync: no-op sync, desk CPU, 10-year vs empty desk",
            "p50",
            percentile(big_cpu, 50),
            "ms",
            percentile(little_cpu, 50),
            "the desk process's CPU time a sync (interleaved, as above)",
        )
        print("    a no-op sync (each of 40):    10-year desk   empty desk")
        for what in _Tally.WHAT:
            print(f"      {what:<27} {big.per_sync(what):>12.1f} {little.per_sync(what):>12.1f}")
        print(f"      {'desk CPU, ms (p50)':<27} {percentile(big_cpu, 50):>12.2f} "
              f"{percentile(little_cpu, 50):>12.2f}")  # fmt: skip
        print(f"      {'server CPU, ms (mean)':<27} {servers[0]:>12.2f} {servers[1]:>12.2f}")
        e_ctx.engine.dispose()
    finally:
        small.stop()


class _Tally:
    """Counts what one desk's syncs do: requests sent, local read and write transactions,
    and commits that reached the file (SQLite's ``total_changes`` moved)."""

    WHAT = ("requests", "read transactions", "write transactions", "transactions that wrote")

    def __init__(self, ctx: Any, engine: Any) -> None:
        self.engine = engine
        self.counts = dict.fromkeys(self.WHAT, 0)
        self.syncs = 0
        sync, send, read, write = engine.sync, engine.transport.send, ctx.read, ctx.write
        counts = self.counts

        def counted_sync() -> Any:
            self.syncs += 1
            return sync()

        def counted_send(*a: Any, **kw: Any) -> Any:
            counts["requests"] += 1
            return send(*a, **kw)

        def counted_read(*a: Any, **kw: Any) -> Any:
            counts["read transactions"] += 1
            return read(*a, **kw)

        @contextmanager
        def counted_write(*a: Any, **kw: Any) -> Iterator[Any]:
            counts["write transactions"] += 1
            with write(*a, **kw) as session:
                before = session.connection().connection.dbapi_connection.total_changes
                yield session
                session.flush()
                after = session.connection().connection.dbapi_connection.total_changes
            counts["transactions that wrote"] += after != before

        engine.sync, engine.transport.send = counted_sync, counted_send
        ctx.read, ctx.write = counted_read, counted_write

    def per_sync(self, what: str) -> float:
        return self.counts[what] / max(self.syncs, 1)


def _noop_cached(bench: Bench, cached: Path, work: Path) -> None:
    """The no-op sync on a copy of the cached 10-year desk and the server it is enrolled with:
    no first sync of 5 million rows. Copied with SQLite's backup (one consistent moment of
    each file, even while another benchmark's run writes the cache); the desk then syncs once,
    untimed, to catch up with whatever that server holds beyond it."""
    (work / "desk").mkdir(parents=True)
    started = time.perf_counter()
    for source, dest in ((cached / "server.sqlite3", work / "server.sqlite3"),
                         (cached / "reception" / "frontdesk.sqlite3",
                          work / "desk" / "frontdesk.sqlite3")):  # fmt: skip
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(dest)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    print(f"    copied the cached 10-year desk and its server in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    # the cached desk's access key, filed under this copy's folder (the keychain entry is
    # named by the desk's folder; the cache holds the one desk's)
    (token,) = json.loads((cached / "keyring.json").read_text()).values()
    keychain.save_token(work / "desk", token)
    server = ServerProcess(work / "server.sqlite3")
    try:
        ctx, engine = server.adopt(work / "desk")
        caught_up = engine.sync()
        print(f"    caught up: {caught_up.pulled} changes pulled", flush=True)
        _settle(work / "desk" / "frontdesk.sqlite3", work / "server.sqlite3")
        _noop_figures(bench, server, ctx, engine, work)
        ctx.engine.dispose()
    finally:
        server.stop()
