"""Webhooks: a key subscribes a URL to event types (the change feed's: appointment.booked,
.moved, .cancelled, .status_changed, .deleted; patient.created, .changed; hold.created,
.released, .lapsed, .booked). Each event is POSTed
as JSON, signed ``Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>``; a delivery that fails is retried with growing pauses for a day, and every
attempt is kept in the delivery log, from which a delivery can be replayed.

``Dispatcher`` does the work in the server process: it scans the change log from each
subscription's position (``feeds.events_after``), queues deliveries and sends those due.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select, update

from frontdesk.domain.ids import uuid7
from frontdesk.server import schema as s
from frontdesk.server.api.booking import lapse_holds
from frontdesk.server.api.feeds import events_after
from frontdesk.server.api.keys import CallLog
from frontdesk.server.api.problems import ApiProblem, not_found
from frontdesk.server.processes import Lease
from frontdesk.server.store import ServerStore

log = logging.getLogger("frontdesk.server.webhooks")
EVENT_TYPES = (
    "appointment.booked",
    "appointment.moved",
    "appointment.cancelled",
    "appointment.status_changed",
    "appointment.deleted",
    "patient.created",
    "patient.changed",
    "hold.created",
    "hold.released",
    "hold.lapsed",
    "hold.booked",
)
# pauses before the 2nd, 3rd… attempt; after a day of failures a delivery is given up
BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
GIVE_UP_AFTER = timedelta(days=1)
SEND_TIMEOUT_S = 5.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute the signature over the timestamp and body."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or not parts["t"].isdigit():
        return False
    return hmac.compare_digest(sign(secret, int(parts["t"]), body), header)


def subscribe(store: ServerStore, key_id: str, url: str, events: list[str]) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise ApiProblem(422, "The webhook url must start with https:// (or http://).", "bad_url")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise ApiProblem(
            422, f"Subscribe to one or more of: {', '.join(EVENT_TYPES)}.", "bad_event_type"
        )
    secret = "whsec_" + secrets.token_urlsafe(24)
    now = store.now()
    row = {
        "id": uuid7(),
        "key_id": key_id,
        "url": url,
        "events": " ".join(sorted(set(events))),
        "secret": secret,
        "created_at": now,
        "deleted_at": None,
    }
    with store.writing() as conn:
        row["position"] = store._max_seq(conn)  # events from now on
        conn.execute(insert(s.api_webhooks).values(**row))
    return {**_public(row), "secret": secret}


def _public(row: Any) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "url": r["url"],
        "events": r["events"].split(),
        "created_at": r["created_at"].isoformat(),
    }


def _mine(store: ServerStore, key_id: str, webhook_id: str) -> dict[str, Any]:
    w = s.api_webhooks.c
    with store.reading() as conn:
        row = (
            conn.execute(
                select(s.api_webhooks).where(
                    w.id == webhook_id[:36], w.key_id == key_id, w.deleted_at.is_(None)
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise not_found("webhook", webhook_id[:40])
    return dict(row)


def list_webhooks(store: ServerStore, key_id: str) -> list[dict[str, Any]]:
    w = s.api_webhooks.c
    with store.reading() as conn:
        rows = (
            conn.execute(
                select(s.api_webhooks)
                .where(w.key_id == key_id, w.deleted_at.is_(None))
                .order_by(w.created_at)
            )
            .mappings()
            .all()
        )
    return [_public(r) for r in rows]


def unsubscribe(store: ServerStore, key_id: str, webhook_id: str) -> None:
    _mine(store, key_id, webhook_id)
    with store.writing() as conn:
        conn.execute(
            update(s.api_webhooks)
            .where(s.api_webhooks.c.id == webhook_id)
            .values(deleted_at=store.now())
        )


def deliveries(
    store: ServerStore, key_id: str, webhook_id: str, limit: int
) -> list[dict[str, Any]]:
    _mine(store, key_id, webhook_id)
    d = s.api_deliveries.c
    with store.reading() as conn:
        rows = (
            conn.execute(
                select(s.api_deliveries)
                .where(d.webhook_id == webhook_id)
                .order_by(d.created_at.desc(), d.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [
        {
            "id": r["id"],
            "event_id": str(r["event_id"]),
            "event_type": r["event_type"],
            "state": r["state"],
            "attempts": r["attempts"],
            "last_status": r["last_status"],
            "last_error": r["last_error"],
            "next_attempt_at": r["next_attempt_at"].isoformat() if r["next_attempt_at"] else None,
            "delivered_at": r["delivered_at"].isoformat() if r["delivered_at"] else None,
        }
        for r in rows
    ]


def replay(store: ServerStore, key_id: str, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    """Queue the delivery's event again, as a new delivery (sent at the next round)."""
    _mine(store, key_id, webhook_id)
    d = s.api_deliveries.c
    now = store.now()
    with store.writing() as conn:
        row = (
            conn.execute(
                select(s.api_deliveries).where(d.id == delivery_id[:36], d.webhook_id == webhook_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise not_found("delivery", delivery_id[:40])
        new = {
            **dict(row),
            "id": uuid7(),
            "state": "pending",
            "attempts": 0,
            "last_status": None,
            "last_error": None,
            "next_attempt_at": now,
            "delivered_at": None,
            "created_at": now,
        }
        conn.execute(insert(s.api_deliveries).values(**new))
    return {"id": new["id"], "state": "pending"}


# -- the dispatcher -----------------------------------------------------------------------------
class Dispatcher:
    """Queue and send deliveries. ``run_once`` is one round (tests call it); ``start`` runs
    rounds on a daemon thread every ``interval`` seconds."""

    def __init__(
        self,
        store: ServerStore,
        calls: CallLog | None = None,
        interval: float = 0.25,
        lease: Lease | None = None,
    ) -> None:
        self.store = store
        self.calls = calls
        self.lease = lease  # several server processes: only the lease's holder dispatches
        self.interval = interval
        self.client = httpx.Client(timeout=SEND_TIMEOUT_S, follow_redirects=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.calls is not None:
            self.calls.flush(self.store)
        if self.lease is not None:
            self.lease.release()
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # keep delivering; the type only (no values) in the log
                log.error("webhook round failed: %s", type(exc).__qualname__)
            self._stop.wait(self.interval)

    def run_once(self) -> int:
        """Queue new events, send what is due; returns how many were sent successfully. Also
        writes this process's queued API audit rows (at most one round late); with a lease,
        only those unless this process holds it."""
        if self.calls is not None:
            self.calls.flush(self.store)
        if self.lease is not None and not self.lease.held():
            return 0
        lapse_holds(self.store)  # a hold that ran out is news (hold.lapsed)
        self.queue()
        return self.send_due()

    def queue(self) -> None:
        w = s.api_webhooks.c
        with self.store.reading() as conn:
            hooks = conn.execute(
                select(w.id, w.events, w.position).where(w.deleted_at.is_(None))
            ).all()
        now = self.store.now()
        for hook in hooks:
            wanted = set(hook.events.split())
            position = int(hook.position)
            while True:
                batch, reached = events_after(self.store, position)
                if reached == position:
                    break
                rows = [
                    {
                        "id": uuid7(),
                        "webhook_id": hook.id,
                        "event_id": e["id"],
                        "event_type": e["event"],
                        "payload": json.dumps({"id": str(e["id"]), **e["data"]}),
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for e in batch
                    if e["event"] in wanted
                ]
                with self.store.writing() as conn:
                    if rows:
                        conn.execute(insert(s.api_deliveries), rows)
                    conn.execute(
                        update(s.api_webhooks).where(w.id == hook.id).values(position=reached)
                    )
                position = reached

    def send_due(self) -> int:
        d = s.api_deliveries.c
        w = s.api_webhooks.c
        now = self.store.now()
        with self.store.reading() as conn:
            due = (
                conn.execute(
                    select(s.api_deliveries, w.url, w.secret)
                    .join(s.api_webhooks, w.id == d.webhook_id)
                    .where(d.state == "pending", d.next_attempt_at <= now, w.deleted_at.is_(None))
                    .order_by(d.next_attempt_at, d.event_id)
                    .limit(100)
                )
                .mappings()
                .all()
            )
        sent = 0
        for row in due:
            sent += self._send(dict(row), now)
        return sent

    def _send(self, row: dict[str, Any], now: datetime) -> int:
        body = row["payload"].encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Frontdesk-Signature": sign(row["secret"], stamp, body),
            "Frontdesk-Event-Id": str(row["event_id"]),
            "Frontdesk-Event-Type": row["event_type"],
            "Frontdesk-Delivery-Id": row["id"],
        }
        status: int | None = None
        error = None
        try:
            status = self.client.post(row["url"], content=body, headers=headers).status_code
            ok = 200 <= status < 300
            if not ok:
                error = f"the receiver answered {status}"
        except httpx.HTTPError as exc:
            ok = False
            error = f"could not reach the receiver ({type(exc).__name__})"
        attempts = int(row["attempts"]) + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if ok:
            values |= {"state": "delivered", "delivered_at": now, "next_attempt_at": None}
        elif now - row["created_at"] >= GIVE_UP_AFTER:
            values |= {"state": "failed", "next_attempt_at": None}
        else:
            pause = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
            values |= {"next_attempt_at": now + pause}
        with self.store.writing() as conn:
            conn.execute(
                update(s.api_deliveries).where(s.api_deliveries.c.id == row["id"]).values(**values)
            )
        return 1 if ok else 0
