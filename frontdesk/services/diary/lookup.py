"""Small reads the diary screens need: where an appointment is (to jump to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import Appointment
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class AppointmentPlace:
    starts_at: datetime
    practitioner_id: str
    cancelled: bool


def locate_appointment(ctx: ServiceContext, appointment_id: str) -> AppointmentPlace | None:
    """When and in whose column an appointment is; None when it does not exist."""
    with ctx.read() as session:
        appt = session.get(Appointment, appointment_id)
        if appt is None:
            return None
        return AppointmentPlace(
            appt.starts_at, appt.practitioner_id, appt.status == AppointmentStatus.CANCELLED
        )
