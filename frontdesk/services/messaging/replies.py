"""Two-way SMS and delivery receipts, applied as ordinary writes (``ctx.write``) so they reach
every desk by sync: "Y" confirms and "C" cancels the appointment the patient was last messaged
about (reason "patient cancelled by SMS"), STOP opts the number out at once, anything else
waits in the inbox linked to the patient. Each provider event is applied once (an inbound
message's provider id is unique; a receipt only moves a message forward)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import NotFound, ValidationFailed
from frontdesk.domain.messaging import MessageKind, ReplyMeaning
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.models import (
    Appointment,
    AppointmentStatusChange,
    InboundMessage,
    MessagePreference,
    OutgoingMessage,
    Patient,
)
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class Reply:
    provider: str
    provider_ref: str
    from_number: str
    body: str
    received_at: datetime
    in_reply_to_ref: str = ""  # the provider's id of our message, when it says


@dataclass(frozen=True)
class Receipt:
    provider: str
    provider_ref: str
    status: str  # "sent", "delivered" or "failed"
    error: str = ""


_ORDER = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "failed": 3, "cancelled": 3}


def apply_receipt(ctx: ServiceContext, receipt: Receipt) -> bool:
    """A delivery receipt: moves the message forward (never back). False if unknown."""
    with ctx.write("a delivery receipt arrived") as session:
        msg = session.scalars(
            select(OutgoingMessage).where(
                OutgoingMessage.provider_ref == receipt.provider_ref,
                OutgoingMessage.provider == receipt.provider,
            )
        ).first()
        if msg is None:
            return False
        if _ORDER.get(receipt.status, 0) <= _ORDER.get(msg.status, 0):
            return True
        msg.status = receipt.status
        if receipt.status == "delivered":
            msg.delivered_at = ctx.clock.now()
        if receipt.error:
            msg.error = receipt.error[:300]
        return True


def _who(session: Session, number: str) -> tuple[list[Patient], str]:
    try:
        e164 = rules.normalise_mobile(number)
    except ValidationFailed:
        return [], number
    tail = e164[-3:]
    found = []
    for p in session.scalars(
        select(Patient).where(
            Patient.mobile_phone.like(f"%{tail}"),
            Patient.deleted_at.is_(None),
            Patient.merged_into_id.is_(None),
        )
    ):
        try:
            if rules.normalise_mobile(p.mobile_phone) == e164:
                found.append(p)
        except ValidationFailed:
            continue
    return found, e164


def apply_reply(ctx: ServiceContext, reply: Reply) -> InboundMessage:
    """Record an SMS reply and act on it; the same provider message twice is applied once."""
    meaning = rules.reply_meaning(reply.body)
    offer: str | None = None  # a "Y" to a waitlist offer: booked after this write
    freed: str | None = None  # a "C" that freed a slot: offered to the waitlist after it
    with ctx.write("an SMS reply arrived") as session:
        existing = session.scalars(
            select(InboundMessage).where(InboundMessage.provider_ref == reply.provider_ref)
        ).first()
        if existing is not None:
            session.expunge(existing)
            return existing
        patients, e164 = _who(session, reply.from_number)
        # the message being answered: the one the provider names, else the newest SMS we sent
        # to this number (so a shared family number answers the right appointment)
        ours = None
        if reply.in_reply_to_ref:
            ours = session.scalars(
                select(OutgoingMessage).where(OutgoingMessage.provider_ref == reply.in_reply_to_ref)
            ).first()
        if ours is None:
            ours = session.scalars(
                select(OutgoingMessage)
                .where(
                    OutgoingMessage.to_address == e164,
                    OutgoingMessage.status.in_(("sent", "delivered")),
                    OutgoingMessage.appointment_id.is_not(None),
                )
                .order_by(OutgoingMessage.sent_at.desc())
                .limit(1)
            ).first()
        patient_id = ours.patient_id if ours else (patients[0].id if len(patients) == 1 else None)
        row = InboundMessage(
            provider=reply.provider,
            provider_ref=reply.provider_ref,
            from_number=e164,
            body=reply.body[:2000],
            received_at=reply.received_at,
            meaning=meaning.value,
            patient_id=patient_id,
            appointment_id=ours.appointment_id if ours else None,
            in_reply_to_id=ours.id if ours else None,
        )
        session.add(row)
        now = ctx.clock.now()
        if meaning is ReplyMeaning.STOP or meaning is ReplyMeaning.START:
            for p in patients:
                pref = session.scalars(
                    select(MessagePreference).where(MessagePreference.patient_id == p.id)
                ).first()
                if pref is None:
                    pref = MessagePreference(patient_id=p.id)
                    session.add(pref)
                pref.sms_opted_out_at = now if meaning is ReplyMeaning.STOP else None
            for m in session.scalars(
                select(OutgoingMessage).where(
                    OutgoingMessage.to_address == e164, OutgoingMessage.status == "queued"
                )
            ):
                if meaning is ReplyMeaning.STOP:
                    m.status = "cancelled"
                    m.error = "the patient replied STOP"
            row.outcome = (
                "opted out of SMS" if meaning is ReplyMeaning.STOP else "opted back in to SMS"
            )
            row.handled_at = now
        elif ours is not None and ours.kind == MessageKind.WAITLIST_OFFER.value:
            if meaning is ReplyMeaning.CONFIRM:
                row.outcome = "taking the waitlist spot"
                offer = ours.id
            else:
                row.outcome = "a reply to a waitlist offer; waiting in the inbox"
        elif meaning in (ReplyMeaning.CONFIRM, ReplyMeaning.CANCEL) and ours is not None:
            appt = session.get(Appointment, ours.appointment_id)
            row.outcome, done = _act(session, ctx, appt, meaning, now)
            if done:
                row.handled_at = now
                if meaning is ReplyMeaning.CANCEL and appt is not None:
                    freed = appt.id
        else:
            row.outcome = "waiting in the inbox"
        session.flush()
        session.expunge(row)
    from frontdesk.services.messaging import waitlist

    if offer is not None:
        row.outcome = waitlist.accept_offer(ctx, row.id, offer)
        if "inbox" not in row.outcome:
            row.handled_at = ctx.clock.now()
    if freed is not None:
        waitlist.offer_freed_slot(ctx, freed)
    return row


def _act(
    session: Session, ctx: ServiceContext, appt: Appointment | None, meaning: ReplyMeaning,
    now: datetime,
) -> tuple[str, bool]:  # fmt: skip
    if appt is None or appt.deleted_at is not None:
        return "the appointment no longer exists; waiting in the inbox", False
    if appt.starts_at <= now or appt.status != AppointmentStatus.BOOKED:
        return f"the appointment is {appt.status}; waiting in the inbox", False
    if meaning is ReplyMeaning.CONFIRM:
        appt.confirmed_at = now
        return "confirmed the appointment", True
    before = appt.status
    appt.status = AppointmentStatus.CANCELLED
    appt.cancellation_reason = CancellationReason.OTHER
    appt.cancellation_note = rules.SMS_CANCEL_NOTE
    appt.cancelled_at = now
    session.add(
        AppointmentStatusChange(
            appointment_id=appt.id, from_status=before, to_status=AppointmentStatus.CANCELLED,
            changed_at=now, changed_by_id=ctx.actor.staff_user_id,
            reason=CancellationReason.OTHER,
        )
    )  # fmt: skip
    for m in session.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.appointment_id == appt.id, OutgoingMessage.status == "queued"
        )
    ):
        m.status = "cancelled"
        m.error = "the patient cancelled by SMS"
    return "cancelled the appointment (patient cancelled by SMS)", True


@dataclass(frozen=True)
class InboxRow:
    id: str
    received_at: datetime
    from_number: str
    patient_id: str | None
    patient_name: str
    body: str
    outcome: str


def inbox(ctx: ServiceContext, *, include_handled: bool = False) -> list[InboxRow]:
    with ctx.read() as session:
        q = select(InboundMessage, Patient).outerjoin(
            Patient, Patient.id == InboundMessage.patient_id
        )
        if not include_handled:
            q = q.where(InboundMessage.handled_at.is_(None))
        q = q.where(InboundMessage.deleted_at.is_(None)).order_by(InboundMessage.received_at.desc())
        return [
            InboxRow(
                m.id,
                m.received_at,
                m.from_number,
                m.patient_id,
                f"{p.first_name} {p.last_name}" if p else "(unknown number)",
                m.body,
                m.outcome,
            )
            for m, p in session.execute(q).all()
        ]


def mark_handled(ctx: ServiceContext, inbound_id: str) -> None:
    with ctx.write("handled an SMS reply") as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise NotFound("That reply no longer exists.")
        row.handled_at = ctx.clock.now()
        row.handled_by_id = ctx.actor.staff_user_id
