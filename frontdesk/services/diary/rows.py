"""The rows every diary edit starts from: an appointment that still exists, a patient who can
still be booked (not merged away, not archived). Refusals carry a message for a person."""

from __future__ import annotations

from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation
from frontdesk.models import Appointment, Patient


def bookable_patient(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("That patient's card no longer exists.")
    if patient.merged_into_id is not None:
        raise RuleViolation(
            f"{patient.first_name} {patient.last_name}'s card was merged into another card: "
            "search for the patient again."
        )
    if patient.archived_at is not None:
        raise RuleViolation(
            f"{patient.first_name} {patient.last_name}'s card is archived. Restore the card "
            "before booking."
        )
    return patient


def live_appointment(session: Session, appointment_id: str) -> Appointment:
    appt = session.get(Appointment, appointment_id)
    if appt is None or appt.deleted_at is not None:
        raise NotFound("That appointment no longer exists: it may have been changed elsewhere.")
    return appt
