"""The integration API (/api/v1) on a real server store (SQLite, and PostgreSQL where marked):
keys and scopes, reading the clinic, availability by the desks' rules, holds, idempotent
bookings that reach the desks through the normal pull, and the caller's look-up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from frontdesk.models import Appointment, AuditEvent
from frontdesk.server import schema as s
from tests.server.api_world import API, auth, build, key, parse
from tests.sync.clinic import Clinic


def _appointments(clinic: Clinic) -> int:
    table = s.data_tables()["appointments"]
    with clinic.store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _slots(clinic: Clinic, token: str, **params: Any) -> dict[str, Any]:
    r = clinic.client.get(f"{API}/availability", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_openapi_is_3_1_with_the_api_paths_and_examples(clinic: Clinic) -> None:
    spec = clinic.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    paths = set(spec["paths"])
    assert {
        f"{API}/availability",
        f"{API}/holds",
        f"{API}/appointments",
        f"{API}/patients",
    } <= paths
    assert "/v1/push" in paths  # the desks' protocol is still there
    assert "examples" in spec["components"]["schemas"]["HoldRequest"]


def test_reading_the_clinic_pages_with_a_cursor_and_updated_since(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store, "availability:read")
    r = clinic.client.get(f"{API}/practitioners", params={"limit": 1}, headers=auth(token))
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    r2 = clinic.client.get(
        f"{API}/practitioners",
        params={"limit": 1, "cursor": first["next_cursor"]},
        headers=auth(token),
    )
    second = r2.json()
    assert {first["items"][0]["id"], second["items"][0]["id"]} == set(world.practitioners)
    assert second["next_cursor"] is None
    assert "+" in first["items"][0]["updated_at"] or first["items"][0]["updated_at"].endswith(
        ("+11:00", "+10:00")
    )
    later = (datetime.now(UTC) + timedelta(days=3650)).isoformat()
    r3 = clinic.client.get(
        f"{API}/practitioners", params={"updated_since": later}, headers=auth(token)
    )
    assert r3.json()["items"] == []
    types = clinic.client.get(f"{API}/appointment-types", headers=auth(token)).json()["items"]
    assert types[0]["online_bookable"] is True and types[0]["duration_minutes"] == 30
    bad = clinic.client.get(f"{API}/practitioners", params={"cursor": "%%%"}, headers=auth(token))
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "cursor" in bad.json()["detail"]


def test_availability_honours_roster_break_bookings_and_holds(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store)
    reply = _slots(clinic, token, appointment_type_id=world.type_id, to="2026-12-05T00:00:00+11:00")
    slots = reply["slots"]
    assert slots, reply
    for sl in slots:
        start, end = parse(sl["start"]), parse(sl["end"])
        assert start.utcoffset() == timedelta(hours=11)  # Sydney summer time, with its offset
        assert start.weekday() < 5 and start.hour * 60 + start.minute >= 9 * 60
        assert end.hour * 60 + end.minute <= 17 * 60
        assert not (start.hour == 12 or (start.hour == 11 and start.minute > 30))  # lunch
    assert {n["practitioner_id"] for n in reply["next_available"]} == set(world.practitioners)
    first = slots[0]
    # a desk books the first slot: it is no longer offered for that practitioner
    world.desk.book(
        first["practitioner_id"], world.patient_id, parse(first["start"]).astimezone(UTC)
    )
    assert world.desk.sync()
    again = _slots(
        clinic, token, appointment_type_id=world.type_id, to="2026-12-05T00:00:00+11:00"
    )["slots"]
    assert (first["practitioner_id"], first["start"]) not in {
        (x["practitioner_id"], x["start"]) for x in again
    }
    # a hold takes the next one away too, until it lapses
    nxt = again[-1]  # a later day: still ahead once the hold lapses
    held = clinic.client.post(
        f"{API}/holds",
        headers=auth(token),
        json={
            "practitioner_id": nxt["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": nxt["start"],
            "minutes": 5,
        },
    )
    assert held.status_code == 201, held.text
    during = _slots(
        clinic, token, appointment_type_id=world.type_id, to="2026-12-05T00:00:00+11:00"
    )["slots"]
    assert (nxt["practitioner_id"], nxt["start"]) not in {
        (x["practitioner_id"], x["start"]) for x in during
    }
    clinic.server_clock.advance(timedelta(minutes=6))
    after = _slots(
        clinic, token, appointment_type_id=world.type_id, to="2026-12-05T00:00:00+11:00"
    )["slots"]
    assert (nxt["practitioner_id"], nxt["start"]) in {
        (x["practitioner_id"], x["start"]) for x in after
    }
    # filters: one practitioner, Wednesdays, afternoons
    only = _slots(
        clinic,
        token,
        appointment_type_id=world.type_id,
        practitioner_id=world.practitioners[1],
        weekdays="wed",
        earliest="14:00",
        to="2026-12-10T00:00:00+11:00",
    )["slots"]
    assert only and all(
        x["practitioner_id"] == world.practitioners[1]
        and parse(x["start"]).weekday() == 2
        and parse(x["start"]).hour >= 14
        for x in only
    )
    too_long = clinic.client.get(
        f"{API}/availability",
        headers=auth(token),
        params={"appointment_type_id": world.type_id, "to": "2027-06-01T00:00:00+10:00"},
    )
    assert too_long.status_code == 422 and "90 days" in too_long.json()["detail"]


def test_hold_then_book_reaches_the_desks_through_the_normal_pull(clinic: Clinic) -> None:
    world = build(clinic)
    other = clinic.add_desk("back office")
    assert other.sync()
    token = key(clinic.store, name="Phone AI")
    slot = _slots(clinic, token, appointment_type_id=world.type_id)["slots"][0]
    held = clinic.client.post(
        f"{API}/holds",
        headers=auth(token),
        json={
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
        },
    ).json()
    booked = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "call-1"}),
        json={"patient_id": world.patient_id, "hold_id": held["id"]},
    )
    assert booked.status_code == 201, booked.text
    appt = booked.json()
    assert booked.headers["etag"] == '"1"'
    assert appt["start"] == slot["start"] and appt["status"] == "booked"
    assert other.sync()
    with other.ctx.read() as session:
        row = session.get(Appointment, appt["id"])
        assert row is not None and row.patient_id == world.patient_id
        assert row.starts_at == parse(slot["start"]).astimezone(UTC)
        trail = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == appt["id"])).all()
        assert any(
            e.staff_name == "API: Phone AI" and e.action == "booked an appointment" for e in trail
        )
    # the hold is used: booking it again is refused, nothing more is made
    again = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "call-2"}),
        json={"patient_id": world.patient_id, "hold_id": held["id"]},
    )
    assert again.status_code == 409
    # move and cancel reach the desk too; a stale If-Match is refused
    new_start = (parse(slot["start"]) + timedelta(days=7)).isoformat()
    stale = clinic.client.post(
        f"{API}/appointments/{appt['id']}/move",
        headers=auth(token, **{"If-Match": '"7"'}),
        json={"start": new_start},
    )
    assert stale.status_code == 412
    moved = clinic.client.post(
        f"{API}/appointments/{appt['id']}/move",
        headers=auth(token, **{"If-Match": booked.headers["etag"]}),
        json={"start": new_start},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == new_start and moved.json()["version"] == 2
    cancelled = clinic.client.post(
        f"{API}/appointments/{appt['id']}/cancel", headers=auth(token), json={"reason": "sick"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert other.sync() and world.desk.sync()
    for desk in (other, world.desk):
        with desk.ctx.read() as session:
            row = session.get(Appointment, appt["id"])
            assert row is not None
            assert row.status == "cancelled" and row.cancellation_reason == "sick"
            assert row.starts_at == parse(new_start).astimezone(UTC)


def test_idempotency_key_gives_the_same_answer_and_never_a_second_appointment(
    clinic: Clinic,
) -> None:
    world = build(clinic)
    token = key(clinic.store)
    slot = _slots(clinic, token, appointment_type_id=world.type_id)["slots"][0]
    body = {
        "patient_id": world.patient_id,
        "practitioner_id": slot["practitioner_id"],
        "appointment_type_id": world.type_id,
        "start": slot["start"],
    }
    before = _appointments(clinic)
    one = clinic.client.post(
        f"{API}/appointments", json=body, headers=auth(token, **{"Idempotency-Key": "k1"})
    )
    two = clinic.client.post(
        f"{API}/appointments", json=body, headers=auth(token, **{"Idempotency-Key": "k1"})
    )
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert two.headers.get("idempotent-replayed") == "true"
    assert _appointments(clinic) == before + 1
    changed = clinic.client.post(
        f"{API}/appointments",
        json={**body, "notes": "other"},
        headers=auth(token, **{"Idempotency-Key": "k1"}),
    )
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["detail"]
    missing = clinic.client.post(f"{API}/appointments", json=body, headers=auth(token))
    assert missing.status_code == 428
    # another key for the same slot: taken, with the next free times offered
    taken = clinic.client.post(
        f"{API}/appointments", json=body, headers=auth(token, **{"Idempotency-Key": "k2"})
    )
    assert taken.status_code == 409, taken.text
    assert len(taken.json()["alternatives"]) == 3
    assert _appointments(clinic) == before + 1


def test_hostile_keys_and_bad_requests_get_a_clear_4xx_and_change_nothing(
    clinic: Clinic,
) -> None:
    world = build(clinic)
    good = key(clinic.store)
    slot = _slots(clinic, good, appointment_type_id=world.type_id)["slots"][0]
    body = {
        "patient_id": world.patient_id,
        "practitioner_id": slot["practitioner_id"],
        "appointment_type_id": world.type_id,
        "start": slot["start"],
    }
    revoked = key(clinic.store, name="old")
    from frontdesk.server.api.keys import revoke_key

    assert revoke_key(clinic.store, "old") == 1
    expiring = key(
        clinic.store, name="temp", expires_at=clinic.server_clock.now() + timedelta(hours=1)
    )
    reader = key(clinic.store, "availability:read", name="reader")
    before = _appointments(clinic)

    def book(token: str, **over: Any) -> Any:
        return clinic.client.post(
            f"{API}/appointments",
            json={**body, **over},
            headers=auth(token, **{"Idempotency-Key": str(over)}),
        )

    r = book("fdk_nothing_real")
    assert r.status_code == 401 and "not known" in r.json()["detail"]
    r = clinic.client.post(f"{API}/appointments", json=body)
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    assert book(revoked).status_code == 401 and "revoked" in book(revoked).json()["detail"]
    r = book(reader)
    assert r.status_code == 403 and "appointments:write" in r.json()["detail"]
    r = book(good, patient_id="not-a-real-id")
    assert r.status_code == 404 and "patient" in r.json()["detail"]
    r = book(good, practitioner_id="x" * 300)
    assert r.status_code == 422
    r = book(good, start="2020-01-06T10:00:00+11:00")
    assert r.status_code == 422 and "passed" in r.json()["detail"]
    r = book(good, start="2026-12-01T03:00:00+11:00")
    assert r.status_code == 422 and "roster" in r.json()["detail"]
    r = book(good, start="2026-12-01T10:00:00")  # no offset
    assert r.status_code == 422
    r = clinic.client.get(f"{API}/appointments/no-such-id", headers=auth(good))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")
    # an expired hold
    held = clinic.client.post(
        f"{API}/holds",
        headers=auth(good),
        json={
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
            "minutes": 2,
        },
    ).json()
    clinic.server_clock.advance(timedelta(hours=2))
    r = clinic.client.post(
        f"{API}/appointments",
        headers=auth(good, **{"Idempotency-Key": "h"}),
        json={"patient_id": world.patient_id, "hold_id": held["id"]},
    )
    assert r.status_code == 410 and "expired" in r.json()["detail"]
    r = book(expiring)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert _appointments(clinic) == before
    # every call is in the API audit log, with the patient where there was one (reads are
    # written in batches: at most a quarter of a second later on a running server)
    clinic.app.state.call_log.flush(clinic.store)
    with clinic.store.reading() as conn:
        rows = conn.execute(select(s.api_audit)).mappings().all()
    assert any(r["operation"] == "book" and r["status"] == 404 for r in rows)
    assert any(r["patient_id"] == world.patient_id for r in rows)


def test_rate_limit_answers_429_with_retry_after(clinic: Clinic) -> None:
    build(clinic)
    token = key(clinic.store, "availability:read", rate_per_minute=3)
    codes = [
        clinic.client.get(f"{API}/locations", headers=auth(token)).status_code for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = clinic.client.get(f"{API}/locations", headers=auth(token))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_finding_the_caller_by_phone_in_any_format_name_and_email(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store)
    for phone in ("0412345678", "+61 412 345 678", "(04) 1234-5678", "61412345678"):
        r = clinic.client.get(f"{API}/patients", params={"phone": phone}, headers=auth(token))
        assert r.status_code == 200, r.text
        assert [p["id"] for p in r.json()["items"]] == [world.patient_id], phone
    r = clinic.client.get(
        f"{API}/patients",
        headers=auth(token),
        params={"first_name": "sam", "last_name": "LEE", "date_of_birth": "1980-05-17"},
    )
    assert [p["id"] for p in r.json()["items"]] == [world.patient_id]
    # the look-up is in the desks' audit trail, naming the key
    clinic.app.state.call_log.flush(clinic.store)
    assert world.desk.sync()
    with world.desk.ctx.read() as session:
        seen = session.scalars(
            select(AuditEvent).where(
                AuditEvent.patient_id == world.patient_id, AuditEvent.action == "read a patient"
            )
        ).all()
        assert seen and all(e.staff_name == "API: test" for e in seen)
    r = clinic.client.get(
        f"{API}/patients", params={"email": "SAM@example.com"}, headers=auth(token)
    )
    assert r.json()["items"][0]["date_of_birth"] == "1980-05-17"
    assert (
        clinic.client.get(
            f"{API}/patients", params={"phone": "call me"}, headers=auth(token)
        ).status_code
        == 422
    )
    # creating someone the clinic already has answers that record
    r = clinic.client.post(
        f"{API}/patients",
        headers=auth(token),
        json={"first_name": "Sam", "last_name": "Lee", "mobile_phone": "+61412345678"},
    )
    assert r.status_code == 200 and r.json()["created"] is False
    assert r.json()["patient"]["id"] == world.patient_id
    # a create-only key sees no contact details or birth date of an existing record
    maker = key(clinic.store, "patients:write", name="forms")
    r = clinic.client.post(
        f"{API}/patients",
        headers=auth(maker),
        json={"first_name": "Sam", "last_name": "Lee", "date_of_birth": "1980-05-17"},
    )
    assert r.json()["created"] is False
    assert "date_of_birth" not in r.json()["patient"] and "mobile_phone" not in r.json()["patient"]
    assert (
        clinic.client.get(
            f"{API}/patients", params={"phone": "0412345678"}, headers=auth(maker)
        ).status_code
        == 403
    )
    # a new patient is made once and reaches the desk
    r = clinic.client.post(
        f"{API}/patients",
        headers=auth(token),
        json={"first_name": "Kim", "last_name": "Park", "mobile_phone": "0400 111 222"},
    )
    assert r.status_code == 201 and r.json()["created"] is True
    assert world.desk.sync()
    from frontdesk.models import Patient

    with world.desk.ctx.read() as session:
        made = session.get(Patient, r.json()["patient"]["id"])
        assert made is not None and made.last_name == "Park"


def test_a_desk_that_booked_the_same_time_offline_meets_it_as_a_clash(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store)
    slot = _slots(clinic, token, appointment_type_id=world.type_id)["slots"][0]
    start = parse(slot["start"]).astimezone(UTC)
    offline = world.desk.book(slot["practitioner_id"], world.patient_id, start)  # not synced yet
    booked = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "x"}),
        json={
            "patient_id": world.patient_id,
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
        },
    )
    assert booked.status_code == 201
    assert world.desk.sync()
    clashes = [c for c in world.desk.open_conflicts() if c.kind == "clash"]
    assert len(clashes) == 1
    assert {clashes[0].row_id, clashes[0].other_row_id} == {offline, booked.json()["id"]}
    with world.desk.ctx.read() as session:
        both = [session.get(Appointment, i) for i in (offline, booked.json()["id"])]
        assert all(a is not None and a.clash_flagged and a.status == "booked" for a in both)


def _events(clinic: Clinic, token: str, last: str | None) -> list[dict[str, Any]]:
    headers = auth(token)
    if last is not None:
        headers["Last-Event-ID"] = last
    with clinic.client.stream(
        "GET", f"{API}/events", params={"timeout": 0.5}, headers=headers
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "id" in fields:
            out.append({"id": fields["id"], "event": fields["event"], **json.loads(fields["data"])})
    return out


def test_event_stream_sends_changes_and_resumes_from_last_event_id(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store, "availability:read", "appointments:write", "webhooks")
    assert _events(clinic, token, None) == []  # from now: nothing has happened yet
    slot = _slots(clinic, token, appointment_type_id=world.type_id)["slots"][0]
    booked = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "sse"}),
        json={
            "patient_id": world.patient_id,
            "hold_id": None,
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
        },
    ).json()
    desk_made = world.desk.book(
        world.practitioners[1],
        world.patient_id,
        parse(slot["start"]).astimezone(UTC) + timedelta(days=1),
    )
    assert world.desk.sync()
    seen = _events(clinic, token, "0")
    kinds = [(e["event"], e.get("appointment", e.get("patient", {})).get("id")) for e in seen]
    assert ("appointment.booked", booked["id"]) in kinds
    assert ("appointment.booked", desk_made) in kinds  # a desk's booking is news too
    assert ("patient.created", world.patient_id) in kinds
    assert all("first_name" not in json.dumps(e) for e in seen)  # ids, never patient details
    last = seen[-1]["id"]
    clinic.client.post(
        f"{API}/appointments/{booked['id']}/cancel", headers=auth(token), json={"reason": "away"}
    )
    after = _events(clinic, token, last)
    assert [(e["event"], e["appointment"]["id"]) for e in after] == [
        ("appointment.cancelled", booked["id"])
    ]
    assert after[0]["appointment"]["cancellation_reason"] == "away"
    # the stream needs the webhooks scope, and a readable Last-Event-ID
    plain = key(clinic.store, "availability:read", name="plain")
    assert clinic.client.get(f"{API}/events", headers=auth(plain)).status_code == 403
    bad = clinic.client.get(f"{API}/events", headers=auth(token, **{"Last-Event-ID": "x"}))
    assert bad.status_code == 400


def test_a_desk_waiting_for_changes_wakes_for_an_api_booking(clinic: Clinic) -> None:
    import threading
    import time

    from frontdesk.protocol import Endpoint
    from frontdesk.server.store import ServerStore
    from frontdesk.sync.transport import desk_headers

    world = build(clinic)
    code = clinic.store.create_enrolment_code("waiter")
    r = clinic.client.post(
        Endpoint.ENROL, json={"code": code, "device_id": "waiter-desk"}, headers=desk_headers(None)
    )
    desk_token = r.json()["token"]
    store: ServerStore = clinic.store
    cursor = store.latest_seq
    token = key(clinic.store)
    slot = _slots(clinic, token, appointment_type_id=world.type_id)["slots"][0]
    woke: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        answer = clinic.client.get(
            Endpoint.WAIT,
            params={"cursor": cursor, "timeout": 20},
            headers=desk_headers(desk_token),
        )
        woke["after"] = time.monotonic() - started
        woke["answer"] = answer.json()

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    booked_at = time.monotonic()
    r = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "wake"}),
        json={
            "patient_id": world.patient_id,
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
        },
    )
    assert r.status_code == 201
    waiter.join(30)
    assert woke["answer"]["changed"] is True
    assert woke["after"] < 20 and time.monotonic() - booked_at < 5  # woken, not timed out


def test_availability_reads_its_query_as_published(clinic: Clinic) -> None:
    """The query parameters (validated in one pass, ``router._query``) as the OpenAPI
    description publishes them: a repeated practitioner_id, ``from``/``to``, unknown
    parameters ignored; a bad value refused with the parameter named and nothing else."""
    world = build(clinic)
    token = key(clinic.store)
    spec = clinic.client.get("/openapi.json").json()["paths"][f"{API}/availability"]["get"]
    published = {p["name"] for p in spec["parameters"] if p["in"] == "query"}
    assert published == {
        "appointment_type_id", "profession", "practitioner_id", "location_id", "weekdays",
        "earliest", "latest", "from", "to", "online_only", "limit",
    }  # fmt: skip
    window = {"from": "2026-12-01T00:00:00+11:00", "to": "2026-12-05T00:00:00+11:00"}
    both = _slots(clinic, token, appointment_type_id=world.type_id,
                  practitioner_id=world.practitioners, **window, limit="500")  # fmt: skip
    one = _slots(clinic, token, appointment_type_id=world.type_id,
                 practitioner_id=[world.practitioners[0]], **window, limit="500")  # fmt: skip
    assert {s["practitioner_id"] for s in both["slots"]} == set(world.practitioners)
    assert {s["practitioner_id"] for s in one["slots"]} == {world.practitioners[0]}
    assert all(window["from"] <= s["start"] < window["to"] for s in both["slots"])
    same = _slots(clinic, token, appointment_type_id=world.type_id, practitioner_id=world.
                  practitioners, **window, limit="500", colour="blue")  # fmt: skip
    assert same == both  # an unknown parameter changes nothing
    capped = _slots(clinic, token, appointment_type_id=world.type_id, limit="3", **window)
    assert len(capped["slots"]) == 3 and capped["truncated"] is True
    for params, named in (
        ({"limit": "0"}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"from": "2026-12-01T09:00:00"}, "query.from"),  # no offset
        ({"to": "next tuesday"}, "query.to"),
        ({"online_only": "perhaps"}, "query.online_only"),
        ({"practitioner_id": [world.practitioners[0]] * 21}, "query.practitioner_id"),
        ({"earliest": "0" * 9}, "query.earliest"),
    ):
        r = clinic.client.get(
            f"{API}/availability",
            headers=auth(token),
            params={"appointment_type_id": world.type_id, **params},
        )
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert named in r.json()["detail"], (params, r.json()["detail"])
