"""What the set-up services share: finding a live row, and the appointments a change affects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import Appointment, Patient, Practitioner
from frontdesk.models.base import SyncedMixin

Row = TypeVar("Row", bound=SyncedMixin)

# statuses of an appointment still to happen (or happening): a change must not strand them
LIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION)


@dataclass(frozen=True)
class AffectedAppointment:
    id: str
    practitioner_id: str
    practitioner_name: str
    patient_name: str
    starts_at: datetime
    ends_at: datetime


class AppointmentsAffected(RuleViolation):
    """A change would leave booked appointments outside anyone's hours (or inside leave).

    Nothing was saved. The screen lists ``appointments`` and, if the person goes ahead, calls
    the service again with ``confirm=True``.
    """

    def __init__(self, what: str, appointments: Sequence[AffectedAppointment]) -> None:
        count = len(appointments)
        noun = "appointment is" if count == 1 else "appointments are"
        super().__init__(
            f"{count} booked {noun} affected by {what}: move or cancel them, "
            "or save anyway and they stay booked where they are."
        )
        self.appointments = list(appointments)
        self.what = what


def live(session: Session, model: type[Row], row_id: str | None, what: str) -> Row:
    """The row, or NotFound with a message naming ``what`` (a tombstoned row is gone too)."""
    row = session.get(model, row_id) if row_id else None
    if row is None or row.deleted_at is not None:
        raise NotFound(f"That {what} no longer exists.")
    return row


def booked_appointments(
    session: Session, *where: ColumnElement[bool], since: datetime, until: datetime | None = None
) -> list[AffectedAppointment]:
    """Live appointments from ``since`` (to ``until``) matching ``where``, in time order."""
    query: Any = (
        select(
            Appointment.id, Appointment.practitioner_id, Practitioner.display_name,
            Patient.first_name, Patient.last_name, Appointment.starts_at, Appointment.ends_at,
        )
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.deleted_at.is_(None),
            Appointment.status.in_(LIVE_STATUSES),
            Appointment.ends_at > since,
            *where,
        )
        .order_by(Appointment.starts_at)
    )  # fmt: skip
    if until is not None:
        query = query.where(Appointment.starts_at < until)
    return [
        AffectedAppointment(
            aid, pid, pname, f"{first} {last}" if first is not None else "Group class", s, e
        )
        for aid, pid, pname, first, last, s, e in session.execute(query).all()
    ]
