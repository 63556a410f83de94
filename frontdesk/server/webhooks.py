"""SMS providers' callbacks on the clinic server (always on, reachable by the provider):
delivery receipts and replies arrive at ``/webhooks/sms/{twilio|clicksend}/{status|inbound}``
with the server's webhook key (``?key=…``, never logged: the request log names the path only).
Each is parsed (services/messaging/providers.parse_webhook), kept once in
``server_sms_events`` and answered at once; the messaging desk fetches them
(``/v1/messaging/events``), applies them as ordinary writes that sync to every desk, and marks
them taken."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import insert, select, update

from frontdesk.protocol import Endpoint
from frontdesk.server import schema as s
from frontdesk.server.routes import Dev, Store
from frontdesk.server.store import ServerProblem, ServerStore
from frontdesk.services.messaging.providers import BadWebhook, parse_webhook

router = APIRouter()
KEY = "sms_webhook_key"


def webhook_key(store: ServerStore) -> str:
    """The key providers must present, made on first use."""
    with store.writing() as conn:
        found = conn.execute(select(s.server_info.c.value).where(s.server_info.c.key == KEY))
        value = found.scalar_one_or_none()
        if value is None:
            value = secrets.token_urlsafe(24)
            store.put_info(conn, KEY, value)
        return str(value)


@router.post(Endpoint.SMS_WEBHOOK.value)
async def sms_webhook(
    provider: str, kind: str, request: Request, store: Store,
    key: Annotated[str, Query()] = "",
) -> Response:  # fmt: skip
    if not key or not hmac.compare_digest(key, webhook_key(store)):
        raise ServerProblem(403, "Unknown webhook key.", code="forbidden")
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            loaded = json.loads(raw)
            data: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        else:  # form-encoded, as Twilio and ClickSend post (no multipart parser needed)
            data = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServerProblem(400, "The callback's body could not be read.", code="invalid") from exc
    try:
        event = parse_webhook(provider, kind, data)
    except BadWebhook as exc:
        raise ServerProblem(400, exc.user_message, code="invalid") from exc
    with store.writing() as conn:
        seen = conn.execute(
            select(s.sms_events.c.seq).where(s.sms_events.c.dedupe == event.dedupe)
        ).first()
        if seen is None:
            conn.execute(
                insert(s.sms_events).values(
                    dedupe=event.dedupe,
                    event_json=json.dumps(event.__dict__),
                    received_at=store.now(),
                )
            )
    if provider == "twilio":  # Twilio wants TwiML; an empty Response sends no auto-reply
        return Response("<Response/>", media_type="text/xml")
    return Response('{"ok": true}', media_type="application/json")


@router.get(Endpoint.SMS_EVENTS.value)
def sms_events(dev: Dev, store: Store, after: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    with store.reading() as conn:
        rows = conn.execute(
            select(s.sms_events.c.seq, s.sms_events.c.event_json)
            .where(s.sms_events.c.seq > after, s.sms_events.c.taken_at.is_(None))
            .order_by(s.sms_events.c.seq)
            .limit(500)
        ).all()
    return {"events": [{"seq": seq, **json.loads(body)} for seq, body in rows]}


@router.post(Endpoint.SMS_EVENTS_TAKEN.value)
def sms_events_taken(body: dict[str, Any], dev: Dev, store: Store) -> dict[str, Any]:
    seqs = [int(x) for x in body.get("seqs", [])] if isinstance(body.get("seqs"), list) else []
    with store.writing() as conn:
        conn.execute(
            update(s.sms_events)
            .where(s.sms_events.c.seq.in_(seqs), s.sms_events.c.taken_at.is_(None))
            .values(taken_at=store.now())
        )
    return {"taken": len(seqs)}
