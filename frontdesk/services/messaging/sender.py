"""The sender: takes due messages one at a time and sends each once, whatever is killed when.

Per message, three steps, each its own transaction or none (SMS go in batches of ``BATCH``:
one claim, each send, one record; an email always alone):
1. **claim** (``ctx.write``): a queued, due message whose appointment still stands becomes
   ``sending`` with this sender's id and the time; one whose appointment was moved or
   cancelled after queueing becomes ``cancelled`` instead and is never sent.
2. **send**: the provider is called outside any transaction.
3. **record** (``ctx.write``): ``sent`` with the provider's id — or back to ``queued`` with a
   backoff after a timeout, 429 or 5xx (nothing lost), or ``failed`` with the provider's reason.

A message found in ``sending`` (the sender was killed between 1 and 3) is *recovered*: the SMS
provider is asked whether it has it (``already_sent``); if so it is recorded as sent, if not it
is sent now. Email cannot be asked, so an interrupted email is marked failed with "may have been
sent" for a person to check — never sent twice (at most once wins over at least once).

Fault points (frontdesk/faults.py): ``msg.claimed``, ``msg.sent`` (the provider has it, not yet
recorded), ``msg.recorded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from frontdesk import faults
from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.vocab import AppointmentStatus, MessageChannel
from frontdesk.models import Appointment, OutgoingMessage
from frontdesk.services.claims.documents import read_document
from frontdesk.services.messaging.providers import (
    Attachment,
    Outgoing,
    PermanentFailure,
    Provider,
    TransientFailure,
)
from frontdesk.store.context import ServiceContext

# A claim older than this, by a sender that has not recorded it, is recovered by any sender.
CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
# SMS claimed and recorded this many at a time: two commits a batch instead of two a message.
# A sender killed mid-batch leaves them "sending", and recovery asks the provider about each.
BATCH = 25
# An email whose attachment is still syncing in is looked at again after this.
ATTACHMENT_WAIT = timedelta(minutes=5)
INTERRUPTED_EMAIL = (
    "The sender stopped while this email was being handed to the mail server; it may have been "
    "sent. Check with the patient before sending it again."
)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled + self.recovered


def _still_wanted(msg: OutgoingMessage, appt: Appointment | None) -> str | None:
    """Why a queued message should no longer go (None: it should)."""
    if appt is None or msg.kind not in {"reminder", "confirmation", "moved"}:
        return None
    if appt.deleted_at is not None or appt.status == AppointmentStatus.CANCELLED:
        return "the appointment was cancelled after this was queued"
    if msg.appointment_starts_at is not None and appt.starts_at != msg.appointment_starts_at:
        return "the appointment was moved after this was queued"
    if msg.kind == "reminder" and appt.status != AppointmentStatus.BOOKED:
        return "the appointment has already happened"
    return None


def _claim(
    ctx: ServiceContext, sender_id: str, channels: set[str], size: int = 1
) -> tuple[list[tuple[MessageChannel, Outgoing]], int, int]:
    """Claim the next due messages in one transaction: up to ``size`` SMS, or one email (an
    email interrupted after its claim cannot be asked about, so none waits claimed). Returns
    the claimed messages, how many were withdrawn instead, and how many wait for an attachment
    still syncing in (looked at again after ATTACHMENT_WAIT)."""
    now = ctx.clock.now()
    claimed: list[tuple[MessageChannel, Outgoing]] = []
    withdrawn = waiting = 0
    with ctx.write("sending a message") as session:
        due = session.scalars(
            select(OutgoingMessage)
            .where(
                OutgoingMessage.status == "queued",
                OutgoingMessage.deleted_at.is_(None),
                OutgoingMessage.channel.in_(channels),
                or_(OutgoingMessage.send_after.is_(None), OutgoingMessage.send_after <= now),
                or_(
                    OutgoingMessage.next_attempt_at.is_(None),
                    OutgoingMessage.next_attempt_at <= now,
                ),
            )
            .order_by(OutgoingMessage.send_after, OutgoingMessage.queued_at, OutgoingMessage.id)
            .limit(max(1, size))
        ).all()
        if not due:
            return [], 0, 0
        batch_channel = due[0].channel
        appt_ids = {m.appointment_id for m in due if m.appointment_id}
        appts = {
            a.id: a
            for a in session.scalars(select(Appointment).where(Appointment.id.in_(appt_ids)))
        }
        for msg in due:
            if msg.channel != batch_channel:
                continue  # the next claim takes it
            why = _still_wanted(msg, appts.get(msg.appointment_id or ""))
            if why is not None:
                msg.status = "cancelled"
                msg.error = why
                withdrawn += 1
                continue
            attachments: tuple[Attachment, ...] = ()
            if msg.attachment_id:
                try:
                    info, data = read_document(session, msg.attachment_id)
                except FrontdeskError as exc:  # still arriving from the desk that queued it
                    msg.next_attempt_at = now + ATTACHMENT_WAIT
                    msg.error = exc.user_message[:300]
                    waiting += 1
                    continue
                attachments = (Attachment(info.file_name, info.media_type, data),)
            msg.status = "sending"
            msg.claimed_by = sender_id
            msg.claimed_at = now
            msg.attempts += 1
            claimed.append((MessageChannel(msg.channel), _outgoing(msg, attachments)))
            if batch_channel == MessageChannel.EMAIL.value:
                break
    if claimed:
        faults.checkpoint("msg.claimed")
    return claimed, withdrawn, waiting


def _outgoing(msg: OutgoingMessage, attachments: tuple[Attachment, ...] = ()) -> Outgoing:
    assert msg.claimed_at is not None
    return Outgoing(
        message_id=msg.id,
        to=msg.to_address,
        subject=msg.subject,
        body=msg.body,
        idempotency_key=msg.idempotency_key or msg.id,
        claimed_at=msg.claimed_at,
        attachments=attachments,
    )


def _mark_sent(session: Session, ctx: ServiceContext, message_id: str, provider: str,
               ref: str) -> None:  # fmt: skip
    msg = session.get(OutgoingMessage, message_id)
    if msg is None or msg.status != "sending":
        return
    now = ctx.clock.now()
    msg.status = "sent"
    msg.sent_at = now
    msg.provider = provider
    msg.provider_ref = ref
    msg.error = None
    if msg.kind == "reminder" and msg.appointment_id:
        appt = session.get(Appointment, msg.appointment_id)
        if appt is not None:
            appt.reminder_sent_at = now


def _mark_failed(session: Session, ctx: ServiceContext, message_id: str,
                 exc: FrontdeskError) -> str:  # fmt: skip
    msg = session.get(OutgoingMessage, message_id)
    if msg is None or msg.status != "sending":
        return "gone"
    msg.error = exc.user_message[:300]
    msg.claimed_by = None
    if isinstance(exc, TransientFailure) and msg.attempts < MAX_ATTEMPTS:
        delay = rules.retry_delay(msg.attempts)
        if exc.retry_after is not None:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        msg.status = "queued"
        msg.next_attempt_at = ctx.clock.now() + delay
        return "retried"
    msg.status = "failed"
    return "failed"


def _record_sent(ctx: ServiceContext, message_id: str, provider: str, ref: str) -> None:
    with ctx.write("sent a message") as session:
        _mark_sent(session, ctx, message_id, provider, ref)
    faults.checkpoint("msg.recorded")


def _record_failure(ctx: ServiceContext, message_id: str, exc: FrontdeskError) -> str:
    with ctx.write("a message could not be sent") as session:
        return _mark_failed(session, ctx, message_id, exc)


Outcome = tuple[str, str, str] | tuple[str, FrontdeskError]  # (id, provider, ref) | (id, exc)


def _record_many(ctx: ServiceContext, outcomes: list[Outcome], report: SendReport) -> None:
    """Record a batch's results in one transaction (after each was handed over)."""
    if not outcomes:
        return
    with ctx.write("sent messages") as session, session.no_autoflush:
        # the batch's messages and appointments in two reads, one flush at the end
        rows = list(
            session.scalars(
                select(OutgoingMessage).where(OutgoingMessage.id.in_([o[0] for o in outcomes]))
            )
        )
        appt_ids = [m.appointment_id for m in rows if m.appointment_id]
        keep = rows + list(session.scalars(select(Appointment).where(Appointment.id.in_(appt_ids))))
        for outcome in outcomes:
            if len(outcome) == 3:
                _mark_sent(session, ctx, outcome[0], outcome[1], outcome[2])
                report.sent += 1
                continue
            exc = outcome[1]
            result = _mark_failed(session, ctx, outcome[0], exc)
            if result == "retried":
                report.retried += 1
            elif result == "failed":
                report.failed += 1
            report.errors.append(exc.user_message)
        del keep
    faults.checkpoint("msg.recorded")


def _send_one(ctx: ServiceContext, provider: Provider, out: Outgoing, report: SendReport) -> None:
    try:
        ref = provider.send(out)
    except (TransientFailure, PermanentFailure) as exc:
        outcome = _record_failure(ctx, out.message_id, exc)
        if outcome == "retried":
            report.retried += 1
        elif outcome == "failed":
            report.failed += 1
        report.errors.append(exc.user_message)
        return
    faults.checkpoint("msg.sent")
    _record_sent(ctx, out.message_id, provider.name, ref)
    report.sent += 1


def recover(
    ctx: ServiceContext,
    providers: Mapping[MessageChannel, Provider],
    sender_id: str,
    report: SendReport,
) -> None:
    """Settle messages left in ``sending`` by a sender that stopped: this sender's own at once,
    another's once its lease has run out."""
    now = ctx.clock.now()
    with ctx.read() as session:
        stuck = [
            (m.id, MessageChannel(m.channel), _outgoing(m))
            for m in session.scalars(
                select(OutgoingMessage).where(
                    OutgoingMessage.status == "sending",
                    OutgoingMessage.deleted_at.is_(None),
                    or_(
                        OutgoingMessage.claimed_by == sender_id,
                        OutgoingMessage.claimed_at <= now - CLAIM_LEASE,
                    ),
                )
            )
        ]
    for mid, channel, out in stuck:
        provider = providers.get(channel)
        if provider is None:
            continue
        if channel is MessageChannel.EMAIL:
            _record_failure(ctx, mid, PermanentFailure(INTERRUPTED_EMAIL))
            report.failed += 1
            continue
        try:
            ref = provider.already_sent(out)
        except TransientFailure as exc:
            report.errors.append(exc.user_message)
            continue  # ask again next round; never send blind
        if ref is not None:
            _record_sent(ctx, mid, provider.name, ref)
            report.recovered += 1
        else:
            _send_one(ctx, provider, out, report)


def send_due(
    ctx: ServiceContext,
    providers: Mapping[MessageChannel, Provider],
    *,
    sender_id: str,
    limit: int = 200,
    batch: int = BATCH,
) -> SendReport:
    """One round: recover interrupted sends, then send what is due, up to ``limit``."""
    report = SendReport()
    recover(ctx, providers, sender_id, report)
    channels = {c.value for c in providers}
    while report.handled < limit:
        claimed, withdrawn, waiting = _claim(
            ctx, sender_id, channels, min(batch, limit - report.handled)
        )
        report.cancelled += withdrawn
        if not claimed and not withdrawn and not waiting:
            break
        outcomes: list[Outcome] = []
        for channel, out in claimed:
            provider = providers[channel]
            try:
                ref = provider.send(out)
            except (TransientFailure, PermanentFailure) as exc:
                outcomes.append((out.message_id, exc))
                continue
            faults.checkpoint("msg.sent")
            outcomes.append((out.message_id, provider.name, ref))
        _record_many(ctx, outcomes, report)
    return report
