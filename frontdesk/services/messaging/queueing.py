"""What is queued: a confirmation at booking, a reminder on the appointment type's schedule, a
notice when an appointment is moved or cancelled — each an ``outgoing_messages`` row written in
``ctx.write`` (so it syncs and is audited) by whichever desk saw the change, even offline.

Message ids are derived from what the message is about (kind, appointment, its time): two desks
or the server planning the same reminder make the same row, never two messages.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, exists, func, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.domain.messaging import MessageKind
from frontdesk.domain.vocab import AppointmentStatus, MessageChannel
from frontdesk.models import (
    Appointment,
    AppointmentType,
    Base,
    Location,
    MessagePreference,
    MessageTemplate,
    MessagingSettings,
    OutgoingMessage,
    Patient,
    Practitioner,
)
from frontdesk.models.codec import to_json_value
from frontdesk.services.messaging.worker import _booked_ids
from frontdesk.store import outbox
from frontdesk.store.bulk import BulkWriter, raw_connection, scalar_defaults
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracking import TRACKING_KEY, Tracking, record_event

log = logging.getLogger("frontdesk.messaging")

_NON_DIGITS = re.compile(r"\D")
_NS = uuid.UUID("6f1d3c2e-9a57-4f0b-8d0e-5b7c1f2a9e31")

DEFAULT_TEMPLATES: dict[tuple[MessageKind, MessageChannel], tuple[str, str]] = {
    (MessageKind.CONFIRMATION, MessageChannel.SMS): (
        "",
        "Hi {preferred_name}, you're booked with {practitioner} on {date} at {time}, "
        "{location}. {clinic}",
    ),
    (MessageKind.REMINDER, MessageChannel.SMS): (
        "",
        "Hi {preferred_name}, a reminder of your appointment with {practitioner} on {date} "
        "at {time}. Reply Y to confirm or C to cancel. {clinic}",
    ),
    (MessageKind.MOVED, MessageChannel.SMS): (
        "",
        "Hi {preferred_name}, your appointment with {practitioner} is now {date} at {time}. "
        "{clinic}",
    ),
    (MessageKind.CANCELLED, MessageChannel.SMS): (
        "",
        "Hi {preferred_name}, your appointment with {practitioner} on {date} at {time} "
        "has been cancelled. {clinic}",
    ),
}
for (_kind, _ch), (_subj, _body) in list(DEFAULT_TEMPLATES.items()):
    DEFAULT_TEMPLATES[(_kind, MessageChannel.EMAIL)] = (
        f"{{clinic}}: your appointment ({_kind.value})",
        _body + "\n\n{address}\n\n{cancellation_policy}",
    )
_BIRTHDAY = "Happy birthday {preferred_name}! Best wishes from everyone at {clinic}."
DEFAULT_TEMPLATES[(MessageKind.BIRTHDAY, MessageChannel.SMS)] = ("", _BIRTHDAY)
DEFAULT_TEMPLATES[(MessageKind.BIRTHDAY, MessageChannel.EMAIL)] = (
    "Happy birthday from {clinic}",
    _BIRTHDAY,
)


def message_id(kind: MessageKind, appointment_id: str, starts_at: datetime | None) -> str:
    stamp = starts_at.isoformat() if starts_at is not None else ""
    return str(uuid.uuid5(_NS, f"{kind.value}|{appointment_id}|{stamp}"))


def settings(session: Session) -> MessagingSettings:
    cached = session.info.get("msg_settings")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    row = _settings(session)
    session.info["msg_settings"] = row
    return row


def _settings(session: Session) -> MessagingSettings:
    row = session.scalars(
        select(MessagingSettings)
        .where(MessagingSettings.deleted_at.is_(None))
        .order_by(MessagingSettings.created_at, MessagingSettings.id)
        .limit(1)
    ).first()
    if row is not None:
        return row
    # not saved yet: an unsaved row with every column's default (messaging off)
    defaults = {
        c.name: c.default.arg  # type: ignore[attr-defined]
        for c in MessagingSettings.__table__.columns
        if c.default is not None and not callable(c.default.arg)  # type: ignore[attr-defined]
    }
    return MessagingSettings(**defaults)


def quiet_hours(cfg: MessagingSettings) -> rules.QuietHours:
    def at(minute: int) -> time:
        return time(minute // 60 % 24, minute % 60)

    return rules.QuietHours(at(cfg.quiet_start_minute), at(cfg.quiet_end_minute))


def template_for(
    session: Session, kind: MessageKind, channel: MessageChannel, type_id: str | None
) -> tuple[str, str, rules.ReminderSchedule]:
    """The template for this kind and channel: the appointment type's own, else the clinic's,
    else the built-in words. Returns (subject, body, schedule)."""
    every: list[MessageTemplate] | None = session.info.get("msg_templates")
    if every is None:  # read once per transaction: a day's planning asks for each appointment
        every = list(
            session.scalars(
                select(MessageTemplate).where(
                    MessageTemplate.archived_at.is_(None), MessageTemplate.deleted_at.is_(None)
                )
            )
        )
        session.info["msg_templates"] = every
    rows = [r for r in every if r.kind == kind.value and r.channel == channel.value]
    chosen = next((r for r in rows if type_id and r.appointment_type_id == type_id), None)
    chosen = chosen or next((r for r in rows if r.appointment_type_id is None), None)
    if chosen is None:
        subject, body = DEFAULT_TEMPLATES.get((kind, channel), ("", "{clinic}"))
        return subject, body, rules.ReminderSchedule()
    minute = chosen.send_at_minute
    schedule = rules.ReminderSchedule(chosen.days_before, time(minute // 60, minute % 60))
    return chosen.subject, chosen.body, schedule


def preference(session: Session, patient_id: str) -> MessagePreference | None:
    known: dict[str, MessagePreference] | None = session.info.get("msg_prefs")
    if known is not None:
        return known.get(patient_id)
    return session.scalars(
        select(MessagePreference).where(
            MessagePreference.patient_id == patient_id, MessagePreference.deleted_at.is_(None)
        )
    ).first()


@dataclass(frozen=True)
class Address:
    channel: MessageChannel
    to: str


def address_for(
    session: Session, patient: Patient, kind: MessageKind
) -> tuple[Address | None, str]:
    """Where this patient's message goes, or None and the reason it may not be sent."""
    pref = preference(session, patient.id)
    order = [MessageChannel.SMS, MessageChannel.EMAIL]
    if pref is not None and pref.preferred_channel == MessageChannel.EMAIL:
        order.reverse()
    reasons: list[str] = []
    for channel in order:
        sms = channel is MessageChannel.SMS
        who = rules.Recipient(
            channel_consent=patient.sms_consent if sms else patient.email_consent,
            opted_out=pref is not None
            and (pref.sms_opted_out_at if sms else pref.email_opted_out_at) is not None,
            marketing_consent=pref is not None and pref.marketing_consent,
            archived=patient.archived_at is not None or patient.merged_into_id is not None,
            deceased=pref is not None and pref.deceased_at is not None,
        )
        why = rules.refusal(kind, who)
        if why is not None:
            reasons.append(f"{channel.value.upper()}: {why}")
            continue
        try:
            to = (
                rules.normalise_mobile(patient.mobile_phone)
                if sms
                else rules.check_email(patient.email)
            )
        except ValidationFailed as exc:
            reasons.append(f"{channel.value.upper()}: {exc.user_message}")
            continue
        return Address(channel, to), ""
    return None, "; ".join(reasons)


def shares_number(session: Session, patient: Patient, e164: str) -> bool:
    """True when another live patient has the same mobile (a family phone). The numbers held by
    more than one patient are found once per transaction by one grouped query (a day's planning
    asks for every appointment)."""
    shared: set[str] | None = session.info.get("msg_shared")
    if shared is None:
        digits: ColumnElement[str] = func.trim(Patient.mobile_phone)
        for ch in " -()+./":
            digits = func.replace(digits, ch, "")
        last9 = func.substr(digits, -9)
        shared = set(
            session.scalars(
                select(last9)
                .where(
                    Patient.archived_at.is_(None),
                    Patient.merged_into_id.is_(None),
                    Patient.deleted_at.is_(None),
                    Patient.mobile_phone != "",
                )
                .group_by(last9)
                .having(func.count() > 1)
            )
        )
        session.info["msg_shared"] = shared
    if _last9(patient.mobile_phone) == _last9(e164):
        return _last9(e164) in shared  # this patient and at least one other
    return bool(
        session.scalars(
            select(Patient.id).where(
                Patient.mobile_phone.like(f"%{e164[-3:]}"),
                Patient.id != patient.id,
                Patient.archived_at.is_(None),
                Patient.merged_into_id.is_(None),
                Patient.deleted_at.is_(None),
            )
        ).first()
    )


def _shared_among(session: Session, mobiles: Iterable[str | None]) -> set[str] | None:
    """Of these mobiles, the ones (national digits) another live patient also holds — found
    through the patient search index, which keeps every phone as digits (with and without
    the leading 0), so a day's few hundred numbers cost a few index look-ups instead of
    normalising every patient's number (150,000 on the 10-year clinic). None when the index
    cannot answer (``shares_number`` then asks the grouped query)."""
    wanted = {k for k in (_last9(m) for m in mobiles if m) if len(k) == 9 and k.isdigit()}
    if not wanted:
        return set()
    terms = " OR ".join(f'"{t}"' for k in sorted(wanted) for t in (f"0{k}", k, f"61{k}"))
    try:
        found = session.execute(
            text(
                "SELECT p.mobile_phone FROM patients_fts JOIN patients p "
                "ON p.rowid = patients_fts.rowid WHERE patients_fts MATCH :q "
                "AND p.archived_at IS NULL AND p.merged_into_id IS NULL "
                "AND p.deleted_at IS NULL AND p.mobile_phone != ''"
            ),
            {"q": f"phones : ({terms})"},
        ).scalars()
        counts = Counter(_last9(m) for m in found)
    except OperationalError:
        return None
    return {k for k, n in counts.items() if n > 1 and k in wanted}


def _last9(raw: str) -> str:
    """The national significant digits of an Australian mobile (4XXXXXXXX), whatever the
    spacing or prefix it was typed with."""
    return _NON_DIGITS.sub("", raw)[-9:]


def values_for(session: Session, appt: Appointment, tz: ZoneInfo) -> dict[str, str]:
    patient = session.get(Patient, appt.patient_id) if appt.patient_id else None
    prac = session.get(Practitioner, appt.practitioner_id)
    loc = session.get(Location, appt.location_id) if appt.location_id else None
    atype = (
        session.get(AppointmentType, appt.appointment_type_id)
        if (appt.appointment_type_id)
        else None
    )
    cfg = settings(session)
    clinic = _clinic(session)
    return {
        "preferred_name": (patient.preferred_name or patient.first_name) if patient else "",
        "patient_name": f"{patient.first_name} {patient.last_name}" if patient else "",
        "practitioner": prac.display_name if prac else "",
        "date": rules.clinic_date(appt.starts_at, tz),
        "time": rules.clinic_time(appt.starts_at, tz),
        "appointment_type": atype.name if atype else "",
        "location": loc.name if loc else "",
        "address": (loc.address if loc and loc.address else clinic[1]).replace("\n", ", "),
        "clinic": clinic[0],
        "clinic_phone": clinic[2],
        "cancellation_policy": cfg.cancellation_policy,
    }


def _clinic(session: Session) -> tuple[str, str, str]:
    from frontdesk.models import ClinicSettings

    cached = session.info.get("msg_clinic")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    row = session.scalars(
        select(ClinicSettings)
        .where(ClinicSettings.deleted_at.is_(None))
        .order_by(ClinicSettings.created_at, ClinicSettings.id)
        .limit(1)
    ).first()
    out = (row.name, row.address, row.phone) if row else ("", "", "")
    session.info["msg_clinic"] = out
    return out


@dataclass(frozen=True)
class Composed:
    channel: MessageChannel
    to: str
    subject: str
    body: str
    segments: int


def compose(
    session: Session,
    appt: Appointment,
    kind: MessageKind,
    tz: ZoneInfo,
    *,
    body_override: str | None = None,
) -> tuple[Composed | None, str]:
    """The message for this appointment and kind, or None and why it is not sent."""
    if appt.patient_id is None:
        return None, "a group booking has no single patient"
    patient = session.get(Patient, appt.patient_id)
    if patient is None:
        return None, "the patient is missing"
    address, why = address_for(session, patient, kind)
    if address is None:
        return None, why
    subject, body, _ = template_for(session, kind, address.channel, appt.appointment_type_id)
    if body_override is not None:
        body = body_override
    values = values_for(session, appt, tz)
    text = rules.render(body, values)
    sms = address.channel is MessageChannel.SMS
    if sms and shares_number(session, patient, address.to):
        text = rules.shared_number_prefix(values["patient_name"]) + text
    text = rules.with_sender_and_opt_out(text, values["clinic"], sms=sms)
    segments = 0
    if sms:
        segments = rules.check_segments(text, settings(session).segment_limit).segments
    return Composed(address.channel, address.to, rules.render(subject, values), text, segments), ""


def _fields(
    session: Session, ctx: ServiceContext, appt: Appointment, kind: MessageKind,
    send_after: datetime, mid: str,
) -> dict[str, Any] | None:  # fmt: skip
    """The new message's columns, or None when it is not to be sent (no consent, bad number…)."""
    try:
        composed, _why = compose(session, appt, kind, ctx.tz)
    except ValidationFailed as exc:  # e.g. over the segment limit once filled: skip this one
        log.warning("message not queued (%s): %s", kind.value, type(exc).__name__)
        return None
    if composed is None:
        return None
    return {
        "id": mid,
        "patient_id": appt.patient_id,
        "appointment_id": appt.id,
        "channel": composed.channel.value,
        "to_address": composed.to,
        "subject": composed.subject,
        "body": composed.body,
        "status": "queued",
        "queued_at": ctx.clock.now(),
        "kind": kind.value,
        "send_after": rules.next_allowed(send_after, ctx.tz, quiet_hours(settings(session))),
        "appointment_starts_at": appt.starts_at,
        "idempotency_key": mid,
        "segments": composed.segments,
    }


def _queue(
    session: Session, ctx: ServiceContext, appt: Appointment, kind: MessageKind,
    send_after: datetime,
) -> OutgoingMessage | None:  # fmt: skip
    mid = message_id(kind, appt.id, appt.starts_at)
    existing = session.get(OutgoingMessage, mid)
    if existing is not None:
        return existing
    fields = _fields(session, ctx, appt, kind, send_after, mid)
    if fields is None:
        return None
    msg = OutgoingMessage(**fields)
    session.add(msg)
    return msg


_MESSAGES: Table = Base.metadata.tables["outgoing_messages"]


def _insert_many(session: Session, rows: list[dict[str, Any]], action: str) -> None:
    """Insert many new messages at once, as the patient import does: the rows and their sync
    outbox entries through the bulk writer in this transaction, and one audit event for all."""
    if not rows:
        return
    tracking: Tracking = session.info[TRACKING_KEY]
    now = tracking.now
    conn = raw_connection(session)
    writer = BulkWriter(conn, _MESSAGES, now=now)
    seq = outbox.next_seq(session.connection())
    seen = outbox.seen_cursor(session.connection())
    base = dict(scalar_defaults(_MESSAGES), created_at=now, updated_at=now)
    base_json = {k: to_json_value(v) for k, v in base.items() if k != "version"}
    changes = []
    for row in rows:
        writer.add(**row)
        payload = dict(base_json)
        payload.update((k, to_json_value(v)) for k, v in row.items())
        changes.append(
            outbox.outbox_row(
                seq, entity="outgoing_messages", row_id=row["id"], op="insert", fields=payload,
                base_version=0, hlc=tracking.hlc.tick().encode(), now=now,
                seen_cursor=seen,
            )
        )  # fmt: skip
        seq += 1
        tracking.collector.add("outgoing_messages", row["id"])
    writer.flush()
    outbox.bulk_append(conn, changes)
    record_event(session, action, entity="outgoing_messages",
                 summary=f"{len(rows)} {rows[0]['kind']} message(s) queued")  # fmt: skip


def _queued_for(session: Session, appointment_id: str) -> list[OutgoingMessage]:
    return list(
        session.scalars(
            select(OutgoingMessage).where(
                OutgoingMessage.appointment_id == appointment_id,
                OutgoingMessage.deleted_at.is_(None),
            )
        ).all()
    )


def reconcile_appointment(session: Session, ctx: ServiceContext, appt: Appointment) -> None:
    """Bring one appointment's messages in line with it: confirm a new booking, plan its
    reminder, withdraw what no longer fits a moved or cancelled one and tell the patient."""
    now = ctx.clock.now()
    messages = _queued_for(session, appt.id)
    for m in messages:
        stale = appt.status == AppointmentStatus.CANCELLED or (
            m.appointment_starts_at is not None and m.appointment_starts_at != appt.starts_at
        )
        if stale and m.status == "queued" and m.kind in {"reminder", "confirmation", "moved"}:
            m.status = "cancelled"
            m.error = "the appointment was moved or cancelled after this was queued"
    told = any(m.status in {"sent", "delivered", "sending"} for m in messages)
    if appt.status == AppointmentStatus.CANCELLED:
        by_sms = appt.cancellation_note == rules.SMS_CANCEL_NOTE
        if told and not by_sms and appt.starts_at > now:
            _queue(session, ctx, appt, MessageKind.CANCELLED, now)
        return
    if appt.status != AppointmentStatus.BOOKED or appt.starts_at <= now:
        return
    moved = any(
        m.appointment_starts_at not in (None, appt.starts_at)
        and m.status in {"sent", "delivered", "sending"}
        for m in messages
    )
    current = any(
        m.appointment_starts_at == appt.starts_at
        and m.kind in {"confirmation", "moved"}
        and m.status != "cancelled"
        for m in messages
    )
    if moved and not current:
        _queue(session, ctx, appt, MessageKind.MOVED, now)
    elif not current and (messages or (appt.created_at or now) >= now - timedelta(days=1)):
        # a new booking (or one moved before its confirmation went) is confirmed; an old one
        # merely edited is not
        _queue(session, ctx, appt, MessageKind.CONFIRMATION, now)
    _, _, schedule = template_for(
        session, MessageKind.REMINDER, MessageChannel.SMS, appt.appointment_type_id
    )
    due = rules.reminder_due(appt.starts_at, appt.created_at or now, ctx.tz, schedule)
    if due is not None:
        _queue(session, ctx, appt, MessageKind.REMINDER, due)


def messaging_on(session: Session) -> bool:
    return settings(session).enabled


def appointments_changed(ctx: ServiceContext, appointment_ids: Iterable[str]) -> int:
    """After a booking, move or cancellation: queue what it calls for. Returns messages queued."""
    ids = sorted(set(appointment_ids))
    if not ids:
        return 0
    with ctx.read() as session:
        if not messaging_on(session):
            return 0
    from frontdesk.services.messaging.waitlist import freed_by, offer_in

    with ctx.write("queued appointment messages") as session:
        before = len(session.new)
        for appt in session.scalars(select(Appointment).where(Appointment.id.in_(ids))):
            if appt.deleted_at is None:
                reconcile_appointment(session, ctx, appt)
                for left in freed_by(appt, _queued_for(session, appt.id)):
                    offer_in(session, ctx, appt, left)  # a freed slot goes to the waitlist
        return len(session.new) - before


def notices_owed(ctx: ServiceContext, *, within: timedelta = timedelta(days=2)) -> int:
    """Queue the notices a desk could not know it owed: it cancelled or moved an appointment
    before hearing that the messaging desk had meanwhile sent a message about it, so it saw
    nobody told, withdrew a message that had gone (the clinic server keeps it sent:
    ``server/rules.late_withdrawal``) and queued no notice. Run by every sender round; looks
    only at messages sent in the last ``within`` (that race is seconds long). Returns how many
    were queued."""
    now = ctx.clock.now()
    sent = OutgoingMessage
    notice = aliased(OutgoingMessage)
    told_of_cancel = exists().where(
        notice.appointment_id == Appointment.id, notice.kind == MessageKind.CANCELLED.value
    )
    told_of_now = exists().where(
        notice.appointment_id == Appointment.id,
        notice.appointment_starts_at == Appointment.starts_at,
        notice.kind.in_((MessageKind.CONFIRMATION.value, MessageKind.MOVED.value)),
        notice.status != "cancelled",
    )
    cancelled = Appointment.status == AppointmentStatus.CANCELLED
    query = (
        select(Appointment.id)
        .join(sent, sent.appointment_id == Appointment.id)
        .where(
            sent.send_after >= now - within,
            sent.status.in_(("sent", "delivered")),
            sent.kind.in_(("confirmation", "moved", "reminder")),
            sent.deleted_at.is_(None),
            Appointment.starts_at > now,
            Appointment.deleted_at.is_(None),
            or_(
                and_(cancelled, Appointment.cancellation_note != rules.SMS_CANCEL_NOTE,
                     ~told_of_cancel),
                and_(Appointment.status == AppointmentStatus.BOOKED,
                     sent.appointment_starts_at != Appointment.starts_at, ~told_of_now),
            ),
        )
        .distinct()
    )  # fmt: skip
    with ctx.read() as session:
        if not messaging_on(session):
            return 0
        ids = list(session.scalars(query))
    if not ids:
        return 0
    with ctx.write("queued notices owed") as session:
        before = len(session.new)
        for appt in session.scalars(select(Appointment).where(Appointment.id.in_(ids))):
            reconcile_appointment(session, ctx, appt)
        return len(session.new) - before


def plan_reminders(ctx: ServiceContext, day: date) -> int:
    """Make sure every booked appointment on ``day`` (clinic time) has its reminder planned;
    run by the sender each morning and safe to repeat. Returns reminders queued.

    One query reads the day's booked appointments that have no reminder yet with their
    patients and messaging preferences; the reminders are composed in memory and inserted in
    bulk with their sync outbox rows and one audit event (``_insert_many``)."""
    tz = ctx.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    with ctx.write("planned reminders") as session:
        if not messaging_on(session):
            return 0
        has_reminder = (
            select(OutgoingMessage.id)
            .where(
                OutgoingMessage.appointment_id == Appointment.id,
                OutgoingMessage.kind == MessageKind.REMINDER.value,
            )
            .exists()
        )
        found = session.execute(
            select(Appointment, Patient, MessagePreference)
            .join(Patient, Patient.id == Appointment.patient_id)
            .outerjoin(
                MessagePreference,
                (MessagePreference.patient_id == Patient.id)
                & MessagePreference.deleted_at.is_(None),
            )
            .where(
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.deleted_at.is_(None),
                ~has_reminder,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        ).all()
        # kept in session.info: the identity map holds rows weakly
        keep: list[object] = [row for r in found for row in r]
        for model in (Practitioner, Location, AppointmentType):
            keep += session.scalars(select(model))
        session.info["msg_keep"] = keep
        session.info["msg_prefs"] = {p.id: pref for _a, p, pref in found if pref is not None}
        shared = _shared_among(session, (p.mobile_phone for _a, p, _pref in found))
        if shared is not None:
            session.info["msg_shared"] = shared  # for shares_number: the day's numbers only
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        with session.no_autoflush:
            for appt, _patient, _pref in found:
                if appt.id in seen:
                    continue
                seen.add(appt.id)
                _, _, schedule = template_for(
                    session, MessageKind.REMINDER, MessageChannel.SMS, appt.appointment_type_id
                )
                due = rules.reminder_due(appt.starts_at, appt.created_at, tz, schedule)
                if due is None:
                    continue
                mid = message_id(MessageKind.REMINDER, appt.id, appt.starts_at)
                fields = _fields(session, ctx, appt, MessageKind.REMINDER, due, mid)
                if fields is not None:
                    rows.append(fields)
        _insert_many(session, rows, "planned reminders")
    return len(rows)


def queue_on_change(ctx: ServiceContext) -> Callable[[ChangeNotice], None]:
    """A change listener that queues inline (tests and the command line); the app uses
    ``QueueingWorker``, which does the same off the GUI thread."""

    def listen(notice: ChangeNotice) -> None:
        ids = _booked_ids(notice)
        if ids:
            _queue_safely(ctx, ids)

    return listen


def _queue_safely(ctx: ServiceContext, ids: Iterable[str]) -> int:
    """A failure is logged (no personal data) and never stops the booking; the sender's daily
    plan catches reminders."""
    try:
        return appointments_changed(ctx, ids)
    except FrontdeskError as exc:
        log.warning("messages not queued: %s", type(exc).__name__)
    except Exception as exc:  # a worker thread must outlive a surprise (database locked…)
        log.warning("messages not queued: %s", type(exc).__name__)
    return 0
