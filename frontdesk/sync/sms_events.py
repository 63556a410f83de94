"""The messaging desk's side of the SMS webhooks: fetch what the providers posted to the
clinic server (server/webhooks.py), apply each as an ordinary write (receipts move messages
forward, replies confirm / cancel / opt out / land in the inbox: services/messaging/replies.py)
— the next sync carries the effect to every desk — then tell the server they are taken.
Applying twice is harmless (replies are unique by provider id, receipts only move forward), so
a crash between applying and acknowledging loses and doubles nothing."""

from __future__ import annotations

from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.protocol import Endpoint
from frontdesk.services.messaging.replies import Receipt, Reply, apply_receipt, apply_reply
from frontdesk.sync.engine import SyncEngine


def take_sms_events(engine: SyncEngine) -> int:
    """Apply the server's pending SMS events on this desk; returns how many."""
    reply = engine.transport.send("GET", Endpoint.SMS_EVENTS.path(), token=engine.token)
    if not reply.ok:
        raise EnvironmentProblem(f"Could not fetch SMS replies: {reply.message}")
    events = list(reply.body.get("events", []))
    ctx = engine.ctx
    for e in events:
        if e["kind"] == "receipt":
            apply_receipt(ctx, Receipt(e["provider"], e["ref"], e["status"], e.get("error", "")))
        else:
            apply_reply(
                ctx,
                Reply(e["provider"], e["ref"], e["from_number"], e["body"],
                      ctx.clock.now(), e.get("in_reply_to", "")),
            )  # fmt: skip
    if events:
        done = engine.transport.send(
            "POST", Endpoint.SMS_EVENTS_TAKEN.path(), json={"seqs": [e["seq"] for e in events]},
            token=engine.token,
        )  # fmt: skip
        if not done.ok:
            raise EnvironmentProblem(f"Could not acknowledge SMS replies: {done.message}")
    return len(events)
