"""Mixed traffic on the integration API against a real ``frontdesk-server run`` on loopback,
seeded from the benchmark clinic: 80 % availability, 10 % patient look-ups by phone, 10 %
bookings and cancellations, sent open-loop at a fixed rate (default 200 a second for 60 s;
FRONTDESK_BENCH_API_RATE and FRONTDESK_BENCH_API_SECONDS change them;
FRONTDESK_BENCH_API_WORKERS runs the server as that many processes). Figures: p99 and p50
of all calls and the count of errors (5xx or no answer), against ``/health`` answered by the
same server in the same run, and the calls answered a second against the rate offered. For
a short run: ``FRONTDESK_BENCH_API_RATE=50 FRONTDESK_BENCH_API_SECONDS=10 python -m
benchmarks -k api_load``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

from benchmarks.api_server import first_change, seeded_sqlite
from benchmarks.bench_sync import ServerProcess
from benchmarks.harness import CACHE, Bench, percentile, time_ms
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.changelog import TABLES

RATE = float(os.environ.get("FRONTDESK_BENCH_API_RATE", "200"))
SECONDS = float(os.environ.get("FRONTDESK_BENCH_API_SECONDS", "60"))
WORKERS = int(os.environ.get("FRONTDESK_BENCH_API_WORKERS", "1"))  # server processes


def run(bench: Bench) -> None:
    work = CACHE / "api-load"
    shutil.rmtree(work, ignore_errors=True)
    db = seeded_sqlite(bench, work / "server.sqlite3")
    server = ServerProcess(db, *(["--workers", str(WORKERS)] if WORKERS > 1 else []))
    try:
        _k, token = create_key(
            server.store,
            "load",
            parse_scopes(["availability:read", "appointments:write", "patients:read"]),
            rate_per_minute=10_000_000,
        )
        with server.store.reading() as conn:
            t = TABLES["appointment_types"]
            types = list(
                conn.execute(
                    select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False))
                ).scalars()
            )
            p = TABLES["patients"]
            people = conn.execute(
                select(p.c.id, p.c.mobile_phone).where(p.c.mobile_phone != "").limit(500)
            ).all()
        # as a server in use: its change log not empty (a freshly seeded server's slot cache
        # and phone index are off), the phone index built, and each type's fortnight asked
        # for once before the timed run; the timed run then meets the cache as a running
        # server does, its bookings and cancellations dropping days as they go
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, timeout=120) as warm:
            first_change(warm, headers, types[0])
            warm.get("/api/v1/patients", params={"phone": people[0][1]}, headers=headers)
            for type_id in types:
                warm.get(
                    "/api/v1/availability",
                    params={"appointment_type_id": type_id, "limit": 50},
                    headers=headers,
                )
            # the baseline: /health on a kept-alive connection, as the load's calls are
            health = time_ms(lambda: warm.get("/health"), repeat=50, warmup=5)
        cpu_before, client_before = server_cpu(server.proc.pid), time.process_time()
        samples, errors, counts, elapsed = asyncio.run(_load(server.url, token, types, people))
        served = max(1, len(samples))
        # CPU per call, which the machine's other load hardly changes: the server's
        # processes' and this load generator's
        cpu = (server_cpu(server.proc.pid) - cpu_before) * 1000 / served
        client = (time.process_time() - client_before) * 1000 / served
        note = (
            f"{WORKERS} server process(es), {RATE:g} req/s for {SECONDS:g} s: {counts}; "
            f"{errors} errors (5xx or no answer); "
            f"CPU a call: server {cpu:.2f} ms, load generator {client:.2f} ms; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        bench.record(
            "api mixed traffic (loopback)",
            "p99",
            percentile(samples, 99),
            "ms",
            percentile(health, 99),
            note,
        )
        bench.record(
            "api mixed traffic (loopback)",
            "p50",
            percentile(samples, 50),
            "ms",
            percentile(health, 50),
            note,
        )
        # what the server kept up with: calls answered a second, against the rate offered
        bench.record(
            "api mixed traffic (loopback) answered",
            "rate",
            len(samples) / elapsed,
            "per_s",
            RATE,
            f"{len(samples)} calls answered in {elapsed:.1f} s; offered {RATE:g} a second",
        )
    finally:
        server.stop()


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children's processes (``--workers``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class _Pool:
    """Kept-alive HTTP/1.1 connections over asyncio streams: the load generator's client.
    httpx spent about 4 ms of CPU a call here (as much as the server), so the generator
    was a second server-sized load on the same two cores; this spends a fraction of that.
    Calls wait for a free connection (at most ``size`` open), timed from when they were due."""

    def __init__(self, base: str, token: str, size: int) -> None:
        host, port = base.split("//", 1)[1].split(":")
        self.host, self.port = host, int(port)
        self.head = f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        self.free = asyncio.Queue()
        self.room = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, body: Any = None, extra: str = ""
    ) -> tuple[int, bytes]:
        async with self.room:
            try:
                conn = self.free.get_nowait()
            except asyncio.QueueEmpty:
                conn = await asyncio.open_connection(self.host, self.port)
            try:
                answer = await asyncio.wait_for(self._send(conn, method, path, body, extra), 30)
            except BaseException:
                conn[1].close()
                raise
            self.free.put_nowait(conn)
            return answer

    async def _send(
        self,
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        method: str,
        path: str,
        body: Any,
        extra: str,
    ) -> tuple[int, bytes]:
        reader, writer = conn
        data = json.dumps(body).encode() if body is not None else b""
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        writer.write(
            f"{method} /api/v1{path} HTTP/1.1\r\n{self.head}{extra}{kind}"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait()[1].close()


async def _load(
    base: str, token: str, types: list[str], people: list[Any]
) -> tuple[list[float], int, dict[str, int], float]:
    rng = random.Random(7)
    samples: list[float] = []
    counts = {"availability": 0, "lookup": 0, "book": 0, "cancel": 0}
    errors = 0
    kinds: dict[str, int] = {}
    booked: list[str] = []
    offered: list[dict[str, Any]] = []
    pool = _Pool(base, token, 150)
    try:

        async def one(kind: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                if kind == "availability":
                    query = f"appointment_type_id={rng.choice(types)}&limit=50"
                    status, body = await pool.request("GET", f"/availability?{query}")
                    if status == 200:
                        slots = json.loads(body)["slots"]
                        if slots:
                            offered[:] = slots[:20]
                elif kind == "lookup":
                    phone = quote(rng.choice(people)[1])
                    status, body = await pool.request("GET", f"/patients?phone={phone}")
                elif kind == "cancel" and booked:
                    status, body = await pool.request(
                        "POST", f"/appointments/{booked.pop()}/cancel", {"reason": "other"}
                    )
                elif offered:
                    slot = offered.pop(rng.randrange(len(offered)))
                    status, body = await pool.request(
                        "POST",
                        "/appointments",
                        {
                            "patient_id": rng.choice(people)[0],
                            "practitioner_id": slot["practitioner_id"],
                            "appointment_type_id": slot["appointment_type_id"],
                            "start": slot["start"],
                        },
                        f"Idempotency-Key: {uuid.uuid4()}\r\n",
                    )
                    if status == 201:
                        booked.append(json.loads(body)["id"])
                else:
                    return
                if status >= 500:
                    errors += 1
                    kinds[f"{kind} {status}"] = kinds.get(f"{kind} {status}", 0) + 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors += 1
                what = f"{kind} {type(exc).__name__}"
                kinds[what] = kinds.get(what, 0) + 1
            samples.append((time.perf_counter() - started) * 1000)
            counts[kind] += 1

        tasks = []
        start = time.perf_counter()
        total = int(RATE * SECONDS)
        for n in range(total):
            due = start + n / RATE
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            roll = rng.random()
            kind = (
                "availability"
                if roll < 0.8
                else "lookup"
                if roll < 0.9
                else "book"
                if n % 2
                else "cancel"
            )
            tasks.append(asyncio.create_task(one(kind)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    finally:
        pool.close()
    counts.update({f"error {k}": v for k, v in kinds.items()})
    return samples, errors, counts, elapsed
