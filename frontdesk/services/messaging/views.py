"""What the messaging screens show, as plain rows: a patient's message history, a template's
preview on a real appointment (with its SMS length, segments and cost), a day's messages, and a
test send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.domain.vocab import AppointmentStatus, MessageChannel
from frontdesk.models import Appointment, InboundMessage, OutgoingMessage, Patient
from frontdesk.services.messaging.queueing import settings, values_for
from frontdesk.services.messaging.setup import SAMPLE_VALUES
from frontdesk.store.context import ServiceContext

STATUS_WORDS = {
    "queued": "Queued",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Failed",
    "cancelled": "Withdrawn",
}


@dataclass(frozen=True)
class MessageRow:
    id: str
    queued_at: datetime
    kind: str
    channel: str
    to: str
    status: str
    when: datetime | None  # sent or delivered
    error: str
    body: str
    patient_name: str = ""

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


def _row(m: OutgoingMessage, name: str = "") -> MessageRow:
    return MessageRow(
        m.id, m.queued_at, m.kind, m.channel, m.to_address, m.status,
        m.delivered_at or m.sent_at, m.error or "", m.body, name,
    )  # fmt: skip


def patient_messages(ctx: ServiceContext, patient_id: str) -> list[MessageRow]:
    with ctx.read() as session:
        return [
            _row(m)
            for m in session.scalars(
                select(OutgoingMessage)
                .where(
                    OutgoingMessage.patient_id == patient_id,
                    OutgoingMessage.deleted_at.is_(None),
                )
                .order_by(OutgoingMessage.queued_at.desc(), OutgoingMessage.kind)
            )
        ]


def day_messages(ctx: ServiceContext, day: date) -> list[MessageRow]:
    """Every message queued on ``day`` (clinic time): the day's messages report."""
    start = datetime.combine(day, time(0), tzinfo=ctx.tz)
    end = start + timedelta(days=1)
    with ctx.read() as session:
        q = (
            select(OutgoingMessage, Patient)
            .join(Patient, Patient.id == OutgoingMessage.patient_id)
            .where(OutgoingMessage.queued_at >= start, OutgoingMessage.queued_at < end)
            .order_by(OutgoingMessage.queued_at)
        )
        return [_row(m, f"{p.first_name} {p.last_name}") for m, p in session.execute(q).all()]


@dataclass(frozen=True)
class DayRow:
    """One line of the day's messages report: a message out, or a reply in."""

    at: datetime  # sent (else queued) for a message; received for a reply
    direction: str  # "out" or "in"
    patient_name: str
    kind: str  # "reminder", "confirmation"… or "reply"
    channel: str
    number: str  # to, or from
    status: str  # words: Sent, Delivered, Failed… or Handled / In the inbox
    detail: str  # the provider's error, or what the reply did


@dataclass(frozen=True)
class DayReport:
    day: date
    rows: list[DayRow]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def summary(self) -> str:
        out = [r for r in self.rows if r.direction == "out"]
        sent = sum(1 for r in out if r.status in ("Sent", "Delivered"))
        replies = [r for r in self.rows if r.direction == "in"]
        waiting = sum(1 for r in replies if r.status == "In the inbox")
        return (
            f"{sent} sent ({self.count('Delivered')} delivered), {self.count('Failed')} failed, "
            f"{self.count('Queued')} waiting to go, {self.count('Withdrawn')} withdrawn; "
            f"{len(replies)} {'reply' if len(replies) == 1 else 'replies'} ({waiting} in the inbox)"
        )


def day_report(ctx: ServiceContext, day: date) -> DayReport:
    """What was sent, failed or replied on ``day`` in the clinic's time zone: every message
    queued or sent that day and every reply received, oldest first."""
    start = datetime.combine(day, time(0), tzinfo=ctx.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.tz)  # DST-safe

    def name(p: Patient | None) -> str:
        return f"{p.first_name} {p.last_name}" if p else "(unknown number)"

    rows: list[DayRow] = []
    with ctx.read() as session:
        out = session.execute(
            select(OutgoingMessage, Patient)
            .outerjoin(Patient, Patient.id == OutgoingMessage.patient_id)
            .where(
                OutgoingMessage.deleted_at.is_(None),
                or_(
                    (OutgoingMessage.queued_at >= start) & (OutgoingMessage.queued_at < end),
                    (OutgoingMessage.sent_at >= start) & (OutgoingMessage.sent_at < end),
                ),
            )
        ).all()
        for m, p in out:
            rows.append(DayRow(m.sent_at or m.queued_at, "out", name(p), m.kind, m.channel,
                               m.to_address, STATUS_WORDS.get(m.status, m.status),
                               m.error or ""))  # fmt: skip
        inbound = session.execute(
            select(InboundMessage, Patient)
            .outerjoin(Patient, Patient.id == InboundMessage.patient_id)
            .where(
                InboundMessage.deleted_at.is_(None),
                InboundMessage.received_at >= start,
                InboundMessage.received_at < end,
            )
        ).all()
        for r, p in inbound:
            rows.append(DayRow(r.received_at, "in", name(p), "reply", "sms", r.from_number,
                               "Handled" if r.handled_at else "In the inbox",
                               f"“{r.body[:60]}” — {r.outcome}"))  # fmt: skip
    rows.sort(key=lambda r: (r.at, r.direction))
    return DayReport(day, rows)


@dataclass(frozen=True)
class Preview:
    text: str
    length: str  # e.g. "134 characters (GSM-7), 1 SMS segment"
    segments: int
    cost_cents: int
    problem: str  # "" when the template is fine
    on: str  # which appointment it was previewed on


def preview(
    ctx: ServiceContext, body: str, channel: MessageChannel, appointment_id: str | None = None
) -> Preview:
    """The template filled in for a real appointment (the one given, else the next booked one;
    sample values when the diary is empty), with its SMS length and cost. Never raises for a
    bad template: the problem is returned for the screen to show beside the text."""
    with ctx.read() as session:
        cfg = settings(session)
        appt = None
        if appointment_id:
            appt = session.get(Appointment, appointment_id)
        if appt is None:
            appt = session.scalars(
                select(Appointment)
                .where(
                    Appointment.starts_at >= ctx.clock.now(),
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.patient_id.is_not(None),
                    Appointment.deleted_at.is_(None),
                )
                .order_by(Appointment.starts_at)
                .limit(1)
            ).first()
        values = values_for(session, appt, ctx.tz) if appt is not None else dict(SAMPLE_VALUES)
        on = (
            f"{values['patient_name']}, {values['date']} {values['time']}"
            if appt is not None
            else "sample values (no booked appointment yet)"
        )
        limit, cost = cfg.segment_limit, cfg.segment_cost_cents
    sms = channel is MessageChannel.SMS
    try:
        text = rules.with_sender_and_opt_out(rules.render(body, values), values["clinic"], sms=sms)
    except FrontdeskError as exc:
        return Preview("", "", 0, 0, exc.user_message, on)
    if not sms:
        return Preview(text, f"{len(text)} characters (email)", 0, 0, "", on)
    length = rules.sms_length(text)
    problem = ""
    try:
        rules.check_segments(text, limit)
    except ValidationFailed as exc:
        problem = exc.user_message
    return Preview(text, length.describe(), length.segments, length.segments * cost, problem, on)


def test_send(ctx: ServiceContext, to: str, body: str = "") -> str:
    """Send one SMS straight through the configured provider, to check the settings: not
    queued, not linked to a patient. Returns the words to show (the provider's id)."""
    from frontdesk.services.messaging.providers import Outgoing
    from frontdesk.services.messaging.queueing import _clinic
    from frontdesk.services.messaging.setup import build_providers

    number = rules.normalise_mobile(to)
    providers = build_providers(ctx)
    provider = providers.get(MessageChannel.SMS)
    if provider is None:
        raise ValidationFailed("Choose an SMS provider and save before a test send.")
    with ctx.read() as session:
        clinic = _clinic(session)[0]
    text = rules.with_sender_and_opt_out(
        body or "This is a test message from frontdesk.", clinic, sms=True
    )
    now = ctx.clock.now()
    key = f"test-{now.timestamp():.0f}"
    ref = provider.send(Outgoing(key, number, "", text, key, now))
    return f"Sent to {number} through {provider.name} ({ref})."
