"""Birthday and marketing messages — commercial messages under the Spam Act 2003: sent only to
patients who gave marketing consent, never after STOP / unsubscribe on that channel, never to an
archived or deceased patient, and every one names the clinic and says how to stop more
(``rules.with_sender_and_opt_out``; emails also carry ``List-Unsubscribe``).

Birthdays are opt-in for the clinic: none is queued until a birthday template is saved
(Settings → Messages → Templates, kind *birthday*); it goes at the template's time of day,
clinic time, once a year per patient (the id comes from the patient and the year). A campaign
(``queue_campaign``) queues one message per consenting patient, once per campaign name.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.messaging import MessageKind
from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import MessagePreference, MessageTemplate, OutgoingMessage, Patient
from frontdesk.services.messaging import queueing
from frontdesk.store.context import ServiceContext


@dataclass
class MarketingResult:
    queued: int = 0
    not_sent: Counter[str] = field(default_factory=Counter)  # reason → patients

    def describe(self) -> str:
        reasons = "; ".join(f"{n} — {why}" for why, n in self.not_sent.most_common())
        return f"{self.queued} queued" + (f"; not sent: {reasons}" if reasons else "")


def _patient_values(session: Session, patient: Patient) -> dict[str, str]:
    name, _address, phone = queueing._clinic(session)
    values = dict.fromkeys(rules.PLACEHOLDERS, "")
    values.update(
        preferred_name=patient.preferred_name or patient.first_name,
        patient_name=f"{patient.first_name} {patient.last_name}",
        clinic=name,
        clinic_phone=phone,
    )
    return values


def _queue_one(
    session: Session, ctx: ServiceContext, patient: Patient, kind: MessageKind, key: str,
    subject: str, body: str, send_after: datetime, result: MarketingResult,
    bodies: dict[MessageChannel, tuple[str, str]] | None = None,
) -> None:  # fmt: skip
    address, why = queueing.address_for(session, patient, kind)
    if address is None:
        result.not_sent[why.split(": ", 1)[-1].split(";")[0]] += 1
        return
    mid = str(uuid.uuid5(queueing._NS, f"{kind.value}|{key}|{patient.id}"))
    if session.get(OutgoingMessage, mid) is not None:
        return
    if bodies is not None and address.channel in bodies:
        subject, body = bodies[address.channel]
    values = _patient_values(session, patient)
    sms = address.channel is MessageChannel.SMS
    text = rules.with_sender_and_opt_out(rules.render(body, values), values["clinic"], sms=sms)
    segments = 0
    if sms:
        try:
            segments = rules.check_segments(text, queueing.settings(session).segment_limit).segments
        except ValidationFailed:
            result.not_sent["longer than the clinic's SMS segment limit"] += 1
            return
    session.add(
        OutgoingMessage(
            id=mid, patient_id=patient.id, appointment_id=None, channel=address.channel.value,
            to_address=address.to, subject=rules.render(subject, values), body=text,
            status="queued", queued_at=ctx.clock.now(), kind=kind.value,
            send_after=rules.next_allowed(send_after, ctx.tz,
                                          queueing.quiet_hours(queueing.settings(session))),
            idempotency_key=mid, segments=segments,
        )
    )  # fmt: skip
    result.queued += 1


def _consenting(session: Session) -> set[str]:
    return set(
        session.scalars(
            select(MessagePreference.patient_id).where(
                MessagePreference.marketing_consent.is_(True),
                MessagePreference.deleted_at.is_(None),
            )
        )
    )


def queue_birthdays(ctx: ServiceContext, day: date) -> MarketingResult:
    """Birthday messages for patients born on ``day``'s month and day (29 Feb counts on 28 Feb
    in other years), if the clinic has a birthday template. Safe to repeat."""
    result = MarketingResult()
    with ctx.write("queued birthday messages") as session:
        if not queueing.messaging_on(session):
            return result
        templates = {
            MessageChannel(t.channel): (t.subject, t.body, t.send_at_minute)
            for t in session.scalars(
                select(MessageTemplate).where(
                    MessageTemplate.kind == MessageKind.BIRTHDAY.value,
                    MessageTemplate.archived_at.is_(None),
                    MessageTemplate.deleted_at.is_(None),
                )
            )
        }
        if not templates:
            return result
        wanted = [f"{day:%m-%d}"]
        leap = day.month == 2 and day.day == 28
        if leap and not (day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)):
            wanted.append("02-29")
        consenting = _consenting(session)
        first = next(iter(templates.values()))
        minute = first[2]
        at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ctx.tz)
        bodies = {ch: (subj, body) for ch, (subj, body, _m) in templates.items()}
        for patient in session.scalars(
            select(Patient).where(
                func.strftime("%m-%d", Patient.date_of_birth).in_(wanted),
                Patient.deleted_at.is_(None),
            )
        ):
            if patient.id not in consenting:
                result.not_sent["marketing messages need the patient's marketing consent"] += 1
                continue
            _queue_one(session, ctx, patient, MessageKind.BIRTHDAY, str(day.year),
                       first[0], first[1], at, result, bodies)  # fmt: skip
    return result


def queue_campaign(ctx: ServiceContext, name: str, body: str, subject: str = "") -> MarketingResult:
    """A marketing message to every patient with marketing consent, once per campaign ``name``."""
    if not name.strip():
        raise ValidationFailed("Give the campaign a name.", field="name")
    rules.check_template(body)
    rules.check_template(subject)
    result = MarketingResult()
    with ctx.write("queued a marketing message") as session:
        if not queueing.messaging_on(session):
            raise ValidationFailed("Messaging is switched off (Settings → Messages).")
        consenting = _consenting(session)
        for patient in session.scalars(
            select(Patient).where(Patient.deleted_at.is_(None)).order_by(Patient.id)
        ):
            if patient.id not in consenting:
                result.not_sent["marketing messages need the patient's marketing consent"] += 1
                continue
            _queue_one(session, ctx, patient, MessageKind.MARKETING, name.strip(), subject, body,
                       ctx.clock.now(), result)  # fmt: skip
    return result
