"""Holds and bookings the way an integrator meets them: against a real ``frontdesk-server run``
process on loopback, over one kept-alive HTTP connection (httpx), each call timed by the
client. Baselines in the same run, interleaved round by round: a bare ``/health`` over the same
connection (the HTTP stack and the server's loop), and one raw insert + commit with psycopg
(the database's own cost of a write).

With ``FRONTDESK_BENCH_BASE_SRC`` (a folder holding another checkout's ``frontdesk`` package,
e.g. ``git archive main | tar -x -C /tmp/base``) a second server runs that code on the same
database and every round calls both, one after the other: before → after in one run.
(``bench_api_pg`` calls ``measure``.)
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import select

from benchmarks.bench_sync import ServerProcess
from benchmarks.harness import Bench, percentile
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.changelog import TABLES

ROUNDS = 40


class _Side:
    """One server and its client, with each kind of call's samples."""

    def __init__(self, name: str, server: ServerProcess, token: str) -> None:
        self.name = name
        self.server = server
        self.client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.samples: dict[str, list[float]] = {
            k: [] for k in ("health", "hold", "from_hold", "direct")
        }

    def timed(self, kind: str, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.client.request(method, path, **kw)
        self.samples[kind].append(r.elapsed.total_seconds() * 1000)
        return r


def measure(bench: Bench, url: str, log_dir: Path, where: str = " PG") -> None:
    base_src = os.environ.get("FRONTDESK_BENCH_BASE_SRC")
    servers = [("after", ServerProcess(url, log=log_dir / "writes-server.log"))]
    if base_src:
        servers.insert(0, ("before", _base_server(url, Path(base_src), log_dir)))
    try:
        _, token = create_key(
            servers[-1][1].store, "writes",
            parse_scopes(["availability:read", "appointments:write"]), rate_per_minute=10_000_000,
        )  # fmt: skip
        with servers[-1][1].store.reading() as conn:
            t = TABLES["appointment_types"]
            type_id = conn.execute(
                select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False)).limit(1)
            ).scalar()
            patient = conn.execute(select(TABLES["patients"].c.id).limit(1)).scalar()
        sides = [_Side(name, server, token) for name, server in servers]
        slots = (
            sides[-1]
            .client.get(
                "/api/v1/availability",
                params={"appointment_type_id": type_id, "limit": 2000, "to": _weeks_ahead(8)},
            )
            .json()["slots"]
        )
        rng = random.Random(5)
        rng.shuffle(slots)
        raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        raw_ms: list[float] = []

        def raw_insert() -> None:
            import time

            t0 = time.perf_counter()
            raw.execute(
                "INSERT INTO server_api_holds (id, key_id, practitioner_id, starts_at, ends_at, "
                "expires_at) VALUES (%s, 'k', 'p', '2030-01-01', '2030-01-01', '2030-01-01')",
                [str(uuid.uuid4())],
            )
            raw.commit()
            raw_ms.append((time.perf_counter() - t0) * 1000)

        for side in sides:  # warm: the first call of each kind builds what later calls reuse
            side.client.get("/health")
            _book_round(side, slots, type_id, patient, keep=False)
        for n in range(ROUNDS):
            raw_insert()
            for side in sides if n % 2 else sides[::-1]:  # each first every other round
                side.timed("health", "GET", "/health")
                _book_round(side, slots, type_id, patient)
        raw.execute("DELETE FROM server_api_holds WHERE key_id = 'k'")
        raw.commit()
        raw.close()
        labels = {
            "hold": "api hold (HTTP, real server)",
            "from_hold": "api booking from a hold (HTTP, real server)",
            "direct": "api booking by practitioner + type + start (HTTP, real server)",
        }
        after = sides[-1].samples
        for kind, label in labels.items():
            for stat in (95, 50):
                health = percentile(after["health"], stat)
                extra = ""
                if len(sides) == 2:
                    before = sides[0].samples
                    was, now = percentile(before[kind], stat), percentile(after[kind], stat)
                    extra = (
                        f"; before (same run, interleaved) {was:.1f} ms, after/before "
                        f"{now / was:.2f}; /health before {percentile(before['health'], stat):.1f}"
                    )
                bench.record(
                    f"{label}{where}", f"p{stat}", percentile(after[kind], stat), "ms", health,
                    f"{len(after[kind])} calls, kept-alive connection; baseline a bare /health "
                    f"over it (p{stat}); a raw insert + commit p{stat} "
                    f"{percentile(raw_ms, stat):.2f} ms{extra}",
                )  # fmt: skip
        for side in sides:
            side.client.close()
    finally:
        for _name, server in servers:
            server.stop()


def _weeks_ahead(weeks: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(weeks=weeks)).isoformat()


def _book_round(
    side: _Side, slots: list[dict[str, Any]], type_id: str, patient: str, keep: bool = True
) -> None:
    """A hold, then a booking from it; then a booking by practitioner, type and start — each
    on a free time (a taken one is skipped, untimed, and the next tried)."""
    for kind in ("hold", "direct"):
        while slots:
            slot = slots.pop()
            body = {"practitioner_id": slot["practitioner_id"], "appointment_type_id": type_id,
                    "start": slot["start"]}  # fmt: skip
            if kind == "hold":
                r = side.client.post("/api/v1/holds", json={**body, "minutes": 5})
            else:
                r = side.client.post(
                    "/api/v1/appointments", json={**body, "patient_id": patient},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )  # fmt: skip
            if r.status_code != 201:
                continue
            if keep:
                side.samples[kind].append(r.elapsed.total_seconds() * 1000)
            if kind == "hold":
                b = side.client.post(
                    "/api/v1/appointments", json={"patient_id": patient, "hold_id": r.json()["id"]},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )  # fmt: skip
                assert b.status_code == 201, b.text
                if keep:
                    side.samples["from_hold"].append(b.elapsed.total_seconds() * 1000)
            break


def _base_server(url: str, src: Path, log_dir: Path) -> ServerProcess:
    """A server running the code in ``src`` (its ``frontdesk`` package first on the path,
    started from there: ``python -m`` puts the working folder before the path)."""
    old, here = os.environ.get("PYTHONPATH"), Path.cwd()
    os.environ["PYTHONPATH"] = str(src) + (os.pathsep + old if old else "")
    os.chdir(src)
    try:
        which = subprocess.run(
            [sys.executable, "-c", "import frontdesk; print(frontdesk.__file__)"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"  before: {which}")
        return ServerProcess(url, log=log_dir / "writes-base-server.log")
    finally:
        os.chdir(here)
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
