"""A clinic group on one server (issue 21, item 5): the clinic server on PostgreSQL (a throwaway
cluster, tests/pgcluster.py) as a real ``frontdesk-server run`` process on loopback, with 50
desks syncing at once — each a real desk (its own SQLite file, the services, the sync engine over
HTTP) booking, moving and paying at a receptionist's pace and long-polling for the others'
changes between its own, for 5 minutes.

Recorded, each beside a baseline measured in the same run on the same server:
- push and pull p99 (and p50) of the 50 desks, against one desk alone doing the same work first;
- the server process's resident memory over the run (sampled every few seconds from /proc),
  against its resident memory when the run started (warm: every desk enrolled and synced);
- errors: every failed sync, refused request or exception in a desk (must be 0).

- where the machine's CPU went over the run: the server process (and its ``--workers``), the
  PostgreSQL cluster, the desks' client processes, and everything else on the machine (other
  work), with the load average — so server saturation can be told from client contention —
  and the server's CPU per request it answered.

Environment: FRONTDESK_GROUP_SECONDS (default 300) for a quick check, FRONTDESK_GROUP_DESKS
(default 50), FRONTDESK_GROUP_PACE (a desk's mean seconds between actions, default 20),
FRONTDESK_GROUP_WORKERS (server processes, ``run --workers``, default 1),
FRONTDESK_GROUP_PROCESSES (the client processes the desks are spread over, default 5),
FRONTDESK_GROUP_DESK_NICE (the desks' processes' ``nice``, default 0).
Skipped (with a line saying so) when no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_api_load import server_cpu
from benchmarks.harness import ROOT, Bench, percentile

SECONDS = float(os.environ.get("FRONTDESK_GROUP_SECONDS", "300"))
DESKS = int(os.environ.get("FRONTDESK_GROUP_DESKS", "50"))
PACE = float(os.environ.get("FRONTDESK_GROUP_PACE", "20"))
WORKERS = int(os.environ.get("FRONTDESK_GROUP_WORKERS", "1"))
# desks are spread over this many client processes (one interpreter lock each); a real desk
# is a process of its own on its own PC
PROCESSES = int(os.environ.get("FRONTDESK_GROUP_PROCESSES", "5"))
# the simulated desks' scheduling priority (``nice``): on one machine they share the server's
# cores, where real desks run on PCs of their own; 0 leaves them equal to the server
DESK_NICE = int(os.environ.get("FRONTDESK_GROUP_DESK_NICE", "0"))
LONG_POLL_S = 20.0  # what a desk's sync worker asks the server to wait at most
ALONE_ROUNDS = 40


@dataclass
class Tally:
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    waits: int = 0
    woken: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    syncs: int = 0
    rejected: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # requests sent, by path
    check_ms: list[float] = field(default_factory=list)  # the check after a sync (stats)
    woken_ms: list[float] = field(default_factory=list)  # a woken desk's whole sync

    def merge(self, other: Tally) -> None:
        self.push_ms += other.push_ms
        self.check_ms += other.check_ms
        self.woken_ms += other.woken_ms
        self.pull_ms += other.pull_ms
        self.waits += other.waits
        self.woken += other.woken
        for k, v in other.actions.items():
            self.actions[k] = self.actions.get(k, 0) + v
        self.syncs += other.syncs
        self.rejected += other.rejected
        self.conflicts += other.conflicts
        self.errors += other.errors
        for k, v in other.calls.items():
            self.calls[k] = self.calls.get(k, 0) + v


class TimedTransport:
    """The desk's real HTTP transport, timing each push and pull request (client-seen)."""

    def __init__(self, inner: Any, tally: Tally, lock: threading.Lock) -> None:
        self.inner, self.tally, self.lock = inner, tally, lock

    def send(self, method: str, path: str, **kw: Any) -> Any:
        from frontdesk.protocol import Endpoint

        started = time.perf_counter()
        reply = self.inner.send(method, path, **kw)
        ms = (time.perf_counter() - started) * 1000
        with self.lock:
            self.tally.calls[path] = self.tally.calls.get(path, 0) + 1
            if path == Endpoint.PUSH:
                self.tally.push_ms.append(ms)
            elif path == Endpoint.PULL:
                self.tally.pull_ms.append(ms)
            elif path == Endpoint.STATS:
                self.tally.check_ms.append(ms)
            if not reply.ok:
                self.tally.errors.append(f"{method} {path}: HTTP {reply.status}")
        return reply


class Desk:
    """One reception desk: a real desk database enrolled with the server."""

    def __init__(self, index: int, folder: Path, base: str, code: str, tally: Tally) -> None:
        from frontdesk.paths import DeskPaths
        from frontdesk.services.desk import open_desk
        from frontdesk.sync.setup import engine_for, enrol

        self.index, self.tally, self.lock = index, tally, threading.Lock()
        self.rng = random.Random(index)
        paths = DeskPaths(folder)
        # a copy of one migrated, empty database (identity, settings and series are made by
        # open_desk, per desk): 50 desks need not each run every migration
        folder.mkdir(parents=True)
        shutil.copyfile(folder.parent / "template" / paths.database.name, paths.database)
        self.ctx = open_desk(paths)
        enrol(self.ctx, base, code, device_name=f"desk {index:02d}")
        self.engine = engine_for(self.ctx)
        self.engine.transport = TimedTransport(self.engine.transport, tally, self.lock)
        self.booked: list[str] = []

    def first_sync(self) -> None:
        from sqlalchemy import select

        from frontdesk.models import Patient

        self.engine.sync()  # the snapshot (not timed: set-up)
        with self.ctx.read() as s:
            self.patients = list(
                s.scalars(select(Patient.id).where(Patient.archived_at.is_(None)).limit(500))
            )
        self.find_slots()
        with self.lock:
            self.tally.push_ms.clear()
            self.tally.pull_ms.clear()
            self.tally.calls.clear()
            self.tally.check_ms.clear()

    # -- a receptionist's actions ----------------------------------------------------------
    def find_slots(self) -> None:
        """Free half-hours from next week on; desk i takes every (DESKS + 1)-th, so the desks
        never double-book one another (a clash between desks is a conflict, not load)."""
        from frontdesk.services.diary.groups import next_available

        wanted = max(int(SECONDS / PACE * 3) + 10, ALONE_ROUNDS + 10)
        starting = datetime.now(UTC).date() + timedelta(days=7)
        free = next_available(self.ctx, duration_minutes=30, slot=30, starting=starting,
                              limit=wanted * (DESKS + 1), search_days=120)  # fmt: skip
        self.slots = [(f.practitioner_id, f.start) for f in free[self.index :: DESKS + 1]]

    def act(self) -> str:
        from frontdesk.services import billing, diary
        from frontdesk.services.diary import BookingRequest

        kind = self.rng.choice(["book", "book", "move", "pay"])
        if kind == "move" and not self.booked:
            kind = "book"
        if kind == "book":
            prac, start = self.slots.pop(0)
            patient = self.rng.choice(self.patients)
            req = BookingRequest(prac, start, start + timedelta(minutes=30), patient)
            self.booked.append(diary.book(self.ctx, req))
        elif kind == "move":
            appt = self.booked.pop(0)
            prac, start = self.slots.pop(0)
            diary.move(self.ctx, appt, start, prac)
        else:
            billing.take_payment(
                self.ctx,
                method="eftpos",
                amount_cents=self.rng.randrange(2000, 15000),
                patient_id=self.rng.choice(self.patients),
                keep_credit=True,
            )
        return kind

    def sync(self) -> None:
        summary = self.engine.sync()
        with self.lock:
            self.tally.syncs += 1
            self.tally.rejected += summary.rejected
            self.tally.conflicts += summary.conflicts

    def run(self, until: float) -> None:
        """Act at a receptionist's pace; between actions, long-poll and pull others' changes."""
        due = time.monotonic() + self.rng.uniform(0, PACE)
        while (now := time.monotonic()) < until:
            try:
                if now >= due:
                    kind = self.act()
                    with self.lock:
                        self.tally.actions[kind] = self.tally.actions.get(kind, 0) + 1
                    self.sync()
                    due = time.monotonic() + self.rng.expovariate(1 / PACE)
                    continue
                wait = min(LONG_POLL_S, due - now, until - now)
                changed = self.engine.wait_for_change(timeout_s=round(max(wait, 0.1), 2))
                with self.lock:
                    self.tally.waits += 1
                    self.tally.woken += changed
                if changed:
                    started = time.perf_counter()
                    self.sync()
                    with self.lock:
                        self.tally.woken_ms.append((time.perf_counter() - started) * 1000)
            except Exception as exc:  # every failure is counted: the goal is none
                with self.lock:
                    self.tally.errors.append(f"desk {self.index}: {type(exc).__name__}: {exc}")
                traceback.print_exc()
                time.sleep(1)


def _worker(
    indexes: list[int], root: str, base: str, codes: list[str], start_at: Any, out: Any
) -> None:
    """One client process: its share of the desks, each on its own thread."""
    from tests.sync.fakes import install_memory_keyring

    install_memory_keyring()  # the keychain is the one fake (no desktop keychain here)
    if DESK_NICE:
        os.nice(DESK_NICE)
    tally = Tally()
    ready = False
    try:
        desks = [Desk(i, Path(root) / f"desk{i:02d}", base, c, tally)
                 for i, c in zip(indexes, codes, strict=True)]  # fmt: skip
        for d in desks:
            d.first_sync()
        out.put(("ready", None))
        ready = True
        while start_at.value == 0:
            time.sleep(0.05)
        until = start_at.value + SECONDS
        # perf_counter/monotonic differ per process: the parent gives the start in time.time()
        until_mono = time.monotonic() + (until - time.time())
        threads = [threading.Thread(target=d.run, args=(until_mono,)) for d in desks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for d in desks:
            d.ctx.engine.dispose()
    except Exception as exc:
        tally.errors.append(f"worker: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        if not ready:
            out.put(("ready", None))
    out.put(("tally", tally))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _server_rss_mb(pid: int) -> float:
    """The server's resident memory: its process and, with ``--workers``, its children's."""
    total = _rss_mb(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                total += _rss_mb(int(stat.parent.name))
        except (OSError, RuntimeError):
            continue
    return total


def _machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy, and in all (every core), so far."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def _cpu_with_reaped(pid: int) -> float:
    """A process's and its children's CPU seconds, counting children that have exited
    (PostgreSQL's backends come and go with connections)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return server_cpu(pid) + reaped


@dataclass
class CpuMark:
    """CPU seconds used so far: the server, PostgreSQL, the desks' processes, the machine."""

    server: float
    postgres: float
    desks: float
    busy: float
    total: float

    @staticmethod
    def take(server: int, postmaster: int, desks: list[int]) -> CpuMark:
        busy, total = _machine_busy()
        return CpuMark(server_cpu(server), _cpu_with_reaped(postmaster),
                       sum(server_cpu(pid) for pid in desks), busy, total)  # fmt: skip

    def since(self, start: CpuMark) -> CpuMark:
        return CpuMark(self.server - start.server, self.postgres - start.postgres,
                       self.desks - start.desks, self.busy - start.busy,
                       self.total - start.total)  # fmt: skip


def _served_ms(log: Path, start: int, end: int) -> dict[str, list[float]]:
    """Milliseconds each request spent inside the server (from its own log line per request:
    from the app receiving it to the answer's end, queueing for a thread included), by path,
    for the log's bytes ``start:end`` — apart from the time a busy desk process takes to
    send a request and read the answer."""
    with log.open("rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8", "replace")
    out: dict[str, list[float]] = {}
    for line in text.splitlines():
        try:
            msg = json.loads(line).get("msg", "")
        except ValueError:
            continue
        found = re.fullmatch(r"(?:GET|POST) (\S+) \d+ (\d+)ms", msg)
        if found:
            out.setdefault(found.group(1), []).append(float(found.group(2)))
        # a push's own line: how long it waited for the writer's lock, and held it
        found = re.search(r"^push .* waited=([\d.]+)ms held=([\d.]+)ms$", msg)
        if found:
            out.setdefault("push waited", []).append(float(found.group(1)))
            out.setdefault("push held", []).append(float(found.group(2)))
    return out


def _template(folder: Path) -> None:
    """An empty desk database brought to the current schema."""
    from frontdesk.db import migrate
    from frontdesk.paths import DeskPaths
    from frontdesk.services.desk import open_engine

    paths = DeskPaths(folder)
    folder.mkdir(parents=True)
    engine = open_engine(paths)
    migrate.upgrade(engine, backup_dir=paths.backups)
    engine.dispose()


def _one_desk_alone(root: Path, base: str, code: str) -> Tally:
    """The baseline: one desk alone on the same server, doing the same work (act + sync)."""
    from tests.sync.fakes import install_memory_keyring

    install_memory_keyring()
    tally = Tally()
    desk = Desk(DESKS, root / "alone", base, code, tally)
    desk.first_sync()
    for _ in range(ALONE_ROUNDS):
        desk.act()
        started = time.perf_counter()
        desk.sync()
        tally.woken_ms.append((time.perf_counter() - started) * 1000)
        desk.engine.wait_for_change(timeout_s=0)
    desk.ctx.engine.dispose()
    return tally


def run(bench: Bench) -> None:
    try:
        from tests.pgcluster import PgCluster

        cluster = PgCluster()
    except (FileNotFoundError, ImportError) as exc:
        print(f"  skipped: no PostgreSQL here ({exc})")
        return
    from frontdesk.protocol import Endpoint
    from frontdesk.server.store import ServerStore
    from tests.server.live import start_server

    root = Path(tempfile.mkdtemp(prefix="bench-group-"))
    server = None
    try:
        url = cluster.new_database()
        seed = root / "seed"
        # the clinic the group shares: a demo clinic of 10 practitioners and 2,000 patients
        # with 5 weeks of history (each desk's first sync downloads it: set-up, not timed)
        subprocess.run([sys.executable, "-m", "frontdesk.app", "--data-dir", str(seed), "demo",
                        "--practitioners", "10", "--patients", "2000", "--years", "0.1"],
                       check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        subprocess.run([sys.executable, "-m", "frontdesk.server.cli", "--data-dir",
                        str(root / "server"), "--database", url, "seed", "--from-desk",
                        str(seed)], check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        _template(root / "template")
        server = start_server(root / "server", url, "--workers", str(WORKERS))
        store = ServerStore(url)
        codes = [store.create_enrolment_code(f"desk {i:02d}") for i in range(DESKS + 1)]
        store.dispose()

        alone_from = server.log_path.stat().st_size
        alone = _one_desk_alone(root, server.base, codes[DESKS])
        served_alone = _served_ms(server.log_path, alone_from, server.log_path.stat().st_size)
        print(f"  one desk alone: {len(alone.push_ms)} pushes, {len(alone.pull_ms)} pulls, "
              f"{len(alone.errors)} errors", flush=True)  # fmt: skip

        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        start_at = ctx.Value("d", 0.0)
        shares = [list(range(DESKS))[p::PROCESSES] for p in range(PROCESSES)]
        procs = [ctx.Process(target=_worker, args=(share, str(root), server.base,
                                                   [codes[i] for i in share], start_at, out))
                 for share in shares if share]  # fmt: skip
        for p in procs:
            p.start()
        for _ in procs:
            out.get(timeout=1800)
        print(f"  {DESKS} desks enrolled and synced; running {SECONDS:g} s", flush=True)
        rss: list[tuple[float, float]] = []
        loads: list[float] = []
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        desk_pids = [p.pid for p in procs if p.pid is not None]
        mark = CpuMark.take(server.proc.pid, postmaster, desk_pids)
        log_from = server.log_path.stat().st_size
        started = time.time()
        start_at.value = started
        while time.time() < started + SECONDS + 1:
            rss.append((time.time() - started, _server_rss_mb(server.proc.pid)))
            loads.append(os.getloadavg()[0])
            time.sleep(5)
        cpu = CpuMark.take(server.proc.pid, postmaster, desk_pids).since(mark)
        served = _served_ms(server.log_path, log_from, server.log_path.stat().st_size)
        wall = time.time() - started
        tally = Tally()
        for _ in procs:
            kind, part = out.get(timeout=SECONDS + 600)
            assert kind == "tally"
            tally.merge(part)
        for p in procs:
            p.join(timeout=60)
        if server.proc.poll() is not None:
            tally.errors.append("the server process stopped")
    finally:
        if server is not None:
            server.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    errors = len(tally.errors) + len(alone.errors)
    for e in (tally.errors + alone.errors)[:10]:
        print(f"  error: {e}")
    actions = ", ".join(f"{v} {k}" for k, v in sorted(tally.actions.items()))
    note = (f"{DESKS} desks, {SECONDS:g} s, {actions}; {tally.syncs} syncs, {tally.waits} "
            f"long-polls ({tally.woken} woken); {errors} errors, {tally.rejected} rejected, "
            f"{tally.conflicts} conflicts; baseline: one desk alone, same server")  # fmt: skip
    for name, ours, base in (("push", tally.push_ms, alone.push_ms),
                             ("pull", tally.pull_ms, alone.pull_ms)):  # fmt: skip
        for stat in (50, 99):
            bench.record(f"group: {name} on PostgreSQL, {DESKS} desks", f"p{stat}",
                         percentile(ours, stat), "ms", percentile(base, stat),
                         note if stat == 99 else f"{len(ours)} requests")  # fmt: skip
    for name, ours, base in (("the check after a sync", tally.check_ms, alone.check_ms),
                             ("a woken desk's sync", tally.woken_ms, alone.woken_ms)):  # fmt: skip
        if ours and base:
            bench.record(f"group: {name}, {DESKS} desks", "p99", percentile(ours, 99), "ms",
                         percentile(base, 99), f"p50 {percentile(ours, 50):.0f} ms; "
                         f"{len(ours)} samples; baseline: one desk alone's "
                         + ("check" if name.startswith("the") else "sync"))  # fmt: skip
    first = rss[0][1]
    half = [mb for t, mb in rss if t >= SECONDS / 2]
    last = rss[-1][1]
    peak = max(mb for _t, mb in rss)
    bench.record(f"group: server RSS at the end, {DESKS} desks", "total", last, "MB", first,
                 f"baseline: RSS at the start (warm); peak {peak:.0f} MB; second half "
                 f"{min(half):.0f}–{max(half):.0f} MB; {len(rss)} samples")  # fmt: skip
    bench.record(f"group: errors, {DESKS} desks", "total", errors, "count", 1,
                 "failed syncs, refused requests and exceptions (goal 0)")  # fmt: skip
    for path, name in ((Endpoint.PUSH, "push"), (Endpoint.PULL, "pull"),
                       (Endpoint.STATS, "check")):  # fmt: skip
        ours, base = served.get(path.value, []), served_alone.get(path.value, [])
        if ours and base:
            bench.record(f"group: {name} inside the server, {DESKS} desks", "p99",
                         percentile(ours, 99), "ms", percentile(base, 99),
                         f"p50 {percentile(ours, 50):.0f} ms, {len(ours)} requests; the "
                         "server's own log; baseline: one desk alone's")  # fmt: skip
    for part in ("waited", "held"):
        ours, base = served.get(f"push {part}", []), served_alone.get(f"push {part}", [])
        if ours and base:
            what = "waited for" if part == "waited" else "held"
            bench.record(f"group: a push {what} the writer's lock, {DESKS} desks", "p99",
                         percentile(ours, 99), "ms", percentile(base, 99),
                         f"p50 {percentile(ours, 50):.1f} ms (alone "
                         f"{percentile(base, 50):.1f}), {len(ours)} pushes; the server's log; "
                         "baseline: one desk alone's")  # fmt: skip
    sent = sum(tally.calls.values())
    cores = cpu.total / wall
    other = max(cpu.busy - cpu.server - cpu.postgres - cpu.desks, 0.0)
    mix = ", ".join(f"{n} {p.rsplit('/', 1)[-1]}" for p, n in sorted(tally.calls.items()))
    if DESK_NICE:
        print(f"  the desks' processes ran at nice {DESK_NICE}, the server and PostgreSQL at 0")
    print(f"  CPU over {wall:.0f} s on {cores:.1f} cores ({cpu.total:.0f} core-seconds): server "
          f"{cpu.server:.0f} s ({WORKERS} process{'es' if WORKERS > 1 else ''}), PostgreSQL "
          f"{cpu.postgres:.0f} s, desks' processes {cpu.desks:.0f} s, other work "
          f"{other:.0f} s, idle {cpu.total - cpu.busy:.0f} s; load average (1 min) "
          f"{min(loads):.1f}–{max(loads):.1f}")  # fmt: skip
    print(f"  requests sent: {sent} ({mix})")
    # what the load does not inflate: CPU spent per woken desk's sync (every sync but the
    # actions' own, and the long-polls, count in it: the group's work divided by that count)
    woken = max(tally.woken, 1)
    print(f"  CPU a woken sync ({tally.woken}): server {cpu.server * 1000 / woken:.1f} ms, "
          f"PostgreSQL {cpu.postgres * 1000 / woken:.1f} ms, desks' processes "
          f"{cpu.desks * 1000 / woken:.1f} ms; requests {sent / woken:.2f}")  # fmt: skip
    bench.record(f"group: server + desks' CPU a woken sync, {DESKS} desks", "total",
                 (cpu.server + cpu.desks) * 1000 / woken, "ms",
                 cpu.server * 1000 / woken,
                 f"{tally.woken} woken syncs, {sum(tally.actions.values())} actions; baseline: "
                 f"the server's part; PostgreSQL {cpu.postgres * 1000 / woken:.1f} ms a woken "
                 "sync besides")  # fmt: skip
    bench.record(f"group: server CPU a request, {DESKS} desks", "total",
                 cpu.server * 1000 / max(sent, 1), "ms", cpu.postgres * 1000 / max(sent, 1),
                 f"{sent} requests in {wall:.0f} s; baseline: PostgreSQL's CPU a request; "
                 f"machine: server {cpu.server:.0f} s, PostgreSQL {cpu.postgres:.0f} s, desks "
                 f"{cpu.desks:.0f} s, other {other:.0f} s of {cpu.total:.0f} core-s; load "
                 f"{min(loads):.1f}–{max(loads):.1f}")  # fmt: skip
