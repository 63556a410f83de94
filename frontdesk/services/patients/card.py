"""Loading everything a patient card shows, in a handful of indexed queries: demographics,
funding, alerts, appointment history (upcoming, past, cancellations, did-not-arrive count) and
the account (invoices with what is paid and owing, payments, balance)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.vocab import AppointmentStatus, InvoiceStatus, PaymentKind
from frontdesk.models import (
    Appointment,
    AppointmentAttendee,
    AppointmentType,
    CreditNote,
    Funder,
    FundingMembership,
    Invoice,
    Patient,
    PatientAlert,
    PatientMerge,
    Payment,
    PaymentAllocation,
    Practitioner,
)
from frontdesk.services.patients.records import get_patient
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class AppointmentLine:
    id: str
    starts_at: datetime
    ends_at: datetime
    practitioner: str
    type_name: str
    status: str
    cancellation_reason: str | None


@dataclass(frozen=True)
class InvoiceLineSummary:
    id: str
    number: str
    issue_date: object
    status: str
    total_cents: int
    credited_cents: int
    paid_cents: int

    @property
    def owing_cents(self) -> int:
        if self.status == InvoiceStatus.VOID:
            return 0
        return self.total_cents - self.credited_cents - self.paid_cents


@dataclass(frozen=True)
class PaymentLine:
    id: str
    received_at: datetime
    kind: str
    method: str
    amount_cents: int
    reference: str


@dataclass(frozen=True)
class MembershipLine:
    id: str
    kind: str
    funder_name: str
    member_number: str
    reference: str
    claim_number: str
    plan_manager_name: str


@dataclass(frozen=True)
class AlertLine:
    id: str
    text: str
    severity: str


@dataclass
class PatientCard:
    patient: Patient
    alerts: list[AlertLine] = field(default_factory=list)
    memberships: list[MembershipLine] = field(default_factory=list)
    upcoming: list[AppointmentLine] = field(default_factory=list)
    past: list[AppointmentLine] = field(default_factory=list)
    cancellations: int = 0
    did_not_arrive: int = 0
    invoices: list[InvoiceLineSummary] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    merged_into_number: str | None = None
    undoable_merge_ids: list[str] = field(default_factory=list)

    @property
    def invoiced_cents(self) -> int:
        return sum(i.total_cents for i in self.invoices if i.status == InvoiceStatus.ISSUED)

    @property
    def owing_cents(self) -> int:
        return sum(i.owing_cents for i in self.invoices if i.status == InvoiceStatus.ISSUED)

    @property
    def paid_cents(self) -> int:
        sign = {PaymentKind.PAYMENT: 1, PaymentKind.REFUND: -1, PaymentKind.REVERSAL: -1}
        return sum(sign.get(PaymentKind(p.kind), 0) * p.amount_cents for p in self.payments)


def load_card(ctx: ServiceContext, patient_id: str) -> PatientCard:
    require(ctx.actor, Action.VIEW_PATIENTS)
    now = ctx.clock.now()
    with ctx.read() as session:
        patient = get_patient(session, patient_id)
        card = PatientCard(patient=patient)
        card.alerts = [
            AlertLine(a.id, a.text, a.severity)
            for a in session.scalars(
                select(PatientAlert)
                .where(PatientAlert.patient_id == patient_id, PatientAlert.archived_at.is_(None),
                       PatientAlert.deleted_at.is_(None))
                .order_by(PatientAlert.created_at)
            )
        ]  # fmt: skip
        card.memberships = [
            MembershipLine(r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6])
            for r in session.execute(
                select(FundingMembership.id, FundingMembership.kind, Funder.name,
                       FundingMembership.member_number, FundingMembership.reference,
                       FundingMembership.claim_number, FundingMembership.plan_manager_name)
                .outerjoin(Funder, Funder.id == FundingMembership.funder_id)
                .where(FundingMembership.patient_id == patient_id,
                       FundingMembership.archived_at.is_(None),
                       FundingMembership.deleted_at.is_(None))
            )
        ]  # fmt: skip
        _history(session, card, patient_id, now)
        _account(session, card, patient_id)
        if patient.merged_into_id:
            card.merged_into_number = session.scalar(
                select(Patient.patient_number).where(Patient.id == patient.merged_into_id)
            )
        card.undoable_merge_ids = list(
            session.scalars(
                select(PatientMerge.id).where(
                    PatientMerge.survivor_id == patient_id, PatientMerge.undone_at.is_(None)
                )
            )
        )
    return card


def _history(session: Session, card: PatientCard, patient_id: str, now: datetime) -> None:
    group_ids = select(AppointmentAttendee.appointment_id).where(
        AppointmentAttendee.patient_id == patient_id, AppointmentAttendee.deleted_at.is_(None)
    )
    stmt = (
        select(Appointment.id, Appointment.starts_at, Appointment.ends_at,
               Practitioner.display_name, AppointmentType.name, Appointment.status,
               Appointment.cancellation_reason)
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .outerjoin(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .where((Appointment.patient_id == patient_id) | Appointment.id.in_(group_ids),
               Appointment.deleted_at.is_(None))
        .order_by(Appointment.starts_at.desc())
    )  # fmt: skip
    for r in session.execute(stmt):
        line = AppointmentLine(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6])
        if line.status == AppointmentStatus.CANCELLED:
            card.cancellations += 1
        elif line.status == AppointmentStatus.DID_NOT_ARRIVE:
            card.did_not_arrive += 1
        if line.starts_at >= now and line.status != AppointmentStatus.CANCELLED:
            card.upcoming.append(line)
        else:
            card.past.append(line)
    card.upcoming.reverse()


def _account(session: Session, card: PatientCard, patient_id: str) -> None:
    paid = (
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents).label("s"))
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(Invoice.patient_id == patient_id)
        .group_by(PaymentAllocation.invoice_id)
        .subquery()
    )
    credited = (
        select(CreditNote.invoice_id, func.sum(CreditNote.total_cents).label("s"))
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(Invoice.patient_id == patient_id)
        .group_by(CreditNote.invoice_id)
        .subquery()
    )
    stmt = (
        select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.status,
               Invoice.total_cents, func.coalesce(credited.c.s, 0), func.coalesce(paid.c.s, 0))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .outerjoin(credited, credited.c.invoice_id == Invoice.id)
        .where(Invoice.patient_id == patient_id, Invoice.deleted_at.is_(None))
        .order_by(Invoice.issue_date.desc().nulls_first(), Invoice.number.desc())
    )  # fmt: skip
    card.invoices = [
        InvoiceLineSummary(r[0], r[1] or "Draft", r[2], r[3], r[4], int(r[5]), int(r[6]))
        for r in session.execute(stmt)
    ]
    card.payments = [
        PaymentLine(r[0], r[1], r[2], r[3], r[4], r[5])
        for r in session.execute(
            select(Payment.id, Payment.received_at, Payment.kind, Payment.method,
                   Payment.amount_cents, Payment.reference)
            .where(Payment.patient_id == patient_id, Payment.deleted_at.is_(None))
            .order_by(Payment.received_at.desc())
        )
    ]  # fmt: skip
