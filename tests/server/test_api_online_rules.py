"""Online booking rules set on a desk (Settings' set-up services), synced to the server the
normal way, and honoured by availability, holds, bookings and moves: minimum notice and how
far ahead per appointment type, a practitioner's own stricter notice, and practitioners who
take no online bookings. Each refusal is problem+json with a sentence, and changes nothing.
The clinic's clock: Friday 27 November 2026, 09:00 in Sydney."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from frontdesk.server import schema as s
from frontdesk.server.changelog import TABLES
from frontdesk.services.setup import online
from tests.server.api_world import API, World, auth, build, key, parse
from tests.sync.clinic import Clinic


def _slots(clinic: Clinic, token: str, **params: Any) -> dict[str, Any]:
    r = clinic.client.get(f"{API}/availability", headers=auth(token), params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _count(clinic: Clinic) -> tuple[int, int]:
    with clinic.store.reading() as conn:
        appts = conn.execute(select(func.count()).select_from(TABLES["appointments"])).scalar()
        holds = conn.execute(select(func.count()).select_from(s.api_holds)).scalar()
    return int(appts or 0), int(holds or 0)


def _hold(clinic: Clinic, token: str, world: World, who: str, start: str) -> Any:
    return clinic.client.post(
        f"{API}/holds",
        headers=auth(token),
        json={"practitioner_id": who, "appointment_type_id": world.type_id, "start": start},
    )


def _set_type(world: World, notice: int, ahead: int | None) -> None:
    row = next(r for r in online.type_rules(world.desk.ctx) if r.id == world.type_id)
    online.save_type_rules(world.desk.ctx, online.TypeRules(row.id, row.name, True, notice, ahead))


def test_notice_and_reach_of_a_type_bound_availability_holds_and_bookings(
    clinic: Clinic,
) -> None:
    world = build(clinic)
    token = key(clinic.store)
    _set_type(world, 48 * 60, 7)
    assert world.desk.sync()
    slots = _slots(clinic, token, appointment_type_id=world.type_id, limit=2000)["slots"]
    starts = [parse(x["start"]) for x in slots]
    assert starts, "no slots at all"
    # 48 hours from Friday 09:00 is Sunday 09:00: nothing before Monday's first hour
    assert min(starts).strftime("%a %d %H:%M") == "Mon 30 09:00"
    # seven days ahead of Friday 27: up to the end of Friday 4 December
    assert max(starts).strftime("%a %d %H:%M") == "Fri 04 16:30"
    before = _count(clinic)
    soon = _hold(clinic, token, world, world.practitioners[0], "2026-11-27T14:00:00+11:00")
    assert soon.status_code == 422, soon.text
    assert soon.headers["content-type"].startswith("application/problem+json")
    problem = soon.json()
    assert problem["code"] == "online_rules"
    assert problem["detail"] == (
        "Online bookings need at least 2 days notice: choose a time from Sun 29 Nov 2026 "
        "09:00 on, or ring the clinic."
    )
    far = _hold(clinic, token, world, world.practitioners[0], "2026-12-07T10:00:00+11:00")
    assert far.status_code == 422 and far.json()["code"] == "online_rules"
    assert "at most 7 days ahead" in far.json()["detail"]
    assert "Fri 4 Dec 2026" in far.json()["detail"]
    booked = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "too-soon"}),
        json={
            "patient_id": world.patient_id,
            "practitioner_id": world.practitioners[0],
            "appointment_type_id": world.type_id,
            "start": "2026-11-27T15:00:00+11:00",
        },
    )
    assert booked.status_code == 422 and booked.json()["code"] == "online_rules"
    assert _count(clinic) == before
    # a time inside the rules holds and books; moving it outside them is refused
    ok = _hold(clinic, token, world, world.practitioners[0], slots[0]["start"])
    assert ok.status_code == 201, ok.text
    made = clinic.client.post(
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "fine"}),
        json={"patient_id": world.patient_id, "hold_id": ok.json()["id"]},
    )
    assert made.status_code == 201, made.text
    moved = clinic.client.post(
        f"{API}/appointments/{made.json()['id']}/move",
        headers=auth(token),
        json={"start": "2026-12-09T10:00:00+11:00"},
    )
    assert moved.status_code == 422 and moved.json()["code"] == "online_rules"
    assert made.json()["start"] == slots[0]["start"]


def test_a_practitioners_stricter_notice_and_one_who_takes_no_online_bookings(
    clinic: Clinic,
) -> None:
    world = build(clinic)
    token = key(clinic.store)
    alex, bea = world.practitioners
    _set_type(world, 24 * 60, None)
    people = {r.id: r for r in online.practitioner_rules(world.desk.ctx)}
    online.save_practitioner_rules(
        world.desk.ctx, online.PractitionerRules(alex, "Alex Ng", True, 96 * 60, None)
    )
    online.save_practitioner_rules(
        world.desk.ctx, online.PractitionerRules(bea, people[bea].name, False, None, None)
    )
    assert world.desk.sync()
    reply = _slots(clinic, token, appointment_type_id=world.type_id, limit=2000)
    assert {x["practitioner_id"] for x in reply["slots"]} == {alex}
    assert [n["practitioner_id"] for n in reply["next_available"]] == [alex]
    # Alex's 96 hours (beside the type's 24): from Tuesday 1 December 09:00
    first = min(parse(x["start"]) for x in reply["slots"])
    assert first == datetime.fromisoformat("2026-12-01T09:00:00+11:00")
    asked = clinic.client.get(
        f"{API}/availability",
        headers=auth(token),
        params={"appointment_type_id": world.type_id, "practitioner_id": bea},
    )
    assert asked.status_code == 422 and asked.json()["code"] == "practitioner_not_online"
    before = _count(clinic)
    held = _hold(clinic, token, world, bea, "2026-12-02T10:00:00+11:00")
    assert held.status_code == 422, held.text
    assert held.json()["detail"] == (
        "Bea Ng does not take online bookings: offer another practitioner, or ask the caller "
        "to ring the clinic."
    )
    assert _count(clinic) == before
    # the practitioner's rule goes back to the type's: Alex is bookable from Saturday's
    # notice on (the first rostered time is Monday 30 November 09:00)
    online.save_practitioner_rules(
        world.desk.ctx, online.PractitionerRules(alex, "Alex Ng", True, None, None)
    )
    assert world.desk.sync()
    again = _slots(clinic, token, appointment_type_id=world.type_id, practitioner_id=alex)
    assert again["slots"][0]["start"] == "2026-11-30T09:00:00+11:00"
