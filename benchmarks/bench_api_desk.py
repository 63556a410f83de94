"""A booking made through the integration API, on a desk's diary, on the 10-year clinic (issue
17's "a booking made through the API on a desk's screen p95 ≤ 2 s"); run only when
``FRONTDESK_BENCH_API_DESK=1`` (its first run copies the 10-year desk and seeds a server from
it, ~5 GB, cached in ``FRONTDESK_BENCH_CACHE/apidesk-<key>``).

- a real ``frontdesk-server run`` (loopback, SQLite) seeded from the cached 10-year desk;
- the reception desk is a copy of that desk enrolled to it (the seeded desk: no snapshot);
  its sync worker waits on the change long-poll and syncs when told, as the desk's does;
- an integration books through ``POST /api/v1/appointments`` one booking at a time, at a
  caller's pace (0.2–1.5 s apart), each timed from sending it until the desk's diary read
  (``load_view``, as the diary page draws on the change notice) shows it;
- also: each of the desk's syncs after an incoming booking (pull, table check, audit anchors),
  against the same desk's no-op sync, and where those syncs' time goes.

Baseline of the booking figure: one bare HTTP round trip (``/health``) in the same run.
Runs reuse the cached desk and server in place.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import keyring
from sqlalchemy import select

from benchmarks.api_server import enrolled_clinic_folder
from benchmarks.bench_sync import ServerProcess
from benchmarks.harness import CACHE, Bench, ensure_scale_db, percentile
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.changelog import TABLES
from frontdesk.server.seed import seed_from_desk
from frontdesk.server.store import ServerStore
from frontdesk.services.diary.view import load_view
from frontdesk.store.changes import ChangeNotice
from tests.sync.file_keyring import FileKeyring

ENABLED = os.environ.get("FRONTDESK_BENCH_API_DESK") == "1"
BOOKINGS = int(os.environ.get("FRONTDESK_BENCH_API_DESK_BOOKINGS", "25"))


def run(bench: Bench) -> None:
    if not ENABLED:
        print("  (skipped: FRONTDESK_BENCH_API_DESK=1 runs it on the 10-year clinic)")
        return
    folder = _cached_clinic(bench)
    server = ServerProcess(folder / "server.sqlite3")
    try:
        ctx, desk = server.adopt(folder / "reception")
        desk.sync()
        _measure(bench, server, ctx, desk)
        ctx.engine.dispose()
    finally:
        server.stop()


def _timed(record: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Any:
    def wrapped(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            record[name].append((time.perf_counter() - t0) * 1000)

    return wrapped


def _measure(bench: Bench, server: ServerProcess, ctx: Any, desk: Any) -> None:
    _k, token = create_key(
        server.store, f"desk-bench-{uuid.uuid4().hex[:6]}",
        parse_scopes(["availability:read", "appointments:write"]), rate_per_minute=10_000_000,
    )  # fmt: skip
    with server.store.reading() as conn:
        t = TABLES["appointment_types"]
        type_id = conn.execute(
            select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False)).limit(1)
        ).scalar()
        p = TABLES["patients"]
        patient = conn.execute(select(p.c.id).limit(1)).scalar()
    api = httpx.Client(base_url=server.url + "/api/v1",
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
    slots = api.get("/availability", params={"appointment_type_id": type_id, "limit": 600}).json()[
        "slots"
    ]
    random.Random(17).shuffle(slots)

    # where a desk's sync goes: wrap the engine's steps on this instance
    parts: dict[str, list[float]] = defaultdict(list)
    for step in ("pull", "check_tables", "fetch_anchors", "push"):
        setattr(desk, step, _timed(parts, step, getattr(desk, step)))
    syncs: list[float] = []
    watch: dict[str, tuple[str, Any]] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()
    idle = threading.Event()

    reading = threading.Lock()

    def diary() -> None:  # the diary page's reload: its own read of the day
        with reading:
            for aid, (prac, day) in list(watch.items()):
                if any(a.id == aid for a in load_view(ctx, [day], [prac]).appointments):
                    seen[aid] = time.perf_counter()
                    watch.pop(aid, None)

    def notice(n: ChangeNotice) -> None:
        if "appointments" in n.kinds:
            diary()

    ctx.listeners.append(notice)

    def worker() -> None:  # the desk's sync worker: woken by the long-poll, then syncs
        while not stop.is_set():
            idle.set()
            if desk.wait_for_change(timeout_s=5):
                idle.clear()
                t0 = time.perf_counter()
                desk.sync()
                syncs.append((time.perf_counter() - t0) * 1000)
                diary()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    time.sleep(0.5)
    pace = random.Random(21)
    samples: list[float] = []
    for slot in slots:
        if len(samples) >= BOOKINGS:
            break
        t0 = time.perf_counter()
        r = api.post(
            "/appointments",
            json={"patient_id": patient, "practitioner_id": slot["practitioner_id"],
                  "appointment_type_id": type_id, "start": slot["start"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if r.status_code != 201:
            continue
        body = r.json()
        from datetime import datetime

        day = datetime.fromisoformat(body["start"]).astimezone(ctx.tz).date()
        aid = str(body["id"])
        watch[aid] = (str(body["practitioner_id"]), day)
        diary()  # the pull may have committed before the answer came back
        deadline = time.perf_counter() + 30
        while aid not in seen and time.perf_counter() < deadline:
            time.sleep(0.005)
        samples.append((seen.get(aid, time.perf_counter()) - t0) * 1000)
        watch.pop(aid, None)
        time.sleep(pace.uniform(0.2, 1.5))  # the next call comes while the desk may still sync
    stop.set()
    idle.wait(30)
    thread.join(timeout=15)
    ctx.listeners.remove(notice)
    api.close()
    client = httpx.Client()
    health = [_ms(lambda: client.get(f"{server.url}/health")) for _ in range(30)]
    noop = [_ms(desk.sync) for _ in range(15)]
    client.close()
    missed = sum(1 for s in samples if s >= 30_000)
    about = (f"{len(samples)} bookings 0.2-1.5 s apart; API → server commit → long-poll → "
             "pull → diary read (load_view) on the 10-year desk; baseline: bare /health"
             + (f"; {missed} NOT SEEN within 30 s" if missed else ""))  # fmt: skip
    name = "api booking on a desk's diary, 10-year clinic"
    bench.record(name, "p95", percentile(samples, 95), "ms", percentile(health, 95), about)
    bench.record(name, "p50", percentile(samples, 50), "ms", percentile(health, 50), about)
    bench.record(
        "sync after incoming API bookings, 10-year desk", "p95", percentile(syncs, 95), "ms",
        percentile(noop, 95),
        f"{len(syncs)} syncs woken by the long-poll; baseline: the same desk's no-op sync",
    )  # fmt: skip
    print("    where those syncs' time goes (ms: p50, p95, calls):")
    for step, took in parts.items():
        print(f"      {step:<14} {percentile(took, 50):>8.1f} {percentile(took, 95):>8.1f}"
              f"  {len(took)}")  # fmt: skip


def _ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _cached_clinic(bench: Bench) -> Path:
    folder = enrolled_clinic_folder()
    os.environ["FRONTDESK_TEST_KEYRING"] = str(folder / "keyring.json")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.sync.file_keyring.FileKeyring")
    keyring.set_keyring(FileKeyring())
    if (folder / "ready").exists():
        return folder
    for old in CACHE.glob("apidesk-*"):
        shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True)
    scale = ensure_scale_db(bench)
    print("  building the API desk clinic: server seeded from the 10-year desk…", flush=True)
    (folder / "reception").mkdir()
    shutil.copy2(scale / "frontdesk.sqlite3", folder / "reception" / "frontdesk.sqlite3")
    started = time.perf_counter()
    store = ServerStore(str(folder / "server.sqlite3"))
    store.init()
    seed_from_desk(store, folder / "reception")
    store.dispose()
    print(f"    seeded in {time.perf_counter() - started:.0f} s", flush=True)
    server = ServerProcess(folder / "server.sqlite3")
    try:
        started = time.perf_counter()
        ctx, engine = server.desk(folder / "reception", "Reception")
        summary = engine.sync()
        print(f"    reception enrolled and synced in {time.perf_counter() - started:.0f} s "
              f"({summary.snapshot_rows:,} snapshot rows, {summary.pulled:,} pulled)")  # fmt: skip
        ctx.engine.dispose()
    finally:
        server.stop()
    (folder / "ready").write_text("")
    return folder
