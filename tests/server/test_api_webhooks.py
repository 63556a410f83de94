"""Webhooks: signed deliveries to a real HTTP receiver on loopback, retries with backoff after
failures, the delivery log and replay; and a live server process delivering on its own."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.server.api.webhooks import verify
from tests.server.api_world import API, auth, build, key
from tests.server.live import server_command
from tests.server.test_api_live import _cli_key, _live
from tests.sync.clinic import Clinic


class Receiver:
    """An HTTP endpoint that records each POST; it answers 500 while ``failing`` > 0."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.failing = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failing > 0:
                    outer.failing -= 1
                    self.send_response(500)
                else:
                    outer.received.append({"headers": dict(self.headers), "body": body})
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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _book(clinic: Clinic, token: str, world: Any, idem: str) -> dict[str, Any]:
    slots = clinic.client.get(
        f"{API}/availability", params={"appointment_type_id": world.type_id}, headers=auth(token)
    ).json()["slots"]
    slot = slots[0]
    r = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": idem}),
        json={
            "patient_id": world.patient_id,
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_signed_delivery_retries_with_backoff_log_and_replay(
    clinic: Clinic, receiver: Receiver
) -> None:
    world = build(clinic)
    token = key(clinic.store, "availability:read", "appointments:write", "webhooks")
    made = clinic.client.post(
        f"{API}/webhooks",
        headers=auth(token),
        json={"url": receiver.url, "events": ["appointment.booked", "appointment.cancelled"]},
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_")
    listed = clinic.client.get(f"{API}/webhooks", headers=auth(token)).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None
    dispatcher = clinic.app.state.webhooks
    receiver.failing = 2
    appt = _book(clinic, token, world, "w1")
    assert dispatcher.run_once() == 0  # the receiver fails: kept for a retry
    log = clinic.client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=auth(token))
    (entry,) = log.json()["items"]
    assert entry["state"] == "pending" and entry["attempts"] == 1 and entry["last_status"] == 500
    assert dispatcher.run_once() == 0  # not due yet: nothing sent before the pause
    assert receiver.received == [] and receiver.failing == 1
    clinic.server_clock.advance(timedelta(seconds=11))
    assert dispatcher.run_once() == 0  # second attempt fails too; the pause grows
    entry = clinic.client.get(
        f"{API}/webhooks/{hook['id']}/deliveries", headers=auth(token)
    ).json()["items"][0]
    assert entry["attempts"] == 2
    clinic.server_clock.advance(timedelta(seconds=30))
    assert dispatcher.run_once() == 0  # still inside the one-minute pause
    clinic.server_clock.advance(timedelta(seconds=31))
    assert dispatcher.run_once() == 1
    (got,) = receiver.received
    assert verify(hook["secret"], got["headers"]["Frontdesk-Signature"], got["body"])
    assert not verify("whsec_wrong", got["headers"]["Frontdesk-Signature"], got["body"])
    payload = json.loads(got["body"])
    assert payload["type"] == "appointment.booked"
    assert payload["appointment"]["id"] == appt["id"]
    assert got["headers"]["Frontdesk-Event-Type"] == "appointment.booked"
    entry = clinic.client.get(
        f"{API}/webhooks/{hook['id']}/deliveries", headers=auth(token)
    ).json()["items"][0]
    assert entry["state"] == "delivered" and entry["attempts"] == 3
    # replay: the same event again, as a new delivery
    again = clinic.client.post(
        f"{API}/webhooks/{hook['id']}/deliveries/{entry['id']}/replay", headers=auth(token)
    )
    assert again.status_code == 202
    assert dispatcher.run_once() == 1
    assert json.loads(receiver.received[1]["body"])["id"] == payload["id"]
    # a moved appointment is not subscribed; a cancellation is
    clinic.client.post(
        f"{API}/appointments/{appt['id']}/cancel", headers=auth(token), json={"reason": "sick"}
    )
    assert dispatcher.run_once() == 1
    assert json.loads(receiver.received[2]["body"])["type"] == "appointment.cancelled"
    # another key cannot see or change this subscription
    other = key(clinic.store, "webhooks", name="other")
    assert (
        clinic.client.get(
            f"{API}/webhooks/{hook['id']}/deliveries", headers=auth(other)
        ).status_code
        == 404
    )
    assert (
        clinic.client.post(
            f"{API}/webhooks",
            headers=auth(token),
            json={"url": "ftp://x", "events": ["appointment.booked"]},
        ).status_code
        == 422
    )
    assert (
        clinic.client.delete(f"{API}/webhooks/{hook['id']}", headers=auth(token)).status_code == 204
    )
    assert clinic.client.get(f"{API}/webhooks", headers=auth(token)).json()["items"] == []


def test_a_delivery_is_given_up_after_a_day(clinic: Clinic, receiver: Receiver) -> None:
    world = build(clinic)
    token = key(clinic.store, "availability:read", "appointments:write", "webhooks")
    hook = clinic.client.post(
        f"{API}/webhooks",
        headers=auth(token),
        json={"url": receiver.url, "events": ["appointment.booked"]},
    ).json()
    receiver.failing = 1000
    _book(clinic, token, world, "w2")
    dispatcher = clinic.app.state.webhooks
    for _ in range(12):
        dispatcher.run_once()
        clinic.server_clock.advance(timedelta(hours=3))
    entry = clinic.client.get(
        f"{API}/webhooks/{hook['id']}/deliveries", headers=auth(token)
    ).json()["items"][0]
    assert entry["state"] == "failed" and entry["next_attempt_at"] is None
    assert 5 <= entry["attempts"] <= 12


def test_a_running_server_delivers_by_itself(tmp_path: Path, receiver: Receiver) -> None:
    server, world = _live(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        token = _cli_key(server, "availability:read", "appointments:write", "webhooks")
        hook = httpx.post(
            server.base + f"{API}/webhooks",
            headers=auth(token),
            json={"url": receiver.url, "events": ["appointment.booked"]},
        ).json()
        slot = httpx.get(
            server.base + f"{API}/availability",
            headers=auth(token),
            params={"appointment_type_id": world.type_id},
        ).json()["slots"][0]
        booked = httpx.post(
            server.base + f"{API}/appointments",
            headers=auth(token, **{"Idempotency-Key": "live"}),
            json={
                "patient_id": world.patient_id,
                "practitioner_id": slot["practitioner_id"],
                "appointment_type_id": world.type_id,
                "start": slot["start"],
            },
        )
        assert booked.status_code == 201
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        (got,) = receiver.received
        assert verify(hook["secret"], got["headers"]["Frontdesk-Signature"], got["body"])
        assert json.loads(got["body"])["appointment"]["id"] == booked.json()["id"]
        calls = subprocess.run(
            server_command(server.data_dir, server.database, "api-log"),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        assert "subscribe webhook" in calls
    finally:
        server.stop()


def test_ical_feed_busy_or_initials_and_revocable(clinic: Clinic) -> None:
    from icalendar import Calendar

    from frontdesk.server.api import ical

    world = build(clinic)
    token = key(clinic.store)
    appt = _book(clinic, token, world, "ical")
    busy, busy_path = ical.create_feed(clinic.store, appt["practitioner_id"])
    _named, named_path = ical.create_feed(clinic.store, appt["practitioner_id"], "initials")
    r = clinic.client.get(busy_path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(r.content).walk("VEVENT")]
    assert [str(e["uid"]) for e in events] == [f"{appt['id']}@frontdesk"]
    assert str(events[0]["summary"]) == "Busy" and b"Sam" not in r.content
    assert events[0].decoded("dtstart") == datetime.fromisoformat(appt["start"])
    named = Calendar.from_ical(clinic.client.get(named_path).content)
    assert [str(e["summary"]) for e in named.walk("VEVENT")] == ["S. L."]
    assert ical.revoke_feed(clinic.store, busy.id) == 1
    gone = clinic.client.get(busy_path)
    assert gone.status_code == 404 and "revoked" in gone.json()["detail"]
    assert clinic.client.get("/feeds/ical/guessed.ics").status_code == 404


def test_ical_detail_as_a_clinic_setting_reaches_every_feed(clinic: Clinic) -> None:
    """Settings → Online booking on a desk, synced: a busy-only feed shows initials too."""
    from icalendar import Calendar

    from frontdesk.server.api import ical
    from frontdesk.services.setup import online

    world = build(clinic)
    appt = _book(clinic, key(clinic.store), world, "ical-setting")
    _feed, path = ical.create_feed(clinic.store, appt["practitioner_id"])

    def summaries() -> list[str]:
        cal = Calendar.from_ical(clinic.client.get(path).content)
        return [str(e["summary"]) for e in cal.walk("VEVENT")]

    assert summaries() == ["Busy"]
    online.save_ical_detail(world.desk.ctx, "initials")
    assert world.desk.sync()
    assert summaries() == ["S. L."]
    online.save_ical_detail(world.desk.ctx, "busy")
    assert world.desk.sync()
    assert summaries() == ["Busy"]
