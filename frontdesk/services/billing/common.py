"""Helpers shared by the billing services: the clinic's business day, debtors, closed days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation
from frontdesk.models import DayClose, Funder, Invoice, Patient, Payment
from frontdesk.store.context import ServiceContext


def business_day(ctx: ServiceContext) -> date:
    """Today in the clinic's time zone: the day a payment counts towards."""
    return ctx.clock.now().astimezone(ctx.tz).date()


@dataclass(frozen=True)
class Debtor:
    """Who owes an invoice: the patient themselves, or a third-party payer (a funder)."""

    patient_id: str | None = None
    funder_id: str | None = None

    def __post_init__(self) -> None:
        if (self.patient_id is None) == (self.funder_id is None):
            raise ValueError("a debtor is either a patient or a funder")

    @classmethod
    def of_invoice(cls, invoice: Invoice) -> Debtor:
        if invoice.payer_funder_id:
            return cls(funder_id=invoice.payer_funder_id)
        return cls(patient_id=invoice.patient_id)

    @classmethod
    def of_payment(cls, payment: Payment) -> Debtor:
        if payment.payer_funder_id:
            return cls(funder_id=payment.payer_funder_id)
        return cls(patient_id=payment.patient_id)

    def invoice_filter(self) -> ColumnElement[bool]:
        if self.funder_id:
            return Invoice.payer_funder_id == self.funder_id
        return and_(Invoice.patient_id == self.patient_id, Invoice.payer_funder_id.is_(None))

    def payment_filter(self) -> ColumnElement[bool]:
        if self.funder_id:
            return Payment.payer_funder_id == self.funder_id
        return and_(Payment.patient_id == self.patient_id, Payment.payer_funder_id.is_(None))


def debtor_name(session: Session, debtor: Debtor) -> str:
    if debtor.funder_id:
        funder = session.get(Funder, debtor.funder_id)
        return funder.name if funder else "Unknown payer"
    patient = session.get(Patient, debtor.patient_id)
    return patient_name(patient) if patient else "Unknown patient"


def patient_name(patient: Patient) -> str:
    return f"{patient.first_name} {patient.last_name}".strip()


def get_patient(session: Session, patient_id: str, *, for_billing: bool = True) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("That patient no longer exists.")
    if for_billing and patient.archived_at is not None:
        raise RuleViolation(
            f"{patient_name(patient)}'s card is archived. Restore the card before invoicing."
        )
    return patient


def get_invoice(session: Session, invoice_id: str) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.deleted_at is not None:
        raise NotFound("That invoice no longer exists.")
    return invoice


def open_day_close(session: Session, device_id: str, day: date) -> DayClose | None:
    """The desk's close for ``day`` if the day is closed (and not reopened)."""
    return session.scalars(
        select(DayClose).where(
            DayClose.device_id == device_id,
            DayClose.business_date == day,
            DayClose.deleted_at.is_(None),
            DayClose.reopened_at.is_(None),
        )
    ).first()


def refuse_if_closed(ctx: ServiceContext, session: Session, day: date) -> None:
    closed = open_day_close(session, ctx.device_id, day)
    if closed is not None:
        at = closed.closed_at.astimezone(ctx.tz)
        raise RuleViolation(
            f"The takings for {day:%d/%m/%Y} on this desk were closed at {at:%H:%M}. "
            "A practice manager must reopen the day before money is recorded on it."
        )
