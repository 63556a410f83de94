"""Holds, bookings, moves and cancellations made through the integration API.

Each runs in one server write (``ServerStore.writing``: the process lock and, on PostgreSQL,
the advisory lock), so checking a time and taking it are one step: of two clients racing for
a slot exactly one wins, the other is told 409 with the next free times. A change is written
like any server-originated change: the row, a change-log entry from ``API_DEVICE`` (desks
pull it as they pull each other's) and an entry in the server's audit chain naming the key.

Over 400 lines on purpose: hold, book, move and cancel share the checks, the refusal with
alternatives, the idempotent write and the change-log stamping; apart they would import each
other's internals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from frontdesk.domain.diary import Problem, ProblemKind
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.server import schema as s
from frontdesk.server import trust
from frontdesk.server.api import availability as av
from frontdesk.server.api import keys
from frontdesk.server.api.clinic import clinic_zone, one
from frontdesk.server.api.keys import ApiKey
from frontdesk.server.api.problems import ApiProblem, not_found
from frontdesk.server.api.slot_cache import LOG_EPOCH, LOG_TOP, SlotCache
from frontdesk.server.changelog import SERVER_DEVICE, TABLES, flush_log, full_row, log_change
from frontdesk.server.store import API_DEVICE, ServerStore

Answer = tuple[int, dict[str, Any]]
# API_DEVICE, the change log's device for changes made through the API, is not SERVER_DEVICE,
# whose own bookkeeping (clash flags) the clash check skips; a desk that booked the same time
# offline meets an API booking as a clash, as it would another desk's.


# -- shapes -----------------------------------------------------------------------------------
def iso(instant: datetime, tz: ZoneInfo) -> str:
    """An instant in the clinic's zone with its offset (ISO 8601)."""
    return instant.astimezone(tz).isoformat()


def appointment_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "patient_id": row["patient_id"],
        "practitioner_id": row["practitioner_id"],
        "appointment_type_id": row["appointment_type_id"],
        "location_id": row["location_id"],
        "room_id": row["room_id"],
        "start": iso(row["starts_at"], tz),
        "end": iso(row["ends_at"], tz),
        "status": row["status"],
        "cancellation_reason": row["cancellation_reason"],
        "version": int(row["version"]),
        "updated_at": iso(row["updated_at"], tz),
    }


def hold_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "practitioner_id": row["practitioner_id"],
        "appointment_type_id": row["appointment_type_id"],
        "start": iso(row["starts_at"], tz),
        "end": iso(row["ends_at"], tz),
        "expires_at": iso(row["expires_at"], tz),
    }


# -- idempotency ------------------------------------------------------------------------------
def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# What a write reads first, in one statement: its key's row (revoked? last used?), the
# answer already given to its Idempotency-Key, the change log's epoch and newest position
# (the writer lock is held: the next entry is the one after it) and the head of the server's
# audit chain, which a booking, move or cancellation continues (``trust.head_of``).
_K, _I, _H = s.api_keys.c, s.api_idempotency.c, s.audit_heads.c
_SERVER_HEAD = [
    select(column).where(_H.chain_id == SERVER_DEVICE).scalar_subquery()
    for column in (_H.device_id, _H.seq, _H.hash)
]
_OPENING = (
    select(_K.revoked_at, _K.last_used_at, _I.request_hash, _I.status, _I.response_json,
           LOG_EPOCH, LOG_TOP, *_SERVER_HEAD)
    .select_from(s.api_keys.outerjoin(
        s.api_idempotency, and_(_I.key_id == _K.id, _I.idem_key == bindparam("idem"))
    ))
    .where(_K.id == bindparam("key"))
)  # fmt: skip
_REMEMBER = insert(s.api_idempotency)


def idempotent(
    store: ServerStore,
    key: ApiKey,
    idem_key: str | None,
    digest: str,
    work: Callable[[Connection], Answer],
    note: Callable[[Connection, Answer], None] | None = None,
    *,
    cache: SlotCache | None = None,
) -> tuple[Answer, bool]:
    """Run ``work`` in one write, or replay the answer first given for this Idempotency-Key
    (True when replayed). The same key with another request is refused. ``note`` records the
    call in the same transaction (one commit for the change and its audit row).

    The key is checked again in the write (revoked meanwhile, from any process: 401 and
    nothing changed), so the call's key may come unread from ``keys.authenticate(later=
    True)``. With ``cache`` (the slot cache), the clinic's facts — zone, type, practitioners,
    roster lines — come from it as of the log's newest position, and after the commit the
    cache is moved over this write's own entries (``SlotCache.followed``)."""
    with store.writing() as conn:
        opening = conn.execute(_OPENING, {"key": key.id, "idem": idem_key}).first()
        if opening is None or opening.revoked_at is not None:
            raise keys.revoked()
        conn.info["api_key_used"] = (key.id, opening.last_used_at)
        epoch, top = opening[5], int(opening[6] or 0)
        if opening[8] is not None:  # else ``head_of`` finds it (a chain without a head yet)
            trust.prime_head(conn, SERVER_DEVICE, (opening[7], int(opening[8]), opening[9]))
        if top:
            conn.info["next_seq"] = top + 1
        at = cache.catch_up(conn, clock=(epoch, top)) if cache is not None else None
        conn.info["api_cache"] = (cache, at)
        conn.info["api_places"] = {}
        conn.info["log_buffer"] = []  # the change log's rows in one statement, at the end
        if idem_key and opening.request_hash is not None:
            if opening.request_hash != digest:
                raise ApiProblem(
                    422,
                    "This Idempotency-Key was already used for a different request; use a "
                    "new key for a new request.",
                    "idempotency_key_reused",
                )
            replayed = (int(opening.status), json.loads(opening.response_json))
            if note is not None:
                note(conn, replayed)
            return replayed, True
        status, body = work(conn)
        if note is not None:
            note(conn, (status, body))
        if idem_key:
            conn.execute(
                _REMEMBER,
                {"key_id": key.id, "idem_key": idem_key, "request_hash": digest,
                 "status": status, "response_json": json.dumps(body), "at": store.now()},
            )  # fmt: skip
        entries = [(r["seq"], r["entity"], r["row_id"]) for r in conn.info["log_buffer"]]
        flush_log(conn)
        trust.flush_heads(store, conn)
        store.publish_newest(conn)  # long-polls woken once this commits
        newest = store.newest_seq(conn)  # (the last position this write took: no query)
        places: dict[str, Any] = conn.info["api_places"]
        tz = zone(conn) if places else None
    if cache is not None and at is not None:
        cache.followed(at, newest, entries, places, tz)
    return (status, body), False


def _facts(conn: Connection) -> tuple[av.Fact, SlotCache | None, int | None]:
    """The clinic's facts in this write: from the slot cache as of its position, when the
    write has one (``idempotent``), else read."""
    cache, at = conn.info.get("api_cache") or (None, None)
    if cache is None or at is None:
        return av.afresh, None, None
    return (lambda name, make: cache.memo(at, name, make)), cache, at


def zone(conn: Connection) -> ZoneInfo:
    zone: ZoneInfo = _facts(conn)[0]("zone", lambda: clinic_zone(conn))
    return zone


def _rules(conn: Connection, practitioner_id: str) -> dict[str, list[Any]] | None:
    _fact, cache, at = _facts(conn)
    if cache is None or at is None:
        return None
    return cache.rules(conn, at, [practitioner_id])


def _placed(conn: Connection, row: dict[str, Any]) -> None:
    """Where a booking this write changed now is (``SlotCache.followed``)."""
    places = conn.info.get("api_places")
    if places is not None:
        places[row["id"]] = (
            row["practitioner_id"], row["room_id"],
            row["starts_at"].timestamp(), row["ends_at"].timestamp(),
        )  # fmt: skip


# -- checks -----------------------------------------------------------------------------------
def _refuse(
    conn: Connection,
    problems: list[Problem],
    want: av.Demand,
    practitioner: dict[str, Any],
    start: datetime,
    now: datetime,
    tz: ZoneInfo,
) -> ApiProblem:
    """A 422 for a time the rules never allow, a 409 (with the next free times) for a taken one."""
    detail = " ".join(p.message for p in problems)
    taken = {ProblemKind.PRACTITIONER_CLASH, ProblemKind.ROOM_CLASH}
    if not any(p.kind in taken for p in problems):
        code = "in_the_past" if problems[0].kind is ProblemKind.PAST else "not_bookable"
        return ApiProblem(422, detail, code)
    near = av.Demand(want.type_row, want.minutes, [practitioner])
    after = max(start, now)
    # through the slot cache when the write has it: caught up in this very transaction
    # (``idempotent``), so its days are this snapshot's, as an availability call's are
    _fact, cache, at = _facts(conn)
    slots, _first, _more = av.search(
        conn, near, after, after + timedelta(days=28), now, tz, limit=3, cache=cache, position=at
    )
    alternatives = [
        {"practitioner_id": sl.practitioner_id, "start": iso(sl.start, tz), "end": iso(sl.end, tz)}
        for sl in slots
    ]
    return ApiProblem(
        409, f"That time was just taken. {detail}", "slot_taken", alternatives=alternatives
    )


def _demand_for(conn: Connection, practitioner_id: str, type_id: str) -> tuple[av.Demand, Any]:
    want = av.demand(conn, type_id=type_id, profession=None, fact=_facts(conn)[0])
    prac = next((p for p in want.practitioners if p["id"] == practitioner_id), None)
    if prac is None:
        row = one(conn, "practitioners", practitioner_id, "practitioner")  # 404 when unknown
        if not row["online_bookable"]:
            raise av.not_online(row)
        raise ApiProblem(
            422, "That practitioner does not offer that appointment type.", "not_offered"
        )
    return want, prac


# -- holds ------------------------------------------------------------------------------------
def hold(store: ServerStore, conn: Connection, key: ApiKey, body: dict[str, Any]) -> Answer:
    tz = zone(conn)
    now = store.now()
    want, prac = _demand_for(conn, body["practitioner_id"], body["appointment_type_id"])
    start: datetime = body["start"]
    end = start + timedelta(minutes=want.minutes)
    av.check_rules(want, prac, start, now, tz)
    problems, room = av.check_time(conn, prac, start, end, now, tz, rules=_rules(conn, prac["id"]))
    if problems:
        raise _refuse(conn, problems, want, prac, start, now, tz)
    row = {
        "id": uuid7(),
        "key_id": key.id,
        "practitioner_id": prac["id"],
        "appointment_type_id": body["appointment_type_id"],
        "location_id": prac["default_location_id"],
        "room_id": room,
        "starts_at": start,
        "ends_at": end,
        "expires_at": now + timedelta(minutes=int(body["minutes"])),
        "appointment_id": None,
        "released_at": None,
    }
    conn.execute(_HOLD_ROW, row)
    _mark_hold(store, conn, row, now)
    return 201, hold_json(row, tz)


_HOLD_ROW = insert(s.api_holds)
# the desks' copy of a hold (``appointment_holds``), which they draw as a tentative block
_MARKED = ("practitioner_id", "appointment_type_id", "room_id", "starts_at", "ends_at",
           "expires_at", "released_at", "appointment_id")  # fmt: skip


def _mark_hold(store: ServerStore, conn: Connection, hold: dict[str, Any], now: datetime) -> None:
    table = TABLES["appointment_holds"]
    values = full_row(
        table,
        {"id": hold["id"], "version": 1, "created_at": now, "updated_at": now,
         "deleted_at": None, **{k: hold[k] for k in _MARKED}},
    )  # fmt: skip
    conn.execute(insert(table), values)
    log_change(store, conn, "appointment_holds", hold["id"], "insert", 1, values, API_DEVICE, None)


def _end_mark(
    store: ServerStore, conn: Connection, hold_id: str, version: Any = -1, **changes: Any
) -> None:
    """The hold was released or booked: the desks stop drawing it. ``version``: the desks'
    copy's, when the caller read it (None: there is none), else read here."""
    table = TABLES["appointment_holds"]
    if version == -1:
        version = conn.execute(select(table.c.version).where(table.c.id == hold_id)).scalar()
    if version is None:  # a hold from before the desks were told of holds
        return
    fields = {**changes, "updated_at": store.now(), "version": version + 1}
    conn.execute(update(table).where(table.c.id == hold_id).values(**fields))
    log_change(
        store, conn, "appointment_holds", hold_id, "update", version + 1, fields, API_DEVICE, None
    )


def release_hold(store: ServerStore, conn: Connection, key: ApiKey, hold_id: str) -> Answer:
    row = _hold_row(conn, key, hold_id)
    if row["released_at"] is None and row["appointment_id"] is None:
        now = store.now()
        # a hold released after it ran out had lapsed: it ends at its expiry (hold.lapsed)
        ended = min(now, row["expires_at"])
        conn.execute(
            update(s.api_holds).where(s.api_holds.c.id == hold_id).values(released_at=ended)
        )
        _end_mark(store, conn, hold_id, row["mark_version"], released_at=ended)
    return 204, {}


def lapse_holds(store: ServerStore) -> int:
    """End the holds that ran out, each as released at its expiry, so the change feed can say
    ``hold.lapsed``; returns how many. The webhook dispatcher runs it every round."""
    h = s.api_holds.c
    running = (h.expires_at <= store.now(), h.released_at.is_(None), h.appointment_id.is_(None))
    with store.reading() as conn:  # the usual answer, nothing to end: no write lock taken
        if conn.execute(select(h.id).where(*running).limit(1)).first() is None:
            return 0
    with store.writing() as conn:
        rows = conn.execute(select(h.id, h.expires_at).where(*running)).all()
        for hold_id, until in rows:
            conn.execute(update(s.api_holds).where(h.id == hold_id).values(released_at=until))
            _end_mark(store, conn, hold_id, released_at=until)
    return len(rows)


# a hold of the key, with its copy's version on the desks (``mark_version``; None: no copy)
_MARKS = TABLES["appointment_holds"]
_HOLD_OF_KEY = (
    select(s.api_holds, _MARKS.c.version.label("mark_version"))
    .select_from(s.api_holds.outerjoin(_MARKS, _MARKS.c.id == s.api_holds.c.id))
    .where(s.api_holds.c.id == bindparam("hold"), s.api_holds.c.key_id == bindparam("key"))
)


def _hold_row(conn: Connection, key: ApiKey, hold_id: str) -> dict[str, Any]:
    found = conn.execute(_HOLD_OF_KEY, {"hold": hold_id[:36], "key": key.id}).mappings().first()
    if found is None:
        raise not_found("hold", hold_id[:40])
    return dict(found)


# -- bookings ---------------------------------------------------------------------------------
def _patient(conn: Connection, patient_id: str) -> dict[str, Any]:
    row = one(conn, "patients", patient_id, "patient")
    if row["merged_into_id"]:
        raise ApiProblem(
            409,
            "That patient record was merged into another: book with the other id.",
            "patient_merged",
            merged_into_id=row["merged_into_id"],
        )
    if row["archived_at"] is not None:
        raise ApiProblem(
            409,
            "That patient's record is archived; the clinic must restore it.",
            "patient_archived",
        )
    return row


def book(store: ServerStore, conn: Connection, key: ApiKey, body: dict[str, Any]) -> Answer:
    tz = zone(conn)
    now = store.now()
    patient = _patient(conn, body["patient_id"])
    held: dict[str, Any] | None = None
    if body.get("hold_id"):
        held = _hold_row(conn, key, body["hold_id"])
        if held["appointment_id"] is not None:
            raise ApiProblem(
                409,
                "That hold was already booked.",
                "hold_used",
                appointment_id=held["appointment_id"],
            )
        if held["released_at"] is not None or held["expires_at"] <= now:
            raise ApiProblem(
                410,
                "That hold has expired (or was released): find a free time again and "
                "hold it, or book without a hold.",
                "hold_expired",
            )
        practitioner_id, type_id = held["practitioner_id"], held["appointment_type_id"]
        start: datetime = held["starts_at"]
    else:
        if not (
            body.get("practitioner_id") and body.get("appointment_type_id") and body.get("start")
        ):
            raise ApiProblem(
                422,
                "Give hold_id, or practitioner_id, appointment_type_id and start.",
                "missing_fields",
            )
        practitioner_id, type_id, start = (
            body["practitioner_id"],
            body["appointment_type_id"],
            body["start"],
        )
    want, prac = _demand_for(conn, practitioner_id, type_id)
    end = start + timedelta(minutes=want.minutes)
    if held is None:  # a hold's time met the rules when it was held
        av.check_rules(want, prac, start, now, tz)
    problems, room = av.check_time(
        conn, prac, start, end, now, tz, ignore_hold=held["id"] if held else None,
        rules=_rules(conn, prac["id"]),
    )  # fmt: skip
    if problems:
        raise _refuse(conn, problems, want, prac, start, now, tz)
    table = TABLES["appointments"]
    values = full_row(
        table,
        {
            "id": uuid7(),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "practitioner_id": prac["id"],
            "patient_id": patient["id"],
            "appointment_type_id": type_id,
            "location_id": prac["default_location_id"],
            "room_id": room,
            "starts_at": start,
            "ends_at": end,
            "status": AppointmentStatus.BOOKED.value,
            "notes": body.get("notes") or "",
            "cancellation_note": "",
            "capacity": 1,
            "is_group": False,
            "clash_flagged": False,
        },
    )
    conn.execute(insert(table), values)
    log_change(store, conn, "appointments", values["id"], "insert", 1, values, API_DEVICE, None)
    _placed(conn, values)
    if held is not None:
        conn.execute(
            update(s.api_holds)
            .where(s.api_holds.c.id == held["id"])
            .values(appointment_id=values["id"])
        )
        _end_mark(store, conn, held["id"], held["mark_version"], appointment_id=values["id"])
    _audit(store, conn, key, "booked", values["id"], patient["id"], start, tz)
    return 201, appointment_json(values, tz)


def _live_appointment(conn: Connection, appointment_id: str) -> dict[str, Any]:
    row = one(conn, "appointments", appointment_id, "appointment")
    if row["status"] == AppointmentStatus.CANCELLED:
        raise ApiProblem(409, "That appointment is cancelled; book a new one instead.", "cancelled")
    return row


def check_version(row: dict[str, Any], if_match: str | None) -> None:
    if if_match is None:
        return
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if wanted != "*" and wanted != str(row["version"]):
        raise ApiProblem(
            412,
            "The appointment changed since you read it (its ETag differs): read it again "
            "and retry.",
            "version_mismatch",
            current_version=int(row["version"]),
        )


def _update(
    store: ServerStore, conn: Connection, row: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    now = store.now()
    version = int(row["version"]) + 1
    changes = {**changes, "updated_at": now}
    table = TABLES["appointments"]
    conn.execute(update(table).where(table.c.id == row["id"]).values(**changes, version=version))
    log_change(store, conn, "appointments", row["id"], "update", version, changes, API_DEVICE, None)
    new = {**row, **changes, "version": version}
    _placed(conn, new)
    return new


def move(
    store: ServerStore,
    conn: Connection,
    key: ApiKey,
    appointment_id: str,
    body: dict[str, Any],
    if_match: str | None,
) -> Answer:
    tz = zone(conn)
    now = store.now()
    row = _live_appointment(conn, appointment_id)
    check_version(row, if_match)
    practitioner_id = body.get("practitioner_id") or row["practitioner_id"]
    type_id = row["appointment_type_id"]
    if type_id:
        want, prac = _demand_for(conn, practitioner_id, type_id)
    else:
        prac = one(conn, "practitioners", practitioner_id, "practitioner")
        want = av.Demand(
            None, int((row["ends_at"] - row["starts_at"]).total_seconds() // 60), [prac]
        )
    start: datetime = body["start"]
    end = start + (row["ends_at"] - row["starts_at"])
    av.check_rules(want, prac, start, now, tz)
    problems, room = av.check_time(
        conn, prac, start, end, now, tz, ignore_appointment=row["id"],
        rules=_rules(conn, prac["id"]),
    )  # fmt: skip
    if problems:
        raise _refuse(conn, problems, want, prac, start, now, tz)
    new = _update(
        store,
        conn,
        row,
        {
            "starts_at": start,
            "ends_at": end,
            "practitioner_id": prac["id"],
            "room_id": room,
        },
    )
    _audit(store, conn, key, "moved", row["id"], row["patient_id"], start, tz)
    return 200, appointment_json(new, tz)


def cancel(
    store: ServerStore,
    conn: Connection,
    key: ApiKey,
    appointment_id: str,
    body: dict[str, Any],
    if_match: str | None,
) -> Answer:
    tz = zone(conn)
    row = _live_appointment(conn, appointment_id)
    check_version(row, if_match)
    new = _update(
        store,
        conn,
        row,
        {
            "status": AppointmentStatus.CANCELLED.value,
            "cancellation_reason": body["reason"],
            "cancellation_note": body.get("note") or "",
            "cancelled_at": store.now(),
        },
    )
    _audit(store, conn, key, "cancelled", row["id"], row["patient_id"], row["starts_at"], tz)
    return 200, appointment_json(new, tz)


def _audit(
    store: ServerStore,
    conn: Connection,
    key: ApiKey,
    what: str,
    appointment_id: str,
    patient_id: str | None,
    start: datetime,
    tz: ZoneInfo,
) -> None:
    when = start.astimezone(tz).strftime("%a %d %b %H:%M")
    trust.record_server_event(
        store,
        conn,
        action=f"{what} an appointment",
        entity="appointments",
        entity_id=appointment_id,
        patient_id=patient_id,
        summary=f"{what.capitalize()} through the integration API ({when}), key {key.name!r}",
        staff_name=f"API: {key.name}",
    )
