"""Waitlist offers: when a booked slot frees (a cancellation, by the desk or by an SMS "C"; or a
move), the first ``OFFERS_PER_SLOT`` waiting patients it suits (practitioner or any, appointment
type, days and times wanted — the diary's waitlist) are each queued an SMS offer. The first to
reply "Y" takes it through the desk's booking service (which refuses a slot someone else has
since booked); their waitlist entry is resolved with the new appointment; everyone else offered
is told it has gone, and offers not yet sent are withdrawn.

The offer rows are ordinary ``outgoing_messages`` (kind ``waitlist_offer``) whose
``appointment_id`` / ``appointment_starts_at`` name the freed appointment and its time, so they
sync, are sent exactly once by the sender, and a reply finds its slot like any other reply.
Replies are applied by one messaging desk in arrival order, so "first" is the first reply the
server took.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.messaging import MessageKind
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import Appointment, InboundMessage, OutgoingMessage, Patient, WaitlistEntry
from frontdesk.services.messaging import queueing
from frontdesk.store.context import ServiceContext

log = logging.getLogger("frontdesk.messaging")

OFFERS_PER_SLOT = 3
OFFER_TEXT = (
    "Hi {preferred_name}, a spot has opened with {practitioner} on {date} at {time}. "
    "Reply Y to take it (first reply gets it). {clinic}"
)
GONE_TEXT = (
    "Hi {preferred_name}, the {date} {time} spot with {practitioner} has now been taken; "
    "you are still on our waitlist. {clinic}"
)
TAKEN_OUTCOME = "took the waitlist spot"


def _id(kind: MessageKind | str, appt: Appointment, starts_at: datetime, patient_id: str) -> str:
    return str(uuid.uuid5(queueing._NS, f"{kind}|{appt.id}|{starts_at.isoformat()}|{patient_id}"))


def _fits(
    entry: WaitlistEntry, appt: Appointment, starts_at: datetime, ctx: ServiceContext
) -> bool:
    local = starts_at.astimezone(ctx.tz)
    minute = local.hour * 60 + local.minute
    pracs = [p for p in entry.preferred_practitioner_ids.split(",") if p]
    if pracs and appt.practitioner_id not in pracs:
        return False
    if entry.appointment_type_id and entry.appointment_type_id != appt.appointment_type_id:
        return False
    if not entry.preferred_weekdays & (1 << local.weekday()):
        return False
    return entry.earliest_minute <= minute < entry.latest_minute


def _message(
    session: Session, ctx: ServiceContext, appt: Appointment, starts_at: datetime,
    patient: Patient, kind: MessageKind | str, text: str,
) -> OutgoingMessage | None:  # fmt: skip
    """An SMS about ``appt``'s slot to ``patient`` (not the appointment's own patient)."""
    address, _why = queueing.address_for(session, patient, MessageKind.WAITLIST_OFFER)
    if address is None:
        return None
    values = queueing.values_for(session, appt, ctx.tz)
    values["date"] = rules.clinic_date(starts_at, ctx.tz)
    values["time"] = rules.clinic_time(starts_at, ctx.tz)
    values["preferred_name"] = patient.preferred_name or patient.first_name
    values["patient_name"] = f"{patient.first_name} {patient.last_name}"
    sms = address.channel.value == "sms"
    body = rules.with_sender_and_opt_out(rules.render(text, values), values["clinic"], sms=sms)
    mid = _id(kind, appt, starts_at, patient.id)
    if session.get(OutgoingMessage, mid) is not None:
        return None
    now = ctx.clock.now()
    quiet = queueing.quiet_hours(queueing.settings(session))
    msg = OutgoingMessage(
        id=mid, patient_id=patient.id, appointment_id=appt.id, channel=address.channel.value,
        to_address=address.to, subject=f"{values['clinic']}: a spot has opened", body=body,
        status="queued", queued_at=now, kind=str(kind),
        send_after=rules.next_allowed(now, ctx.tz, quiet),
        appointment_starts_at=starts_at, idempotency_key=mid,
        segments=rules.sms_length(body).segments if sms else 0,
    )  # fmt: skip
    session.add(msg)
    return msg


def _slot_free(session: Session, appt: Appointment, starts_at: datetime) -> bool:
    ends_at = starts_at + (appt.ends_at - appt.starts_at)
    clash = session.scalars(
        select(Appointment.id).where(
            Appointment.practitioner_id == appt.practitioner_id,
            Appointment.id != appt.id,
            Appointment.starts_at < ends_at,
            Appointment.ends_at > starts_at,
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.deleted_at.is_(None),
        )
    ).first()
    mine_there = appt.status != AppointmentStatus.CANCELLED and appt.starts_at == starts_at
    return clash is None and not mine_there


def offer_in(
    session: Session, ctx: ServiceContext, appt: Appointment, starts_at: datetime,
    limit: int | None = None,
) -> int:  # fmt: skip
    """Queue offers of ``appt``'s freed slot at ``starts_at`` to the first waiting patients it
    suits (most urgent, then longest waiting). Returns offers queued (0 when already offered)."""
    if starts_at <= ctx.clock.now() or not queueing.messaging_on(session):
        return 0
    already = session.scalars(
        select(OutgoingMessage.id).where(
            OutgoingMessage.appointment_id == appt.id,
            OutgoingMessage.kind == MessageKind.WAITLIST_OFFER.value,
            OutgoingMessage.appointment_starts_at == starts_at,
        )
    ).first()
    if already is not None or not _slot_free(session, appt, starts_at):
        return 0
    entries = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.resolved_at.is_(None), WaitlistEntry.deleted_at.is_(None))
        .order_by(WaitlistEntry.urgency.desc(), WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    count = 0
    offered: set[str] = set()
    for entry in entries:
        if count >= (limit or OFFERS_PER_SLOT):
            break
        if entry.patient_id in offered or entry.patient_id == appt.patient_id:
            continue
        if not _fits(entry, appt, starts_at, ctx):
            continue
        patient = session.get(Patient, entry.patient_id)
        if patient is None:
            continue
        if _message(session, ctx, appt, starts_at, patient, MessageKind.WAITLIST_OFFER, OFFER_TEXT):
            offered.add(entry.patient_id)
            count += 1
    return count


def offer_freed_slot(
    ctx: ServiceContext, appointment_id: str, starts_at: datetime | None = None
) -> int:
    """After ``appointment_id`` was cancelled (or moved away from ``starts_at``)."""
    try:
        with ctx.write("offered a freed slot to the waitlist") as session:
            appt = session.get(Appointment, appointment_id)
            if appt is None:
                return 0
            return offer_in(session, ctx, appt, starts_at or appt.starts_at)
    except FrontdeskError as exc:
        log.warning("waitlist offers not queued: %s", type(exc).__name__)
        return 0


def accept_offer(ctx: ServiceContext, inbound_id: str, offer_id: str) -> str:
    """A "Y" to a waitlist offer: in one transaction, book the slot for that patient through the
    booking service if it is still free (else tell them it has gone), resolve their waitlist
    entry, withdraw the offers not yet sent and tell the others. Returns the outcome."""
    from frontdesk.services.diary.appointments import BookingRequest, new_appointment

    new_id = None
    with ctx.write("a waitlist offer was answered") as session:
        offer = session.get(OutgoingMessage, offer_id)
        freed = (
            session.get(Appointment, offer.appointment_id)
            if offer and offer.appointment_id
            else None
        )
        row = session.get(InboundMessage, inbound_id)
        if offer is None or freed is None or offer.appointment_starts_at is None or row is None:
            return "the offer's slot no longer exists; waiting in the inbox"
        starts, patient_id = offer.appointment_starts_at, offer.patient_id
        patient = session.get(Patient, patient_id)
        taken = session.scalars(
            select(InboundMessage.id).where(
                InboundMessage.appointment_id == freed.id, InboundMessage.outcome == TAKEN_OUTCOME
            )
        ).first()
        if taken is None and starts > ctx.clock.now() and _slot_free(session, freed, starts):
            req = BookingRequest(
                practitioner_id=freed.practitioner_id, starts_at=starts,
                ends_at=starts + (freed.ends_at - freed.starts_at), patient_id=patient_id,
                appointment_type_id=freed.appointment_type_id, room_id=freed.room_id,
                location_id=freed.location_id, notes="Booked from the waitlist by SMS",
            )  # fmt: skip
            try:  # roster warnings were accepted when the slot was first booked; clashes are not
                new_id = new_appointment(session, ctx, req, allow_clash=True).id
            except FrontdeskError as exc:  # the practitioner is away, archived…
                log.info("waitlist offer could not be booked: %s", type(exc).__name__)
        row.handled_at = ctx.clock.now()
        if new_id is None:
            if patient is not None:
                _message(session, ctx, freed, starts, patient, MessageKind.WAITLIST_GONE, GONE_TEXT)
            row.outcome = "the waitlist spot had already gone; told the patient"
            return row.outcome
        row.outcome = TAKEN_OUTCOME
        for entry in session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.resolved_at.is_(None),
                WaitlistEntry.deleted_at.is_(None),
            )
        ):
            if _fits(entry, freed, starts, ctx):
                entry.resolved_at = ctx.clock.now()
                entry.booked_appointment_id = new_id
                break
        for other in session.scalars(
            select(OutgoingMessage).where(
                OutgoingMessage.appointment_id == freed.id,
                OutgoingMessage.kind == MessageKind.WAITLIST_OFFER.value,
                OutgoingMessage.appointment_starts_at == starts,
                OutgoingMessage.patient_id != patient_id,
            )
        ):
            if other.status == "queued":
                other.status = "cancelled"
                other.error = "another patient took the spot first"
            elif other.status in {"sending", "sent", "delivered"}:
                who = session.get(Patient, other.patient_id)
                if who is not None:
                    _message(session, ctx, freed, starts, who, MessageKind.WAITLIST_GONE, GONE_TEXT)
    queueing.appointments_changed(ctx, [new_id])  # its confirmation and reminder
    return TAKEN_OUTCOME


def freed_by(appt: Appointment, messages: list[OutgoingMessage]) -> list[datetime]:
    """The slots ``appt`` has left: its time when cancelled, or the times its earlier messages
    were about when it has moved (``offer_in`` skips a slot offered before or filled since)."""
    if appt.status == AppointmentStatus.CANCELLED:
        return [appt.starts_at]
    olds = {
        m.appointment_starts_at
        for m in messages
        if m.kind in {"confirmation", "reminder", "moved"} and m.appointment_starts_at is not None
    }
    olds.discard(appt.starts_at)
    return sorted(t for t in olds if t is not None)
