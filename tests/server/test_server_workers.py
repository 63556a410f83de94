"""Several server processes on one database (``server/processes.py``), each a real
``frontdesk-server run`` on its own loopback port, on SQLite and PostgreSQL: a webhook is
delivered once, not by each process; a desk long-polling process A is woken by a booking made
through process B; a key's rate limit counts its calls to both together. And ``run --workers
2`` serves the API from two processes behind one port."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.protocol import Endpoint
from frontdesk.server.processes import SHARED_DIR_ENV
from tests.server.api_world import API, auth, build
from tests.server.live import LiveServer, start_server
from tests.server.test_api_live import _cli_key
from tests.server.test_api_webhooks import Receiver
from tests.sync.clinic import Clinic


def _two(tmp_path: Path, url: str) -> tuple[LiveServer, LiveServer, Any]:
    """Two servers on one database, sharing a folder as ``run --workers`` makes them."""
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {SHARED_DIR_ENV: str(shared)}
    a = start_server(tmp_path / "a", url, env=env)
    try:
        b = start_server(tmp_path / "b", url, env=env)
    except BaseException:
        a.stop()
        raise
    return a, b, world


def _book(server: LiveServer, token: str, world: Any, n: int = 0) -> dict[str, Any]:
    slots = httpx.get(
        server.base + f"{API}/availability",
        params={"appointment_type_id": world.type_id, "limit": 40},
        headers=auth(token),
        timeout=60,
    ).json()["slots"]
    slot = [sl for sl in slots if sl["start"][14:16] in ("00", "30")][n]
    r = httpx.post(
        server.base + f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": f"two-{n}"}),
        json={"patient_id": world.patient_id, "practitioner_id": slot["practitioner_id"],
              "appointment_type_id": world.type_id, "start": slot["start"]},
        timeout=60,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_webhook_is_delivered_once_by_two_processes(tmp_path: Path, server_url: str) -> None:
    receiver = Receiver()
    a, b, world = _two(tmp_path, server_url)
    try:
        token = _cli_key(a, "availability:read", "appointments:write", "webhooks")
        hook = httpx.post(
            a.base + f"{API}/webhooks",
            json={"url": receiver.url, "events": ["appointment.booked"]},
            headers=auth(token),
        )
        assert hook.status_code == 201, hook.text
        booked = [_book(b, token, world, 0), _book(a, token, world, 1)]
        deadline = time.monotonic() + 60
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        # both processes run rounds every 0.25 s: give a second sender time to show itself
        time.sleep(2)
        ids = sorted(r["headers"]["Frontdesk-Event-Id"] for r in receiver.received)
        assert len(ids) == 2 and len(set(ids)) == 2, ids
        got = sorted(r["body"].decode() for r in receiver.received)
        assert all(any(x["id"] in body for body in got) for x in booked)
    finally:
        a.stop()
        b.stop()
        receiver.close()


def test_a_desk_waiting_on_one_process_is_woken_by_a_booking_through_the_other(
    tmp_path: Path, server_url: str
) -> None:
    a, b, world = _two(tmp_path, server_url)
    try:
        token = _cli_key(b, "availability:read", "appointments:write")
        desk = a.enrol("0190b9a0-0000-7000-8000-00000000d35c", "waiting desk")
        latest = a.call("GET", Endpoint.WAIT, desk, params={"cursor": 0, "timeout": 0}).json()
        answers: list[dict[str, Any]] = []

        def wait() -> None:
            params = {"cursor": latest["latest"], "timeout": 30}
            answers.append(a.call("GET", Endpoint.WAIT, desk, params=params).json())

        waiting = threading.Thread(target=wait)
        waiting.start()
        time.sleep(1)  # the long-poll is open on A
        _book(b, token, world)
        waiting.join(60)
        # woken, and told of B's change (a process that never read the log would time out
        # with changed false)
        assert answers and answers[0]["changed"] is True, answers
        assert answers[0]["latest"] > latest["latest"]
    finally:
        a.stop()
        b.stop()


def test_a_keys_rate_limit_counts_its_calls_to_both_processes(
    tmp_path: Path, server_url: str
) -> None:
    a, b, _world = _two(tmp_path, server_url)
    try:
        token = _cli_key(a, "availability:read", rate="6")
        codes = [
            httpx.get(server.base + f"{API}/locations", headers=auth(token)).status_code
            for server in (a, b, a, b, a, b, a, b, a, b)
        ]
        assert codes[:6] == [200] * 6 and set(codes[6:]) == {429}, codes
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("workers", [2])
def test_run_with_workers_serves_from_several_processes(tmp_path: Path, workers: int) -> None:
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url, "--workers", str(workers))
    try:
        children = subprocess.run(
            ["ps", "-ww", "--ppid", str(server.proc.pid), "-o", "args="],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert children.count("--multiprocessing-fork") == workers, children
        token = _cli_key(server, "availability:read", "appointments:write")
        booked = _book(server, token, world)
        got = httpx.get(server.base + f"{API}/appointments/{booked['id']}", headers=auth(token))
        assert got.status_code == 200 and got.json()["id"] == booked["id"]
        assert "serving with 2 processes" in server.log()
    finally:
        server.stop()
