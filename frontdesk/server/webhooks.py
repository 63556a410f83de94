"""SMS providers' callbacks on the clinic server (always on, reachable by the provider):
delivery receipts and replies arrive at ``/webhooks/sms/{twilio|clicksend}/{status|inbound}``
with the server's webhook key (``?key=…``, never logged: the request log names the path only).
Twilio's callbacks must also carry a valid ``X-Twilio-Signature`` (HMAC-SHA1 of the URL and the
sorted parameters, keyed with the Auth Token from this machine's keychain); ClickSend signs
nothing, so for it the secret key in the address is the protection. A forged or missing
signature is refused with 403 and nothing is kept. Each is parsed
(services/messaging/providers.parse_webhook), kept once in
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
from frontdesk.services.messaging.providers import BadWebhook, parse_webhook, twilio_signature_ok
from frontdesk.services.messaging.secrets import NoKeychain, load_secret

router = APIRouter()
KEY = "sms_webhook_key"
# The address the provider calls, as it sees it (e.g. https://clinic.example.com): behind a
# proxy the request's own URL differs, and Twilio signs the one it called.
PUBLIC_URL = "sms_webhook_public_url"


def webhook_key(store: ServerStore) -> str:
    """The key providers must present, made on first use."""
    with store.writing() as conn:
        found = conn.execute(select(s.server_info.c.value).where(s.server_info.c.key == KEY))
        value = found.scalar_one_or_none()
        if value is None:
            value = secrets.token_urlsafe(24)
            store.put_info(conn, KEY, value)
        return str(value)


def set_public_url(store: ServerStore, url: str) -> None:
    with store.writing() as conn:
        store.put_info(conn, PUBLIC_URL, url.strip().rstrip("/"))


@router.post(Endpoint.SMS_WEBHOOK.value)
async def sms_webhook(
    provider: str, kind: str, request: Request, store: Store,
    key: Annotated[str, Query()] = "",
) -> Response:  # fmt: skip
    if not key or not hmac.compare_digest(key, webhook_key(store)):
        raise ServerProblem(403, "Unknown webhook key.", code="forbidden")
    raw = await request.body()
    pairs: list[tuple[str, str]] = []
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            loaded = json.loads(raw)
            data: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        else:  # form-encoded, as Twilio and ClickSend post (no multipart parser needed)
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            data = dict(pairs)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServerProblem(400, "The callback's body could not be read.", code="invalid") from exc
    if provider == "twilio":
        _check_twilio_signature(request, store, pairs, raw if not pairs else b"")
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


def called_url(request: Request, store: ServerStore) -> str:
    """The URL the provider called: the configured public address with this path and query,
    else the request's own."""
    with store.reading() as conn:
        found = conn.execute(select(s.server_info.c.value).where(s.server_info.c.key == PUBLIC_URL))
        base = found.scalar_one_or_none()
    if not base:
        return str(request.url)
    query = request.url.query
    return str(base).rstrip("/") + request.url.path + (f"?{query}" if query else "")


def _check_twilio_signature(
    request: Request, store: ServerStore, pairs: list[tuple[str, str]], raw: bytes
) -> None:
    signature = request.headers.get("x-twilio-signature", "")
    if not signature:
        raise ServerProblem(403, "The callback carries no X-Twilio-Signature.", code="forbidden")
    try:
        token = load_secret("twilio")
    except NoKeychain:
        token = ""
    if not token:
        raise ServerProblem(
            403,
            "This server has no Twilio Auth Token in its keychain, so it cannot check the "
            "callback's signature; save it on this machine (Settings → Messages on the "
            "messaging desk).",
            code="forbidden",
        )
    if not twilio_signature_ok(token, called_url(request, store), pairs, signature, raw):
        raise ServerProblem(403, "The callback's X-Twilio-Signature is wrong.", code="forbidden")


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
