"""Holds in the change feed: created, released, lapsed and booked, as signed webhooks to a real
receiver on loopback and on the server-sent-events stream (resumable with Last-Event-ID). A
hold that runs out is ended by the dispatcher's round at its expiry; one released after it ran
out counts as lapsed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from frontdesk.server.api.webhooks import verify
from tests.server.api_world import API, auth, build, key
from tests.server.test_api import _events
from tests.server.test_api_webhooks import Receiver, receiver
from tests.sync.clinic import Clinic

__all__ = ["receiver"]
HOLD_EVENTS = ["hold.created", "hold.released", "hold.lapsed", "hold.booked"]


def _hold(clinic: Clinic, token: str, type_id: str, slot: dict[str, Any], minutes: int) -> str:
    r = clinic.client.post(
        f"{API}/holds", headers=auth(token),
        json={"practitioner_id": slot["practitioner_id"], "appointment_type_id": type_id,
              "start": slot["start"], "minutes": minutes},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_holds_created_released_lapsed_and_booked_reach_webhooks_and_the_stream(
    clinic: Clinic, receiver: Receiver
) -> None:
    world = build(clinic)
    token = key(clinic.store, "availability:read", "appointments:write", "webhooks")
    hook = clinic.client.post(
        f"{API}/webhooks", headers=auth(token),
        json={"url": receiver.url, "events": [*HOLD_EVENTS, "appointment.booked"]},
    ).json()  # fmt: skip
    start_from = _events(clinic, token, None)  # the stream from now: nothing yet
    assert start_from == []
    slots = [
        sl for sl in clinic.client.get(
            f"{API}/availability", headers=auth(token),
            params={"appointment_type_id": world.type_id, "limit": 40},
        ).json()["slots"] if sl["start"][14:16] in ("00", "30")
    ][:4]  # fmt: skip
    dispatcher = clinic.app.state.webhooks
    released = _hold(clinic, token, world.type_id, slots[0], 5)
    assert clinic.client.delete(f"{API}/holds/{released}", headers=auth(token)).status_code == 204
    lapsed = _hold(clinic, token, world.type_id, slots[1], 2)
    late = _hold(clinic, token, world.type_id, slots[2], 2)
    booked = _hold(clinic, token, world.type_id, slots[3], 10)
    appt = clinic.client.post(
        f"{API}/appointments", headers=auth(token, **{"Idempotency-Key": "from-hold"}),
        json={"patient_id": world.patient_id, "hold_id": booked},
    ).json()  # fmt: skip
    dispatcher.run_once()
    clinic.server_clock.advance(timedelta(minutes=2, seconds=1))
    # released by its caller after it ran out: it had lapsed already
    assert clinic.client.delete(f"{API}/holds/{late}", headers=auth(token)).status_code == 204
    dispatcher.run_once()  # the round ends the hold that ran out: hold.lapsed
    dispatcher.run_once()

    got = [(json.loads(r["body"]), r["headers"]) for r in receiver.received]
    for body, headers in got:
        raw = json.dumps(body).encode()
        assert headers["Frontdesk-Event-Type"] == body["type"]
        assert raw and "Frontdesk-Signature" in headers
    assert all(
        verify(hook["secret"], r["headers"]["Frontdesk-Signature"], r["body"])
        for r in receiver.received
    )
    said = [(b["type"], (b.get("hold") or b.get("appointment") or {}).get("id")) for b, _ in got]
    assert said == [
        ("hold.created", released), ("hold.released", released),
        ("hold.created", lapsed), ("hold.created", late), ("hold.created", booked),
        ("appointment.booked", appt["id"]), ("hold.booked", booked),
        ("hold.lapsed", late), ("hold.lapsed", lapsed),
    ]  # fmt: skip
    first = got[0][0]["hold"]
    assert (first["start"], first["practitioner_id"]) == (
        slots[0]["start"], slots[0]["practitioner_id"]
    )  # fmt: skip
    assert got[6][0]["hold"]["appointment_id"] == appt["id"]
    assert all("Lee" not in r["body"].decode() for r in receiver.received)  # no patient details

    stream = _events(clinic, token, "0")
    on_stream = [(e["event"], e["hold"]["id"]) for e in stream if e["event"].startswith("hold.")]
    assert on_stream == [(t, i) for t, i in said if t.startswith("hold.")]
    last = next(e["id"] for e in stream if e["event"] == "hold.booked")
    resumed = [(e["event"], e["hold"]["id"]) for e in _events(clinic, token, last)]
    assert resumed == [("hold.lapsed", late), ("hold.lapsed", lapsed)]
    # one can subscribe to every event type at once
    every = clinic.client.post(
        f"{API}/webhooks", headers=auth(token),
        json={"url": receiver.url, "events": [*HOLD_EVENTS, "appointment.booked",
              "appointment.moved", "appointment.cancelled", "appointment.status_changed",
              "appointment.deleted", "patient.created", "patient.changed"]},
    )  # fmt: skip
    assert every.status_code == 201, every.text
    wrong = clinic.client.post(
        f"{API}/webhooks", headers=auth(token), json={"url": receiver.url, "events": ["hold.x"]}
    )
    assert wrong.status_code == 422 and "hold.lapsed" in wrong.text
