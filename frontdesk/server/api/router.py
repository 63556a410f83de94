"""The integration API's routes (``/api/v1``): typed bodies (``api/models.py``), problem+json
errors (``api/problems.py``), a key and its scopes on every call (``api/keys.py``), and each
call recorded in the API audit log by ``install_api``'s middleware.

Over 400 lines on purpose: the REST API's routes are thin (parse, check scope, call the
module that does the work), and one place lists every path of ``/api/v1`` with its scope; the
change feed, FHIR view and calendar feed are routers of their own.
"""

from __future__ import annotations

import json
import threading
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ValidationError
from sqlalchemy import bindparam, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontdesk.gc_tuning import settle_server_heap
from frontdesk.server import schema as s
from frontdesk.server.api import availability as av
from frontdesk.server.api import booking, clinic, keys, models, patients
from frontdesk.server.api.guard import NulGuard
from frontdesk.server.api.phone_index import PhoneIndex
from frontdesk.server.api.problems import MEDIA_TYPE, ApiProblem
from frontdesk.server.api.slot_cache import LOG_EPOCH, LOG_TOP, SlotCache
from frontdesk.server.processes import Lease, shared_buckets
from frontdesk.server.store import ServerStore

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX, tags=["integration API"])
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROBLEM = {
    "model": dict[str, Any],
    "description": "RFC 9457 problem details",
    "content": {MEDIA_TYPE: {}},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: PROBLEM for code in (400, 401, 403, 404, 409, 410, 412, 422, 428, 429)
}


def _store(request: Request) -> ServerStore:
    store: ServerStore = request.app.state.store
    return store


async def _the_store(request: Request) -> ServerStore:
    """``Store``: a coroutine, so FastAPI does not send it to a worker thread and back."""
    return _store(request)


def caller(
    request: Request, authorization: Annotated[str, Header()] = "", *, later: bool = False
) -> keys.ApiKey:
    store = _store(request)
    return _admit(request, keys.authenticate(store, authorization, later=later))


def _admit(request: Request, key: keys.ApiKey) -> keys.ApiKey:
    request.state.api_key = key
    request.app.state.api_limiter.take(key)
    return key


async def writer(request: Request, authorization: Annotated[str, Header()] = "") -> keys.ApiKey:
    """``caller`` for the routes that check the key again in their own transaction (writes,
    availability): a key this process has seen valid is admitted on the event loop — no read,
    no hop to a worker thread and back (two of them a call, with ``scoped``'s, were a good
    part of one process's CPU an availability call); any other is read on a thread."""
    key = keys.seen(_store(request), authorization)
    if key is None:
        return await run_in_threadpool(caller, request, authorization, later=True)
    return _admit(request, key)


def scoped(scope: keys.Scope, *, later: bool = False) -> Any:
    """The key with ``scope``; ``later``: the route checks it is not revoked in its own
    transaction (``writer``)."""

    def need(request: Request, key: Annotated[keys.ApiKey, Depends(caller)]) -> keys.ApiKey:
        key.require(scope)
        return key

    async def need_to_write(
        request: Request, key: Annotated[keys.ApiKey, Depends(writer)]
    ) -> keys.ApiKey:
        if scope.value not in key.scopes:  # a revoked key is told that first, as on reads
            try:
                await run_in_threadpool(
                    keys.authenticate, _store(request), request.headers.get("authorization", "")
                )
            except ApiProblem:
                request.state.api_key = None  # not a call of a valid key: not recorded
                raise
        key.require(scope)
        return key

    return Depends(need_to_write if later else need)


Store = Annotated[ServerStore, Depends(_the_store)]
Reader = Annotated[keys.ApiKey, scoped(keys.Scope.AVAILABILITY)]
Booker = Annotated[keys.ApiKey, scoped(keys.Scope.APPOINTMENTS)]
Writer = Annotated[keys.ApiKey, scoped(keys.Scope.APPOINTMENTS, later=True)]
Searcher = Annotated[keys.ApiKey, scoped(keys.Scope.AVAILABILITY, later=True)]
Finder = Annotated[keys.ApiKey, scoped(keys.Scope.PATIENTS_READ)]
Maker = Annotated[keys.ApiKey, scoped(keys.Scope.PATIENTS_WRITE, later=True)]
Cursor = Annotated[str | None, Query(max_length=64, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=clinic.MAX_PAGE)]
Since = Annotated[AwareDatetime | None, Query(description="only rows changed at or after")]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=80)]


def _op(request: Request, name: str, patient_id: str | None = None) -> None:
    request.state.api_op = name
    if patient_id is not None:
        request.state.api_patient = patient_id


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


# -- the clinic -------------------------------------------------------------------------------
def _listing(
    store: ServerStore,
    table: str,
    cursor: str | None,
    limit: int,
    since: datetime | None,
    shape: Any,
) -> dict[str, Any]:
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        rows, nxt = clinic.page(conn, table, cursor=cursor, limit=limit, updated_since=_utc(since))
    return {"items": [shape(r, tz) for r in rows], "next_cursor": nxt}


@router.get("/locations", response_model=models.LocationPage, responses=ERRORS)
def locations(
    request: Request,
    key: Reader,
    store: Store,
    cursor: Cursor = None,
    limit: Limit = 100,
    updated_since: Since = None,
) -> Any:
    _op(request, "list locations")
    return _listing(
        store,
        "locations",
        cursor,
        limit,
        updated_since,
        lambda r, tz: {
            "id": r["id"],
            "name": r["name"],
            "address": r["address"],
            "phone": r["phone"],
            "updated_at": booking.iso(r["updated_at"], tz),
        },
    )


@router.get("/practitioners", response_model=models.PractitionerPage, responses=ERRORS)
def practitioners(
    request: Request,
    key: Reader,
    store: Store,
    cursor: Cursor = None,
    limit: Limit = 100,
    updated_since: Since = None,
) -> Any:
    _op(request, "list practitioners")
    return _listing(
        store,
        "practitioners",
        cursor,
        limit,
        updated_since,
        lambda r, tz: {
            "id": r["id"],
            "display_name": r["display_name"],
            "profession": r["profession"],
            "default_location_id": r["default_location_id"],
            "updated_at": booking.iso(r["updated_at"], tz),
        },
    )


@router.get("/appointment-types", response_model=models.AppointmentTypePage, responses=ERRORS)
def appointment_types(
    request: Request,
    key: Reader,
    store: Store,
    cursor: Cursor = None,
    limit: Limit = 100,
    updated_since: Since = None,
) -> Any:
    _op(request, "list appointment types")
    return _listing(
        store,
        "appointment_types",
        cursor,
        limit,
        updated_since,
        lambda r, tz: {
            "id": r["id"],
            "name": r["name"],
            "duration_minutes": r["duration_minutes"],
            "profession": r["profession"],
            "online_bookable": bool(r["online_bookable"]),
            "practitioner_ids": (r["practitioner_ids"] or "").split(),
            "is_new_patient": bool(r["is_new_patient"]),
            "updated_at": booking.iso(r["updated_at"], tz),
        },
    )


@router.get("/rooms", response_model=models.RoomPage, responses=ERRORS)
def rooms(
    request: Request,
    key: Reader,
    store: Store,
    cursor: Cursor = None,
    limit: Limit = 100,
    updated_since: Since = None,
) -> Any:
    _op(request, "list rooms")
    return _listing(
        store,
        "rooms",
        cursor,
        limit,
        updated_since,
        lambda r, tz: {
            "id": r["id"],
            "name": r["name"],
            "location_id": r["location_id"],
            "bookable": bool(r["bookable"]),
            "updated_at": booking.iso(r["updated_at"], tz),
        },
    )


# -- availability -----------------------------------------------------------------------------
def _weekday_mask(text: str | None) -> int:
    if not text:
        return 0b1111111
    mask = 0
    for part in text.lower().replace(" ", "").split(","):
        if part[:3] not in WEEKDAYS:
            raise ApiProblem(400, f"{part[:12]!r} is not a day: use mon,tue,…,sun.", "bad_weekday")
        mask |= 1 << WEEKDAYS.index(part[:3])
    return mask


def _minute(text: str | None, default: int) -> int:
    if not text:
        return default
    try:
        t = time.fromisoformat(text)
    except ValueError as exc:
        raise ApiProblem(
            400, f"{text[:12]!r} is not a time of day: use HH:MM.", "bad_time"
        ) from exc
    return t.hour * 60 + t.minute


# An availability call's first statement: the change log's clock (``SlotCache.catch_up``)
# and whether its key is known and not revoked (``Searcher``: not read before the call).
_SEARCH_OPENING = select(
    LOG_EPOCH,
    LOG_TOP,
    select(s.api_keys.c.id).where(s.api_keys.c.id == bindparam("key")).scalar_subquery(),
    select(s.api_keys.c.revoked_at).where(s.api_keys.c.id == bindparam("key")).scalar_subquery(),
)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as the OpenAPI description's parameters, each under its name in
    the URL, as FastAPI publishes a route's own query parameters."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return [
        {"name": name, "in": "query", "required": False, "schema": field}
        for name, field in schema["properties"].items()
    ]


def _query(request: Request, model: type[QueryModel]) -> QueryModel:
    """A route's query parameters as ``model``, validated in one pydantic pass: FastAPI's own
    validation of them, field by field, took a good part of one server process's CPU an
    availability call. A list is a repeated parameter; a refusal is told as FastAPI's is."""
    given = request.query_params
    data: dict[str, Any] = {}
    for name in _ALIASES[model]:
        values = given.getlist(name)
        if values:
            data[name] = values if name in _REPEATED[model] else values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


QueryModel = TypeVar("QueryModel", bound=BaseModel)


def _is_list(annotation: Any) -> bool:
    return any(get_origin(a) is list for a in (annotation, *get_args(annotation)))


_ALIASES: dict[type[BaseModel], tuple[str, ...]] = {}
_REPEATED: dict[type[BaseModel], frozenset[str]] = {}
for _model in (models.AvailabilityQuery,):
    _ALIASES[_model] = tuple(f.alias or n for n, f in _model.model_fields.items())
    _REPEATED[_model] = frozenset(
        f.alias or n for n, f in _model.model_fields.items() if _is_list(f.annotation)
    )


@router.get(
    "/availability",
    response_model=models.AvailabilityReply,
    responses=ERRORS,
    openapi_extra={"parameters": _query_parameters(models.AvailabilityQuery)},
)
def availability(request: Request, key: Searcher, store: Store) -> Any:
    """Free times for a type (or profession) across the clinic, at most 90 days at a time,
    and each practitioner's next free time in the window."""
    _op(request, "availability")
    q = _query(request, models.AvailabilityQuery)
    practitioner_id, location_id, limit = q.practitioner_id, q.location_id, q.limit
    now = store.now()
    cache: SlotCache = request.app.state.slot_cache
    with store.reading() as conn:
        epoch, top, known, revoked_at = conn.execute(_SEARCH_OPENING, {"key": key.id}).one()
        if known is None or revoked_at is not None:
            request.state.api_key = None  # not a call of a valid key: not recorded
            raise keys.revoked()
        at = cache.catch_up(conn, clock=(epoch, top))
        mask = _weekday_mask(q.weekdays)
        lo, hi = _minute(q.earliest, 0), _minute(q.latest, 1440)
        first = _utc(q.start) or now
        last = _utc(q.end) or first + timedelta(days=14)

        def fact(name: Any, make: Any) -> Any:
            return cache.memo(at, name, make)

        tz = fact("zone", lambda: clinic.clinic_zone(conn))
        want = av.demand(
            conn,
            type_id=q.appointment_type_id,
            profession=q.profession,
            practitioner_ids=practitioner_id or (),
            location_id=location_id,
            online_only=q.online_only,
            fact=fact,
        )
        slots, firsts, more = av.search(
            conn,
            want,
            first,
            last,
            now,
            tz,
            weekdays=mask,
            earliest_minute=lo,
            latest_minute=hi,
            limit=limit,
            cache=cache,
            position=at,
        )
    locs = {p["id"]: p["default_location_id"] for p in want.practitioners}
    tid = want.type_row["id"] if want.type_row else None

    def slot(sl: Any) -> dict[str, Any]:
        return {
            "practitioner_id": sl.practitioner_id,
            "start": _iso(sl.start, tz),
            "end": _iso(sl.end, tz),
            "location_id": locs.get(sl.practitioner_id),
            "appointment_type_id": tid,
        }

    # answered as built (the shapes are models.AvailabilityReply's, which the OpenAPI
    # description publishes and tests/server/test_api.py checks): validating a month of
    # slots again through the response model took longer than finding them
    return JSONResponse({
        "slots": [slot(sl) for sl in slots],
        "next_available": [
            {"practitioner_id": pid, "next": slot(sl) if sl else None} for pid, sl in firsts.items()
        ],
        "truncated": more,
    })  # fmt: skip


@lru_cache(maxsize=65536)
def _iso(instant: datetime, tz: ZoneInfo) -> str:
    """``booking.iso``, remembered: the same slot times come back call after call."""
    return booking.iso(instant, tz)


# -- holds and bookings -----------------------------------------------------------------------
def _answer(status: int, body: dict[str, Any], replayed: bool = False, **headers: str) -> Response:
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if status == 204:
        return Response(status_code=204, headers=headers)
    if "version" in body:
        headers["ETag"] = f'"{body["version"]}"'
    return JSONResponse(body, status_code=status, headers=headers)


async def _write(
    store: ServerStore, key: keys.ApiKey, idem: str | None, request: Request, body: Any, work: Any
) -> Response:
    digest = booking.request_hash(request.method, request.url.path, body)

    def note(conn: Any, answer: booking.Answer) -> None:
        status, out = answer
        patient = getattr(request.state, "api_patient", None) or out.get("patient_id")
        if patient is None and isinstance(out.get("patient"), dict):
            patient = out["patient"].get("id")
        op = getattr(request.state, "api_op", request.url.path[:60])
        keys.insert_call(conn, store.now(), key, op, status, patient)
        request.state.api_recorded = True

    try:
        (status, out), replayed = await run_in_threadpool(
            booking.idempotent, store, key, idem, digest, work, note,
            cache=request.app.state.slot_cache,
        )  # fmt: skip
    except ApiProblem as exc:
        if exc.status == 401:  # revoked meanwhile: not a call of a valid key (``caller``)
            request.state.api_key = None
        raise
    return _answer(status, out, replayed)


@router.post("/holds", status_code=201, response_model=models.Hold, responses=ERRORS)
async def create_hold(
    request: Request,
    body: models.HoldRequest,
    key: Writer,
    store: Store,
    idempotency_key: IdemKey = None,
) -> Any:
    """Hold a time for a few minutes while the caller decides; it lapses by itself."""
    _op(request, "hold")
    data = body.model_dump()
    data["start"] = body.start.astimezone(UTC)
    return await _write(
        store,
        key,
        idempotency_key,
        request,
        body.model_dump(mode="json"),
        lambda conn: booking.hold(store, conn, key, data),
    )


@router.delete(
    "/holds/{hold_id}",
    status_code=204,
    responses=ERRORS,
    response_class=Response,
    response_model=None,
)
async def delete_hold(request: Request, hold_id: str, key: Writer, store: Store) -> Any:
    _op(request, "release hold")
    return await _write(
        store, key, None, request, {}, lambda conn: booking.release_hold(store, conn, key, hold_id)
    )


@router.post("/appointments", status_code=201, response_model=models.Appointment, responses=ERRORS)
async def book(
    request: Request,
    body: models.BookRequest,
    key: Writer,
    store: Store,
    idempotency_key: IdemKey = None,
) -> Any:
    """Book (from a hold, or a practitioner, type and start). Send an Idempotency-Key: the same
    key and body give the same answer and never a second appointment."""
    _op(request, "book", body.patient_id)
    if not idempotency_key:
        raise ApiProblem(
            428,
            "Send an Idempotency-Key header (any unique string, e.g. a UUID) "
            "so a retried booking never makes a second appointment.",
            "idempotency_key_required",
        )
    data = body.model_dump()
    data["start"] = _utc(body.start)
    return await _write(
        store,
        key,
        idempotency_key,
        request,
        body.model_dump(mode="json"),
        lambda conn: booking.book(store, conn, key, data),
    )


@router.get("/appointments/{appointment_id}", response_model=models.Appointment, responses=ERRORS)
def get_appointment(request: Request, appointment_id: str, key: Booker, store: Store) -> Any:
    _op(request, "read appointment")
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        row = clinic.one(conn, "appointments", appointment_id, "appointment")
    request.state.api_patient = row["patient_id"]
    return _answer(200, booking.appointment_json(row, tz))


@router.post(
    "/appointments/{appointment_id}/move", response_model=models.Appointment, responses=ERRORS
)
async def move(
    request: Request,
    appointment_id: str,
    body: models.MoveRequest,
    key: Writer,
    store: Store,
    idempotency_key: IdemKey = None,
    if_match: IfMatch = None,
) -> Any:
    """Move to a new start (and optionally practitioner); If-Match with the ETag guards
    against moving an appointment someone changed meanwhile."""
    _op(request, "move")
    data = body.model_dump()
    data["start"] = body.start.astimezone(UTC)
    return await _write(
        store,
        key,
        idempotency_key,
        request,
        body.model_dump(mode="json"),
        lambda conn: booking.move(store, conn, key, appointment_id, data, if_match),
    )


@router.post(
    "/appointments/{appointment_id}/cancel", response_model=models.Appointment, responses=ERRORS
)
async def cancel(
    request: Request,
    appointment_id: str,
    body: models.CancelRequest,
    key: Writer,
    store: Store,
    idempotency_key: IdemKey = None,
    if_match: IfMatch = None,
) -> Any:
    """Cancel with one of the reasons the desks use."""
    _op(request, "cancel")
    return await _write(
        store,
        key,
        idempotency_key,
        request,
        body.model_dump(mode="json"),
        lambda conn: booking.cancel(store, conn, key, appointment_id, body.model_dump(), if_match),
    )


# -- patients ---------------------------------------------------------------------------------
@router.get("/patients", response_model=models.PatientMatches, responses=ERRORS)
def find_patients(
    request: Request,
    key: Finder,
    store: Store,
    phone: Annotated[str | None, Query(max_length=40, examples=["0412 345 678"])] = None,
    email: Annotated[str | None, Query(max_length=200)] = None,
    first_name: Annotated[str | None, Query(max_length=100)] = None,
    last_name: Annotated[str | None, Query(max_length=100)] = None,
    date_of_birth: date | None = None,
) -> Any:
    """Find the caller: by phone number (any format), by email, or by name and date of birth."""
    _op(request, "find patients")
    with store.reading() as conn:
        tz = clinic.clinic_zone(conn)
        if phone:
            rows = patients.by_phone(conn, phone, request.app.state.phone_index)
        elif email:
            rows = patients.by_email(conn, email)
        elif first_name and last_name and date_of_birth:
            rows = patients.by_name(conn, first_name, last_name, date_of_birth)
        else:
            raise ApiProblem(
                400,
                "Look up by phone, by email, or by first_name, last_name and "
                "date_of_birth together.",
                "missing_query",
            )
    if len(rows) == 1:
        request.state.api_patient = rows[0]["id"]
    return {"items": [patients.patient_json(r, tz, full=True) for r in rows]}


@router.post("/patients", response_model=models.PatientCreated, responses=ERRORS)
async def create_patient(
    request: Request,
    body: models.PatientCreate,
    key: Maker,
    store: Store,
    idempotency_key: IdemKey = None,
) -> Any:
    """Create a patient; when the clinic already has them (same name and birth date, phone or
    email) that record is answered instead (200, created false), never a duplicate."""
    _op(request, "create patient")
    full = keys.Scope.PATIENTS_READ.value in key.scopes

    def work(conn: Any) -> booking.Answer:
        tz = clinic.clinic_zone(conn)
        row, made = patients.create(store, conn, key.name, body.model_dump())
        return (201 if made else 200), {
            "created": made,
            "patient": patients.patient_json(row, tz, full=full),
        }

    response = await _write(
        store, key, idempotency_key, request, body.model_dump(mode="json"), work
    )
    request.state.api_patient = json.loads(bytes(response.body))["patient"]["id"]
    return response


# -- the app's side: errors and the call log --------------------------------------------------
def problem_response(exc: ApiProblem, request: Request) -> JSONResponse:
    if request.url.path.startswith("/fhir/"):
        from frontdesk.server.api.fhir import MEDIA, outcome

        return JSONResponse(
            outcome(exc), status_code=exc.status, headers=exc.headers, media_type=MEDIA
        )
    return JSONResponse(
        exc.body(request.url.path),
        status_code=exc.status,
        headers=exc.headers,
        media_type=MEDIA_TYPE,
    )


def _store_of(app: FastAPI) -> ServerStore:
    store: ServerStore = app.state.store
    return store


def is_api(request: Request) -> bool:
    return request.url.path.startswith((PREFIX, "/fhir/"))


def validation_problem(exc: RequestValidationError, request: Request) -> JSONResponse:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    problem = ApiProblem(
        422, "The request was not understood (" + "; ".join(parts) + ").", "invalid_request"
    )
    return problem_response(problem, request)


def http_problem(exc: StarletteHTTPException, request: Request) -> JSONResponse:
    detail = "There is no such endpoint: see /openapi.json for the API's paths."
    if exc.status_code == 405:
        detail = "That method is not allowed here: see /openapi.json for the API's paths."
    problem = ApiProblem(exc.status_code, detail, "no_route")
    return problem_response(problem, request)


def install_api(app: FastAPI) -> None:
    """Mount the router, the limiter and the call log (after the response: key, operation,
    patient id and status; nothing else)."""
    from frontdesk.server.api.feeds import calendar_router
    from frontdesk.server.api.feeds import router as feeds
    from frontdesk.server.api.fhir import router as fhir
    from frontdesk.server.api.webhooks import Dispatcher

    app.state.api_limiter = keys.RateLimiter(shared_buckets(_store_of(app)))
    app.state.slot_cache = SlotCache()
    app.state.phone_index = PhoneIndex()
    app.state.call_log = keys.CallLog()
    app.include_router(router)
    app.include_router(feeds)
    app.include_router(calendar_router)
    app.include_router(fhir)
    dispatcher = Dispatcher(_store_of(app), app.state.call_log, lease=Lease(_store_of(app)))
    app.state.webhooks = dispatcher
    app.router.on_startup.append(dispatcher.start)
    app.router.on_startup.append(lambda: _warm(app))
    app.router.on_startup.append(lambda: _settle(app))
    app.router.on_shutdown.append(dispatcher.stop)

    app.add_middleware(CallRecorder)
    app.add_middleware(NulGuard, prefixes=(PREFIX, "/fhir/", "/feeds/"))


def _warm(app: FastAPI) -> None:
    """Build the phone index on a thread as the server starts (150,000 patients take a
    second or two), not in the first caller's look-up; then out of the garbage collector's
    passes with the rest of what the server keeps (``gc_tuning``)."""

    def build() -> None:
        with suppress(Exception), _store_of(app).reading() as conn:  # the look-up builds it
            app.state.phone_index.candidates(conn, "0")
        _settle(app)

    threading.Thread(target=build, name="phone-index", daemon=True).start()


def _settle(app: FastAPI) -> None:
    """In a serving process (``create_app(serving=True)``), what it keeps for good out of the
    garbage collector's passes (``gc_tuning.settle_server_heap``); not in tests' apps, which
    come and go in one process."""
    if getattr(app.state, "serving", False):
        settle_server_heap()


class CallRecorder:
    """After each integration-API call, its row in the call log (``install_api``): a plain
    ASGI middleware reading what the route left in the request's state."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith((PREFIX, "/fhir/")):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":  # the route has said all it will
                await self._record(scope, state, int(message["status"]))
            await send(message)

        await self.app(scope, receive, sending)

    async def _record(self, scope: dict[str, Any], state: dict[str, Any], status: int) -> None:
        key = state.get("api_key")
        if key is None or state.get("api_recorded", False):
            return
        op = state.get("api_op", scope["path"][:60])
        store: ServerStore = scope["app"].state.store
        calls: keys.CallLog = scope["app"].state.call_log
        if calls.add(store, key, op, status, state.get("api_patient")):
            await run_in_threadpool(calls.flush, store)
