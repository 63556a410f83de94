"""The FHIR R4 view: resources validated with ``fhir.resources`` (its R4B models, the R4
line's latest), and the IHE ITI Scheduling operations $find, $hold and $book on the same
services as the REST API (a booking reaches the desks the same way)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

from frontdesk.models import Appointment
from tests.server.api_world import auth, build, key
from tests.sync.clinic import Clinic

FHIR = "/fhir/R4"


def _json(r: Any) -> Any:
    assert r.headers["content-type"].startswith("application/fhir+json"), r.headers
    return r.json()


def test_find_hold_book_and_read_as_valid_fhir(clinic: Clinic) -> None:
    world = build(clinic)
    token = key(clinic.store)
    pr = _json(clinic.client.get(f"{FHIR}/Practitioner", headers=auth(token)))
    bundle = Bundle.model_validate(pr)
    assert {e.resource.id for e in bundle.entry} == set(world.practitioners)
    Bundle.model_validate(_json(clinic.client.get(f"{FHIR}/Schedule", headers=auth(token))))
    found = _json(
        clinic.client.get(
            f"{FHIR}/Appointment/$find",
            headers=auth(token),
            params={
                "start": "2026-11-30T00:00:00+11:00",
                "end": "2026-12-01T00:00:00+11:00",
                "service-type": world.type_id,
                "_count": 3,
            },
        )
    )
    proposals = Bundle.model_validate(found)
    assert len(proposals.entry) == 3
    first = found["entry"][0]["resource"]
    assert first["status"] == "proposed" and first["start"].startswith("2026-11-30T09:00:00+11:00")
    held = clinic.client.post(f"{FHIR}/Appointment/$hold", headers=auth(token), json=first)
    assert held.status_code == 201, held.text
    pending = _json(held)
    FhirAppointment.model_validate(pending)
    assert pending["status"] == "pending"
    pending["participant"].append(
        {"actor": {"reference": f"Patient/{world.patient_id}"}, "status": "accepted"}
    )
    booked = clinic.client.post(
        f"{FHIR}/Appointment/$book",
        json=pending,
        headers=auth(token, **{"Idempotency-Key": "fhir-1"}),
    )
    assert booked.status_code == 201, booked.text
    appt = FhirAppointment.model_validate(_json(booked))
    assert appt.status == "booked" and appt.id != pending["id"]
    read = FhirAppointment.model_validate(
        _json(clinic.client.get(f"{FHIR}/Appointment/{appt.id}", headers=auth(token)))
    )
    assert read.start == appt.start
    patient = FhirPatient.model_validate(
        _json(clinic.client.get(f"{FHIR}/Patient/{world.patient_id}", headers=auth(token)))
    )
    assert patient.birthDate.isoformat() == "1980-05-17"
    assert world.desk.sync()
    with world.desk.ctx.read() as session:
        assert session.get(Appointment, appt.id) is not None
    # the same slot again: an OperationOutcome, nothing booked
    again = clinic.client.post(
        f"{FHIR}/Appointment/$book",
        json={
            **first,
            "participant": [
                *first["participant"],
                {"actor": {"reference": f"Patient/{world.patient_id}"}, "status": "accepted"},
            ],
        },
        headers=auth(token, **{"Idempotency-Key": "fhir-2"}),
    )
    assert again.status_code == 409
    oo = OperationOutcome.model_validate(_json(again))
    assert oo.issue[0].code == "conflict" and "taken" in oo.issue[0].diagnostics
    wrong = clinic.client.get(f"{FHIR}/Practitioner", headers=auth("fdk_wrong"))
    assert wrong.status_code == 401
    OperationOutcome.model_validate(_json(wrong))
