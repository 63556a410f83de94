"""How soon others hear of a booking made through the integration API, on a real
``frontdesk-server run`` (loopback) holding the benchmark clinic, each timed from the moment
the booking was sent (so the figure includes the booking itself: the commit lies between
sending and the answer):

- a webhook: a receiver on loopback subscribed to ``appointment.booked``; until the signed
  delivery arrives;
- the server-sent event stream (``/api/v1/events``) a client without webhooks reads; until
  the booking's event is read. The desks learn of it by the same change log, through their
  long-poll and pull (desk to desk: ``bench_sync``'s "booking visible on another desk").

Baseline: one bare HTTP round trip (``/health``) to the same server in the same run.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks.api_server import seeded_sqlite
from benchmarks.bench_sync import ServerProcess
from benchmarks.harness import CACHE, Bench, percentile, time_ms
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.changelog import TABLES

BOOKINGS = 30


class _Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                appt = json.loads(body).get("appointment", {}).get("id")
                if appt:
                    outer.arrived.setdefault(appt, time.perf_counter())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run(bench: Bench) -> None:
    work = CACHE / "api-feed"
    shutil.rmtree(work, ignore_errors=True)
    db = seeded_sqlite(bench, work / "server.sqlite3")
    measure(bench, ServerProcess(db))


def measure(bench: Bench, server: ServerProcess, where: str = "") -> None:
    """The figures on ``server`` (stopped at the end); ``where`` marks their names."""
    receiver = _Receiver()
    try:
        _k, token = create_key(
            server.store,
            "feed",
            parse_scopes(["availability:read", "appointments:write", "webhooks"]),
            rate_per_minute=10_000_000,
        )
        with server.store.reading() as conn:
            t = TABLES["appointment_types"]
            type_id = conn.execute(
                select(t.c.id).where(t.c.archived_at.is_(None), t.c.is_group.is_(False)).limit(1)
            ).scalar()
            p = TABLES["patients"]
            patient = conn.execute(select(p.c.id).limit(1)).scalar()
        api = httpx.Client(
            base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )  # fmt: skip
        hook = api.post("/webhooks", json={"url": receiver.url, "events": ["appointment.booked"]})
        assert hook.status_code == 201, hook.text
        slots = api.get(
            "/availability", params={"appointment_type_id": type_id, "limit": 400}
        ).json()["slots"]
        stream_seen: dict[str, float] = {}
        stop = threading.Event()

        def listen() -> None:
            try:
                follow()
            except httpx.RemoteProtocolError:  # the server stopping at the end ends the stream
                if not stop.is_set():
                    raise

        def follow() -> None:
            with httpx.Client(timeout=None) as c, c.stream(
                "GET", server.url + "/api/v1/events", params={"timeout": 300},
                headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
            ) as r:  # fmt: skip
                for line in r.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("data:"):
                        data = json.loads(line[5:])
                        appt = (data.get("appointment") or {}).get("id")
                        if appt:
                            stream_seen.setdefault(appt, time.perf_counter())

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(1.0)
        sent: dict[str, float] = {}
        for slot in slots[:: max(1, len(slots) // (BOOKINGS * 2))]:
            if len(sent) >= BOOKINGS:
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
            sent[r.json()["id"]] = t0
            time.sleep(0.3)  # bookings arrive apart, as calls do
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline and (
            len(receiver.arrived) < len(sent) or len(stream_seen) < len(sent)
        ):
            time.sleep(0.05)
        stop.set()
        health = time_ms(lambda: httpx.get(f"{server.url}/health"), repeat=30, warmup=3)
        missing = [a for a in sent if a not in receiver.arrived]
        assert not missing, f"{len(missing)} webhooks never arrived"
        hooks = [(receiver.arrived[a] - t0) * 1000 for a, t0 in sent.items()]
        bench.record(
            f"api webhook delivered after a booking{where}",
            "p95",
            percentile(hooks, 95),
            "ms",
            percentile(health, 95),
            f"{len(hooks)} bookings; from sending the booking to the signed POST arriving "
            f"(p50 {percentile(hooks, 50):.0f} ms); baseline: a bare /health round trip",
        )
        streamed = [(stream_seen[a] - t0) * 1000 for a, t0 in sent.items() if a in stream_seen]
        if streamed:
            bench.record(
                f"api event stream: booking seen{where}",
                "p95",
                percentile(streamed, 95),
                "ms",
                percentile(health, 95),
                f"{len(streamed)} of {len(sent)} bookings seen on /api/v1/events",
            )
        api.close()
    finally:
        receiver.close()
        server.stop()
