"""The change feed for clients that cannot receive webhooks: a server-sent-events stream
(``GET /api/v1/events``) of appointments booked, moved, cancelled or changed in status, of
patients created or changed — whoever made the change (a desk or the API) — and of the API's
holds created, released, lapsed (ended by the webhook dispatcher's round) or booked. Each
event's id is its change-log position, so a client that reconnects with ``Last-Event-ID``
misses nothing.

Events carry ids and the appointment's times and status; never a patient's details."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from frontdesk.server import schema as s
from frontdesk.server.api import keys, models
from frontdesk.server.api.booking import appointment_json, hold_json
from frontdesk.server.api.clinic import clinic_zone
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.changelog import TABLES
from frontdesk.server.store import ServerStore

router = APIRouter(prefix="/api/v1", tags=["change feed"])
ENTITIES = ("appointments", "patients", "appointment_holds")
BATCH = 200
KEEPALIVE_S = 15.0


def classify(entity: str, op: str, fields: dict[str, Any]) -> str:
    """The event type of one change-log entry."""
    if entity == "patients":
        return "patient.created" if op == "insert" else "patient.changed"
    if entity == "appointment_holds":
        if op == "insert":
            return "hold.created"
        if fields.get("appointment_id"):
            return "hold.booked"
        return "hold.ended"  # released or lapsed: told apart by the hold's expiry (_hold_event)
    if op == "insert":
        return "appointment.booked"
    if op == "delete" or fields.get("deleted_at"):
        return "appointment.deleted"
    if "status" in fields:
        return (
            "appointment.cancelled"
            if fields["status"] == "cancelled"
            else ("appointment.status_changed")
        )
    if {"starts_at", "ends_at", "practitioner_id"} & set(fields):
        return "appointment.moved"
    return "appointment.changed"


def events_after(store: ServerStore, after: int) -> tuple[list[dict[str, Any]], int]:
    """Events after change-log position ``after`` (at most a batch), and the position reached."""
    c = s.change_log.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.seq, c.entity, c.row_id, c.op, c.fields_json, c.at)
            .where(c.seq > after, c.entity.in_(ENTITIES))
            .order_by(c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return [], after
        tz = clinic_zone(conn)
        current = _current(conn, rows, "appointments")
        holds = _current(conn, rows, "appointment_holds")
    out = []
    for r in rows:
        fields = json.loads(r.fields_json)
        kind = classify(r.entity, r.op, fields)
        if kind == "appointment.changed" and set(fields) <= {"clash_flagged", "updated_at"}:
            continue  # the server's own clash flag: not news to an integration
        data: dict[str, Any] = {"type": kind, "occurred_at": r.at.astimezone(tz).isoformat()}
        if r.entity == "patients":
            data["patient"] = {"id": r.row_id}
        elif r.entity == "appointment_holds":
            kind = data["type"] = _hold_event(kind, fields, holds.get(r.row_id))
            data["hold"] = hold_json(holds[r.row_id], tz) if r.row_id in holds else {"id": r.row_id}
            if kind == "hold.booked":
                data["hold"]["appointment_id"] = fields["appointment_id"]
        elif r.row_id in current:
            data["appointment"] = appointment_json(current[r.row_id], tz)
        else:
            data["appointment"] = {"id": r.row_id}
        out.append({"id": int(r.seq), "event": kind, "data": data})
    return out, int(rows[-1].seq)


def _current(conn: Any, rows: Any, entity: str) -> dict[str, dict[str, Any]]:
    """The rows of ``entity`` the change-log entries name, as they are now."""
    table = TABLES[entity]
    ids = [r.row_id for r in rows if r.entity == entity]
    if not ids:
        return {}
    found = conn.execute(select(table).where(table.c.id.in_(ids))).mappings()
    return {r["id"]: dict(r) for r in found}


def _hold_event(kind: str, fields: dict[str, Any], row: dict[str, Any] | None) -> str:
    """A hold that ended: lapsed if it ended at its expiry (lapse_holds), else released."""
    if kind != "hold.ended":
        return kind
    ended = fields.get("released_at")
    if row is not None and ended is not None and row["expires_at"] is not None:
        lapsed = datetime.fromisoformat(ended) >= row["expires_at"]
        return "hold.lapsed" if lapsed else "hold.released"
    return "hold.released"


def _latest(store: ServerStore) -> int:
    with store.reading() as conn:
        return store._max_seq(conn)


def _caller(request: Request, authorization: Annotated[str, Header()] = "") -> keys.ApiKey:
    from frontdesk.server.api.router import caller

    key = caller(request, authorization)
    key.require(keys.Scope.WEBHOOKS)
    return key


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the event stream"}},
)
async def events(
    request: Request,
    key: Annotated[keys.ApiKey, Depends(_caller)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    timeout: Annotated[
        float,
        Query(
            ge=0,
            le=300,
            description="seconds before the server ends the stream (reconnect with Last-Event-ID)",
        ),
    ] = 60,
) -> StreamingResponse:
    """Server-sent events: ``id`` (resume with Last-Event-ID), ``event`` (appointment.booked,
    .moved, .cancelled, .status_changed, .deleted; patient.created, .changed; hold.created,
    .released, .lapsed, .booked) and ``data`` (JSON). Without Last-Event-ID the stream starts
    from now. A key revoked or expiring meanwhile ends the stream before its next event."""
    store = _named(request, "event stream")
    if last_event_id is not None:
        if not (last_event_id.isascii() and last_event_id.isdigit()):
            raise ApiProblem(
                400,
                "Last-Event-ID is the id of an event this stream sent (a number).",
                "bad_event_id",
            )
        position = int(last_event_id)
    else:
        position = await run_in_threadpool(_latest, store)

    async def stream() -> AsyncIterator[bytes]:
        nonlocal position
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        yield b": frontdesk change feed\nretry: 2000\n\n"
        while time.monotonic() < deadline:
            if not await run_in_threadpool(keys.still_valid, store, key.id):
                # revoked (or expired) while streaming: not one more event; a reconnect is
                # answered 401 with the reason
                yield b": the API key was revoked or has expired; the stream ends\n\n"
                return
            batch, position = await run_in_threadpool(events_after, store, position)
            for e in batch:
                data = json.dumps(e["data"])
                yield f"id: {e['id']}\nevent: {e['event']}\ndata: {data}\n\n".encode()
            if batch:
                quiet_since = time.monotonic()
                continue
            if await request.is_disconnected():
                return
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield b": keep-alive\n\n"
            await asyncio.sleep(0.2)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# -- webhooks -------------------------------------------------------------------------------------
Hooker = Annotated[keys.ApiKey, Depends(_caller)]


def _named(request: Request, op: str) -> ServerStore:
    request.state.api_op = op
    store: ServerStore = request.app.state.store
    return store


@router.post("/webhooks", status_code=201, response_model=models.Webhook)
def create_webhook(request: Request, body: models.WebhookCreate, key: Hooker) -> Any:
    """Subscribe a URL to event types; the answer holds the signing secret, shown only now."""
    store = _named(request, "subscribe webhook")
    return webhooks.subscribe(store, key.id, body.url, body.events)


@router.get("/webhooks", response_model=models.WebhookList)
def list_webhooks(request: Request, key: Hooker) -> Any:
    return {"items": webhooks.list_webhooks(_named(request, "list webhooks"), key.id)}


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, response_class=Response, response_model=None
)
def delete_webhook(request: Request, webhook_id: str, key: Hooker) -> Response:
    webhooks.unsubscribe(_named(request, "delete webhook"), key.id, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=models.DeliveryList)
def list_deliveries(
    request: Request,
    webhook_id: str,
    key: Hooker,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The delivery log, newest first: each event's state, attempts and last answer."""
    store = _named(request, "webhook deliveries")
    return {"items": webhooks.deliveries(store, key.id, webhook_id, limit)}


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202)
def replay_delivery(request: Request, webhook_id: str, delivery_id: str, key: Hooker) -> Any:
    """Send a delivery's event again (a new delivery, at the next round)."""
    store = _named(request, "replay delivery")
    return webhooks.replay(store, key.id, webhook_id, delivery_id)


# -- a practitioner's calendar feed ----------------------------------------------------------
calendar_router = APIRouter(tags=["calendar feed"])


@calendar_router.get(
    "/feeds/ical/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "an iCalendar feed"}},
)
def ical_feed(request: Request, token: str) -> Response:
    """A practitioner's private calendar (no key: the URL's token is the secret)."""
    from frontdesk.server.api.ical import render

    body = render(request.app.state.store, token)
    return Response(body, media_type="text/calendar", headers={"Cache-Control": "no-store"})


from frontdesk.server.api import webhooks  # noqa: E402 (webhooks reads this module's events)
