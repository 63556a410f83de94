"""Recalls: patients whose last visit (a completed or arrived appointment) was at least
``weeks`` ago — optionally of one appointment type or profession — with no booking ahead, in a
list for reception; ``queue_recalls`` queues the recall message for those chosen. A patient is
recalled once per last visit (the message id comes from the patient and that visit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from frontdesk.domain import messaging as rules
from frontdesk.domain.messaging import MessageKind
from frontdesk.domain.vocab import AppointmentStatus, MessageChannel
from frontdesk.models import Appointment, OutgoingMessage, Patient, Practitioner
from frontdesk.services.messaging.queueing import (
    _NS,
    _clinic,
    address_for,
    quiet_hours,
    settings,
    shares_number,
    template_for,
)
from frontdesk.store.context import ServiceContext

VISITED = (AppointmentStatus.COMPLETED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION)
DEFAULT_RECALL = (
    "Hi {preferred_name}, it's been a while since your last visit with {practitioner}. "
    "Would you like to book a follow-up? Call us on {clinic_phone}. {clinic}"
)


@dataclass(frozen=True)
class RecallRow:
    patient_id: str
    patient_name: str
    last_visit: datetime
    practitioner: str
    reachable: bool  # consent and a number/address: a message can go
    why_not: str
    already_recalled: bool


def recall_id(patient_id: str, last_visit: datetime) -> str:
    return str(uuid.uuid5(_NS, f"recall|{patient_id}|{last_visit.isoformat()}"))


def recall_list(
    ctx: ServiceContext,
    *,
    weeks: int = 6,
    appointment_type_id: str | None = None,
    profession: str | None = None,
) -> list[RecallRow]:
    now = ctx.clock.now()
    cutoff = now - timedelta(weeks=weeks)
    with ctx.read() as session:
        visited = select(
            Appointment.patient_id.label("pid"), func.max(Appointment.starts_at).label("last")
        ).where(
            Appointment.status.in_([s.value for s in VISITED]),
            Appointment.patient_id.is_not(None),
            Appointment.deleted_at.is_(None),
        )
        if appointment_type_id:
            visited = visited.where(Appointment.appointment_type_id == appointment_type_id)
        if profession:
            visited = visited.join(
                Practitioner, Practitioner.id == Appointment.practitioner_id
            ).where(Practitioner.profession == profession)
        last = visited.group_by(Appointment.patient_id).subquery()
        ahead = (
            select(Appointment.id)
            .where(
                Appointment.patient_id == last.c.pid,
                Appointment.starts_at >= now,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.deleted_at.is_(None),
            )
            .exists()
        )
        rows = session.execute(
            select(Patient, last.c.last)
            .join(last, last.c.pid == Patient.id)
            .where(
                last.c.last <= cutoff,
                ~ahead,
                Patient.archived_at.is_(None),
                Patient.merged_into_id.is_(None),
                Patient.deleted_at.is_(None),
            )
            .order_by(last.c.last)
        ).all()
        out = []
        for patient, last_visit in rows:
            address, why = address_for(session, patient, MessageKind.RECALL)
            prac = _last_practitioner(session, patient.id, last_visit)
            out.append(
                RecallRow(
                    patient.id, f"{patient.first_name} {patient.last_name}", last_visit, prac,
                    address is not None, why,
                    session.get(OutgoingMessage, recall_id(patient.id, last_visit)) is not None,
                )
            )  # fmt: skip
        return out


def _last_practitioner(session: Session, patient_id: str, at: datetime) -> str:
    name = session.scalars(
        select(Practitioner.display_name)
        .join(Appointment, Appointment.practitioner_id == Practitioner.id)
        .where(and_(Appointment.patient_id == patient_id, Appointment.starts_at == at))
        .limit(1)
    ).first()
    return name or ""


def queue_recalls(ctx: ServiceContext, rows: Iterable[RecallRow]) -> int:
    """Queue a recall for each reachable, not yet recalled row; returns how many."""
    count = 0
    with ctx.write("queued recalls") as session:
        cfg = settings(session)
        clinic, _address, phone = _clinic(session)
        for row in rows:
            mid = recall_id(row.patient_id, row.last_visit)
            if session.get(OutgoingMessage, mid) is not None:
                continue
            patient = session.get(Patient, row.patient_id)
            if patient is None:
                continue
            address, _why = address_for(session, patient, MessageKind.RECALL)
            if address is None:
                continue
            subject, body, _ = template_for(session, MessageKind.RECALL, address.channel, None)
            if body == "{clinic}":  # no recall template saved: the built-in words
                body = DEFAULT_RECALL
            values = {
                "preferred_name": patient.preferred_name or patient.first_name,
                "patient_name": f"{patient.first_name} {patient.last_name}",
                "practitioner": row.practitioner,
                "clinic": clinic,
                "clinic_phone": phone,
                "cancellation_policy": cfg.cancellation_policy,
            }
            sms = address.channel is MessageChannel.SMS
            text = rules.render(body, values)
            if sms and shares_number(session, patient, address.to):
                text = rules.shared_number_prefix(values["patient_name"]) + text
            text = rules.with_sender_and_opt_out(text, clinic, sms=sms)
            segments = rules.check_segments(text, cfg.segment_limit).segments if sms else 0
            now = ctx.clock.now()
            session.add(
                OutgoingMessage(
                    id=mid, patient_id=patient.id, channel=address.channel.value,
                    to_address=address.to, subject=rules.render(subject, values), body=text,
                    status="queued", queued_at=now, kind=MessageKind.RECALL.value,
                    send_after=rules.next_allowed(now, ctx.tz, quiet_hours(cfg)),
                    idempotency_key=mid, segments=segments,
                )
            )  # fmt: skip
            count += 1
    return count
