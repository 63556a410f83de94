"""One server process's CPU a call: a real ``frontdesk-server run`` on a seeded server database
(e.g. the copy ``bench_api_load`` leaves in the cache, ``api-load/server.sqlite3``), N calls of
one kind sent by 8 kept-alive connections — availability of a random type over a fortnight
(``limit=50``, as ``bench_api_load`` sends) or look-ups by phone — and the server's CPU over
them from /proc. ``--code DIR`` runs the server from another checkout (``git archive BASE |
tar -x -C DIR``): before and after, alternated, on the same database.

    python -m benchmarks.api_cpu SERVER.sqlite3 [--n 3000] [--kind lookup] [--code DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import select

from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.changelog import TABLES
from frontdesk.server.store import ServerStore


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--kind", default="availability")
    p.add_argument("--code", default=str(Path(__file__).resolve().parents[1]))
    args = p.parse_args()
    store = ServerStore(args.db)
    _k, token = create_key(
        store,
        "cpu",
        parse_scopes(["availability:read", "appointments:write", "patients:read"]),
        rate_per_minute=10**9,
    )
    with store.reading() as conn:
        t = TABLES["appointment_types"]
        types = list(
            conn.execute(
                select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False))
            ).scalars()
        )
        pt = TABLES["patients"]
        phones = [
            r[0]
            for r in conn.execute(
                select(pt.c.mobile_phone).where(pt.c.mobile_phone != "").limit(500)
            )
        ]
    store.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": args.code}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "frontdesk.server.cli",
            "--database",
            args.db,
            "run",
            "--port",
            str(port),
        ],
        cwd=args.code,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    h = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, headers=h, timeout=60) as c:
            slot = c.get(
                "/api/v1/availability", params={"appointment_type_id": types[0], "limit": 1}
            ).json()["slots"][0]
            held = c.post(
                "/api/v1/holds",
                json={
                    "practitioner_id": slot["practitioner_id"],
                    "appointment_type_id": types[0],
                    "start": slot["start"],
                    "minutes": 1,
                },
            )
            c.delete(f"/api/v1/holds/{held.json()['id']}")
            c.get("/api/v1/patients", params={"phone": phones[0]})
            for tid in types:
                c.get("/api/v1/availability", params={"appointment_type_id": tid, "limit": 50})
        time.sleep(3)  # the phone index built, the call log flushed
        rng = random.Random(7)
        if args.kind == "availability":
            paths = [
                f"/api/v1/availability?appointment_type_id={rng.choice(types)}&limit=50"
                for _ in range(args.n)
            ]
        else:
            paths = [f"/api/v1/patients?phone={quote(rng.choice(phones))}" for _ in range(args.n)]

        async def drive() -> None:
            async with httpx.AsyncClient(base_url=base, headers=h, timeout=60) as c:
                queue = list(reversed(paths))

                async def worker() -> None:
                    while queue:
                        r = await c.get(queue.pop())
                        assert r.status_code == 200, r.text

                await asyncio.gather(*(worker() for _ in range(8)))

        before, wall = cpu(proc.pid), time.perf_counter()
        asyncio.run(drive())
        used, wall = cpu(proc.pid) - before, time.perf_counter() - wall
        print(
            f"{args.kind}: {args.n} calls in {wall:.1f} s; server CPU a call "
            f"{used * 1000 / args.n:.3f} ms ({Path(args.code).name}); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
