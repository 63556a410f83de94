"""The invoice list behind the Billing area: filters by status, dates, patient or payer, and
whether anything is still owing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, literal, or_, select

from frontdesk.domain.vocab import InvoiceStatus
from frontdesk.models import (
    CreditNote,
    Funder,
    Invoice,
    InvoiceLine,
    Patient,
    PaymentAllocation,
    Practitioner,
)
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    start: date | None = None
    end: date | None = None
    text: str = ""  # patient name, invoice number or payer name
    patient_id: str | None = None
    funder_id: str | None = None
    owing_only: bool = False
    limit: int = 500
    invoice_ids: frozenset[str] | None = None  # only these (a list refreshing changed rows)


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    number: str
    status: str
    issue_date: date | None
    patient_id: str
    patient: str
    payer: str
    practitioner: str
    total_cents: int
    owing_cents: int


def list_invoices(ctx: ServiceContext, f: InvoiceFilter) -> list[InvoiceRow]:
    credited = (
        select(func.coalesce(func.sum(CreditNote.total_cents), 0))
        .where(CreditNote.invoice_id == Invoice.id, CreditNote.deleted_at.is_(None))
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
        .where(PaymentAllocation.invoice_id == Invoice.id, PaymentAllocation.deleted_at.is_(None))
        .scalar_subquery()
    )
    owing = Invoice.total_cents - credited - paid
    query = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.status,
            Invoice.issue_date,
            Invoice.patient_id,
            Patient.first_name,
            Patient.last_name,
            Funder.name,
            Practitioner.display_name,
            Invoice.total_cents,
            owing,
        )
        .join(Patient, Patient.id == Invoice.patient_id)
        .outerjoin(Funder, Funder.id == Invoice.payer_funder_id)
        .outerjoin(Practitioner, Practitioner.id == Invoice.practitioner_id)
        .where(Invoice.deleted_at.is_(None))
    )
    if f.status is not None:
        query = query.where(Invoice.status == f.status)
    if f.start is not None:
        query = query.where(or_(Invoice.issue_date >= f.start, Invoice.issue_date.is_(None)))
    if f.end is not None:
        query = query.where(or_(Invoice.issue_date <= f.end, Invoice.issue_date.is_(None)))
    if f.invoice_ids is not None:
        query = query.where(Invoice.id.in_(sorted(f.invoice_ids)))
    if f.patient_id:
        query = query.where(Invoice.patient_id == f.patient_id)
    if f.funder_id:
        query = query.where(Invoice.payer_funder_id == f.funder_id)
    if f.owing_only:
        query = query.where(Invoice.status == InvoiceStatus.ISSUED, owing > 0)
    words = f.text.strip().split()
    for word in words:
        like = f"{word}%"
        query = query.where(
            or_(
                Patient.first_name.ilike(like),
                Patient.last_name.ilike(like),
                Invoice.number.ilike(f"%{word}%"),
                and_(Funder.name.is_not(None), Funder.name.ilike(f"%{word}%")),
                literal(False),
            )
        )
    query = query.order_by(Invoice.issue_date.desc().nulls_first(), Invoice.number.desc())
    with ctx.read() as session:
        rows = session.execute(query.limit(f.limit)).all()
    return [
        InvoiceRow(
            r[0],
            r[1] or "Draft",
            r[2],
            r[3],
            r[4],
            f"{r[5]} {r[6]}",
            r[7] or "Patient",
            r[8] or "",
            r[9],
            int(r[10]) if r[2] == InvoiceStatus.ISSUED else 0,
        )
        for r in rows
    ]


def invoices_touched(ctx: ServiceContext, changed: Mapping[str, Iterable[str]]) -> set[str]:
    """The invoices whose list row a change notice may have altered: the invoices themselves,
    and those of the lines, payments, allocations and credit notes it names."""
    touched = set(changed.get("invoices", ()))
    lookups = (
        ("invoice_lines", InvoiceLine.id, InvoiceLine.invoice_id),
        ("payment_allocations", PaymentAllocation.id, PaymentAllocation.invoice_id),
        ("payments", PaymentAllocation.payment_id, PaymentAllocation.invoice_id),
        ("credit_notes", CreditNote.id, CreditNote.invoice_id),
    )
    with ctx.read() as session:
        for table, by, invoice in lookups:
            ids = sorted(changed.get(table, ()))
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                touched.update(session.scalars(select(invoice).where(by.in_(part))))
    return touched
