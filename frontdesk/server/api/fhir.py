"""A FHIR R4 view of the same data and services (``/fhir/R4``): Practitioner, Schedule,
Appointment and a minimal Patient, and the IHE ITI Scheduling operations ``Appointment/$find``
(free times as proposed appointments), ``$hold`` and ``$book``, mapped onto the availability,
hold and booking code the integration API uses. Same keys and scopes; errors are
OperationOutcome resources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select

from frontdesk.server.api import availability as av
from frontdesk.server.api import booking, clinic, keys
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.changelog import TABLES
from frontdesk.server.store import ServerStore

PREFIX = "/fhir/R4"
MEDIA = "application/fhir+json"
router = APIRouter(prefix=PREFIX, tags=["FHIR R4"])


def _key(request: Request, authorization: Annotated[str, Header()] = "") -> keys.ApiKey:
    from frontdesk.server.api.router import caller

    return caller(request, authorization)


Key = Annotated[keys.ApiKey, Depends(_key)]


def _store(request: Request, op: str) -> ServerStore:
    request.state.api_op = f"fhir {op}"
    store: ServerStore = request.app.state.store
    return store


def _fhir(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA)


def outcome(problem: ApiProblem) -> dict[str, Any]:
    codes = {
        401: "security",
        403: "forbidden",
        404: "not-found",
        409: "conflict",
        410: "expired",
        429: "throttled",
    }
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": codes.get(problem.status, "invalid"),
                "diagnostics": problem.detail,
            }
        ],
    }


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }


def practitioner(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": r["id"],
        "active": r["archived_at"] is None,
        "name": [{"text": r["display_name"], "family": r["last_name"], "given": [r["first_name"]]}],
    }


def appointment(row: dict[str, Any], tz: Any) -> dict[str, Any]:
    status = {
        "booked": "booked",
        "arrived": "arrived",
        "in_session": "checked-in",
        "completed": "fulfilled",
        "did_not_arrive": "noshow",
        "cancelled": "cancelled",
    }.get(row["status"], "booked")
    participants = [
        {"actor": {"reference": f"Practitioner/{row['practitioner_id']}"}, "status": "accepted"}
    ]
    if row.get("patient_id"):
        participants.append(
            {"actor": {"reference": f"Patient/{row['patient_id']}"}, "status": "accepted"}
        )
    out: dict[str, Any] = {
        "resourceType": "Appointment",
        "status": status,
        "start": booking.iso(row["starts_at"], tz),
        "end": booking.iso(row["ends_at"], tz),
        "participant": participants,
    }
    if row.get("id"):
        out["id"] = row["id"]
    if row.get("appointment_type_id"):
        out["serviceType"] = [
            {
                "coding": [
                    {"system": "urn:frontdesk:appointment-type", "code": row["appointment_type_id"]}
                ]
            }
        ]
    return out


@router.get("/Practitioner")
def practitioners(request: Request, key: Key) -> Any:
    key.require(keys.Scope.AVAILABILITY)
    store = _store(request, "Practitioner")
    p = TABLES["practitioners"]
    with store.reading() as conn:
        rows = conn.execute(
            select(p).where(p.c.deleted_at.is_(None)).order_by(p.c.sort_order, p.c.id)
        ).mappings()
        return _fhir(_bundle([practitioner(dict(r)) for r in rows]))


@router.get("/Schedule")
def schedules(request: Request, key: Key) -> Any:
    key.require(keys.Scope.AVAILABILITY)
    store = _store(request, "Schedule")
    p = TABLES["practitioners"]
    with store.reading() as conn:
        ids = conn.execute(
            select(p.c.id).where(p.c.deleted_at.is_(None), p.c.archived_at.is_(None))
        ).scalars()
        found = [
            {
                "resourceType": "Schedule",
                "id": f"schedule-{pid}",
                "active": True,
                "actor": [{"reference": f"Practitioner/{pid}"}],
            }
            for pid in ids
        ]
    return _fhir(_bundle(found))


@router.get("/Appointment/$find")
def find(
    request: Request,
    key: Key,
    start: Annotated[datetime, Query()],
    end: Annotated[datetime, Query()],
    service_type: Annotated[str, Query(alias="service-type", max_length=36)],
    practitioner_id: Annotated[str | None, Query(alias="practitioner", max_length=36)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=500)] = 20,
) -> Any:
    """IHE ITI-115 Find Potential Appointments: free times as proposed Appointments."""
    key.require(keys.Scope.AVAILABILITY)
    store = _store(request, "$find")
    if start.tzinfo is None or end.tzinfo is None:
        raise ApiProblem(422, "Give start and end with an offset (ISO 8601).", "invalid")
    now = store.now()
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        want = av.demand(
            conn,
            type_id=service_type,
            profession=None,
            practitioner_ids=[practitioner_id] if practitioner_id else (),
        )
        slots, _first, _more = av.search(
            conn, want, start.astimezone(UTC), end.astimezone(UTC), now, tz, limit=count
        )
    proposed = [
        appointment(
            {
                "status": "booked",
                "practitioner_id": sl.practitioner_id,
                "starts_at": sl.start,
                "ends_at": sl.end,
                "appointment_type_id": service_type,
            },
            tz,
        )
        | {"status": "proposed"}
        for sl in slots
    ]
    return _fhir(_bundle(proposed))


def _from_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """practitioner, patient, type and start of an Appointment resource a client sent."""
    if resource.get("resourceType") != "Appointment":
        raise ApiProblem(422, "Send an Appointment resource.", "invalid")
    refs = [
        str((p.get("actor") or {}).get("reference", "")) for p in resource.get("participant", [])
    ]
    coding = ((resource.get("serviceType") or [{}])[0].get("coding") or [{}])[0]
    try:
        start = datetime.fromisoformat(str(resource.get("start", "")))
    except ValueError as exc:
        raise ApiProblem(
            422, "The Appointment needs a start in ISO 8601 with an offset.", "invalid"
        ) from exc
    if start.tzinfo is None:
        raise ApiProblem(422, "The Appointment's start needs an offset.", "invalid")
    return {
        "practitioner_id": next(
            (r.split("/", 1)[1] for r in refs if r.startswith("Practitioner/")), None
        ),
        "patient_id": next((r.split("/", 1)[1] for r in refs if r.startswith("Patient/")), None),
        "appointment_type_id": coding.get("code"),
        "start": start.astimezone(UTC),
    }


@router.post("/Appointment/$hold")
async def hold(request: Request, key: Key, resource: Annotated[dict[str, Any], Body()]) -> Any:
    """IHE ITI-116 Hold Appointment: answered as a pending Appointment whose id is the hold's."""
    key.require(keys.Scope.APPOINTMENTS)
    store = _store(request, "$hold")
    data = _from_resource(resource)
    if not (data["practitioner_id"] and data["appointment_type_id"]):
        raise ApiProblem(
            422,
            "The Appointment needs a Practitioner participant and a serviceType coding.",
            "invalid",
        )
    data["minutes"] = 5

    def work(conn: Any) -> booking.Answer:
        return booking.hold(store, conn, key, data)

    (_status, held), _replayed = await run_in_threadpool(
        booking.idempotent, store, key, None, "", work
    )
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
    body = appointment(
        {
            "id": held["id"],
            "status": "booked",
            "practitioner_id": held["practitioner_id"],
            "starts_at": datetime.fromisoformat(held["start"]),
            "ends_at": datetime.fromisoformat(held["end"]),
            "appointment_type_id": held["appointment_type_id"],
        },
        tz,
    )
    return _fhir(body | {"status": "pending"}, 201)


@router.post("/Appointment/$book")
async def book(
    request: Request,
    key: Key,
    resource: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Any:
    """IHE ITI-117 Book Appointment: a held Appointment (its id) or a proposed one, with a
    Patient participant."""
    key.require(keys.Scope.APPOINTMENTS)
    store = _store(request, "$book")
    data = _from_resource(resource)
    if not data["patient_id"]:
        raise ApiProblem(422, "The Appointment needs a Patient participant.", "invalid")
    data["hold_id"] = resource.get("id")
    data["notes"] = ""
    request.state.api_patient = data["patient_id"]
    digest = booking.request_hash("POST", request.url.path, resource)

    def work(conn: Any) -> booking.Answer:
        return booking.book(store, conn, key, data)

    (_status, made), _replayed = await run_in_threadpool(
        booking.idempotent, store, key, idempotency_key, digest, work
    )
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        row = clinic.one(conn, "appointments", made["id"], "appointment")
    return _fhir(appointment(row, tz), 201)


@router.get("/Appointment/{appointment_id}")
def read_appointment(request: Request, appointment_id: str, key: Key) -> Any:
    key.require(keys.Scope.APPOINTMENTS)
    store = _store(request, "Appointment")
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        row = clinic.one(conn, "appointments", appointment_id, "appointment")
    return _fhir(appointment(row, tz))


@router.get("/Patient/{patient_id}")
def read_patient(request: Request, patient_id: str, key: Key) -> Any:
    """A minimal Patient: name, birth date and mobile (patients:read)."""
    key.require(keys.Scope.PATIENTS_READ)
    store = _store(request, "Patient")
    request.state.api_patient = patient_id[:36]
    with store.reading() as conn:
        r = clinic.one(conn, "patients", patient_id, "patient")
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": r["id"],
        "identifier": [{"system": "urn:frontdesk:patient-number", "value": r["patient_number"]}],
        "name": [{"family": r["last_name"], "given": [r["first_name"]]}],
    }
    if r["date_of_birth"]:
        out["birthDate"] = r["date_of_birth"].isoformat()
    if r["mobile_phone"]:
        out["telecom"] = [{"system": "phone", "use": "mobile", "value": r["mobile_phone"]}]
    return _fhir(out)
