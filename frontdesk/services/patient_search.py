"""Finding patients as reception types. The one entry point other areas use (the diary's
booking dialog, billing's payer pick): ``search(ctx, text)``.

This first version matches names, phone digits and patient numbers with LIKE; the patient-cards
work replaces the body with FTS5 without changing the signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from frontdesk.models import Patient
from frontdesk.services.context import ServiceContext


@dataclass(frozen=True)
class PatientHit:
    id: str
    patient_number: str
    display_name: str
    date_of_birth: date | None
    mobile_phone: str
    has_alert: bool
    archived: bool


def search(
    ctx: ServiceContext, text: str, *, limit: int = 20, include_archived: bool = False
) -> list[PatientHit]:
    words = text.strip().split()
    if not words:
        return []
    query = select(Patient)
    for word in words:
        like = f"{word}%"
        digits = "".join(ch for ch in word if ch.isdigit())
        conditions = [
            Patient.first_name.ilike(like),
            Patient.last_name.ilike(like),
            Patient.preferred_name.ilike(like),
            Patient.patient_number.ilike(f"%{word}"),
        ]
        if len(digits) >= 3:
            conditions.append(Patient.mobile_phone.like(f"%{digits[-3:]}%"))
        query = query.where(or_(*conditions))
    if not include_archived:
        query = query.where(Patient.archived_at.is_(None))
    query = query.order_by(Patient.last_name, Patient.first_name).limit(limit)
    with ctx.read() as session:
        rows = session.scalars(query).all()
        return [
            PatientHit(
                id=p.id,
                patient_number=p.patient_number,
                display_name=f"{p.first_name} {p.last_name}",
                date_of_birth=p.date_of_birth,
                mobile_phone=p.mobile_phone,
                has_alert=False,
                archived=p.archived_at is not None,
            )
            for p in rows
        ]
