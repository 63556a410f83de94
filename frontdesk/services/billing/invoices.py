"""Invoices: drafts by hand or from an appointment, editing drafts, issuing, voiding.

An issued invoice never changes again (apart from being voided with a reason): corrections are
credit notes. Its number comes from the desk's own series in the same transaction, so numbers
are gapless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.billing import LineInput, invoice_totals, line_totals
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import AppointmentStatus, InvoiceStatus, SeriesKind
from frontdesk.models import (
    Appointment,
    AppointmentType,
    CatalogueFunderPrice,
    CatalogueItem,
    CreditNote,
    Funder,
    FundingMembership,
    Invoice,
    InvoiceLine,
)
from frontdesk.services.billing.common import business_day, get_invoice, get_patient
from frontdesk.services.billing.payments import unallocate_invoice
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number


@dataclass(frozen=True)
class DraftLine:
    """One line as typed or pre-filled. Prices are GST-inclusive; GST follows ``taxable``."""

    description: str
    unit_price_cents: int
    quantity: int = 1
    discount_bp: int = 0
    taxable: bool = False
    catalogue_item_id: str | None = None
    item_number: str = ""
    appointment_id: str | None = None
    practitioner_id: str | None = None
    service_date: date | None = None


@dataclass(frozen=True)
class DraftHeader:
    patient_id: str
    payer_funder_id: str | None = None
    payer_reference: str = ""
    practitioner_id: str | None = None
    due_date: date | None = None
    notes: str = ""


def _check_lines(lines: list[DraftLine]) -> None:
    for line in lines:
        if not line.description.strip():
            raise ValidationFailed("Every line needs a description.", field="description")
        line_totals(LineInput(line.quantity, line.unit_price_cents, line.discount_bp))


def line_from_catalogue(
    session: Session, item_id: str, payer_funder_id: str | None, **extra: object
) -> DraftLine:
    """A line for a catalogue item, with the payer's item number and price when it has one
    (else the catalogue price, and the item number funders use for it)."""
    item = session.get(CatalogueItem, item_id)
    if item is None or item.deleted_at is not None:
        raise NotFound("That catalogue item no longer exists.")
    price, number = item.price_cents, ""
    if payer_funder_id:
        fp = session.scalars(
            select(CatalogueFunderPrice).where(
                CatalogueFunderPrice.catalogue_item_id == item_id,
                CatalogueFunderPrice.funder_id == payer_funder_id,
                CatalogueFunderPrice.deleted_at.is_(None),
            )
        ).first()
        if fp is not None:
            price, number = fp.price_cents, fp.item_number
    if not number:
        # A patient paying claims a rebate with the funders' item number (the same across
        # health funds for a service): print the first one the catalogue knows.
        number = (
            session.scalars(
                select(CatalogueFunderPrice.item_number)
                .where(
                    CatalogueFunderPrice.catalogue_item_id == item_id,
                    CatalogueFunderPrice.deleted_at.is_(None),
                    CatalogueFunderPrice.item_number != "",
                )
                .order_by(CatalogueFunderPrice.created_at)
            ).first()
            or ""
        )
    return DraftLine(
        description=item.name,
        unit_price_cents=price,
        taxable=item.taxable,
        catalogue_item_id=item.id,
        item_number=number,
        **extra,  # type: ignore[arg-type]
    )


def _write_lines(
    ctx: ServiceContext, session: Session, invoice: Invoice, lines: list[DraftLine]
) -> None:
    settings = ctx.settings(session)
    rate = settings.tax_rate_bp if settings.tax_registered else 0
    for old in session.scalars(
        select(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id, InvoiceLine.deleted_at.is_(None)
        )
    ):
        old.deleted_at = ctx.clock.now()
    totals = []
    for pos, line in enumerate(lines):
        taxable = line.taxable and rate > 0
        t = line_totals(
            LineInput(line.quantity, line.unit_price_cents, line.discount_bp, taxable, rate)
        )
        totals.append(t)
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=pos,
                appointment_id=line.appointment_id,
                catalogue_item_id=line.catalogue_item_id,
                practitioner_id=line.practitioner_id or invoice.practitioner_id,
                service_date=line.service_date,
                description=line.description.strip(),
                item_number=line.item_number.strip(),
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                discount_bp=line.discount_bp,
                taxable=taxable,
                tax_rate_bp=rate if taxable else 0,
                total_cents=t.total_cents,
                tax_cents=t.tax_cents,
            )
        )
    sums = invoice_totals(totals)
    invoice.total_cents, invoice.tax_cents = sums.total_cents, sums.tax_cents


def _apply_header(session: Session, invoice: Invoice, header: DraftHeader) -> None:
    get_patient(session, header.patient_id)
    if header.payer_funder_id is not None:
        funder = session.get(Funder, header.payer_funder_id)
        if funder is None or funder.archived_at is not None:
            raise RuleViolation("That payer is archived or no longer exists.")
    invoice.patient_id = header.patient_id
    invoice.payer_funder_id = header.payer_funder_id
    invoice.payer_reference = header.payer_reference.strip()
    invoice.practitioner_id = header.practitioner_id
    invoice.due_date = header.due_date
    invoice.notes = header.notes


def create_draft(ctx: ServiceContext, header: DraftHeader, lines: list[DraftLine]) -> str:
    """A draft invoice by hand (products, several appointments). Returns its id."""
    require(ctx.actor, Action.CREATE_INVOICE)
    _check_lines(lines)
    with ctx.write("draft an invoice") as session:
        invoice = Invoice(status=InvoiceStatus.DRAFT, patient_id=header.patient_id)
        _apply_header(session, invoice, header)
        session.add(invoice)
        session.flush()
        _write_lines(ctx, session, invoice, lines)
        return invoice.id


def _draft(session: Session, invoice_id: str) -> Invoice:
    invoice = get_invoice(session, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise RuleViolation(
            f"Invoice {invoice.number} has been issued and cannot change. "
            "Correct it with a credit note, or void it with a reason."
        )
    return invoice


def update_draft(
    ctx: ServiceContext, invoice_id: str, header: DraftHeader, lines: list[DraftLine]
) -> None:
    require(ctx.actor, Action.CREATE_INVOICE)
    _check_lines(lines)
    with ctx.write("edit a draft invoice") as session:
        invoice = _draft(session, invoice_id)
        _apply_header(session, invoice, header)
        _write_lines(ctx, session, invoice, lines)


def discard_draft(ctx: ServiceContext, invoice_id: str) -> None:
    """Throw a draft away (it never had a number, so no gap is left)."""
    require(ctx.actor, Action.CREATE_INVOICE)
    with ctx.write("discard a draft invoice") as session:
        invoice = _draft(session, invoice_id)
        now = ctx.clock.now()
        invoice.deleted_at = now
        for line in session.scalars(
            select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice.id, InvoiceLine.deleted_at.is_(None)
            )
        ):
            line.deleted_at = now


def invoice_for_appointment(ctx: ServiceContext, appointment_id: str) -> str | None:
    """The live (draft or issued, not void) invoice carrying this appointment, if any."""
    with ctx.read() as session:
        return _invoice_for_appointment(session, appointment_id)


def _invoice_for_appointment(session: Session, appointment_id: str) -> str | None:
    return session.scalars(
        select(Invoice.id)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(
            InvoiceLine.appointment_id == appointment_id,
            InvoiceLine.deleted_at.is_(None),
            Invoice.deleted_at.is_(None),
            Invoice.status != InvoiceStatus.VOID,
        )
    ).first()


def invoiced_appointments(session: Session, appointment_ids: list[str]) -> set[str]:
    """Which of these appointments are on a live invoice (for the diary's invoiced icon)."""
    if not appointment_ids:
        return set()
    rows = session.scalars(
        select(InvoiceLine.appointment_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.appointment_id.in_(appointment_ids),
            InvoiceLine.deleted_at.is_(None),
            Invoice.deleted_at.is_(None),
            Invoice.status != InvoiceStatus.VOID,
        )
    )
    return {r for r in rows if r}


_INVOICEABLE = {
    AppointmentStatus.COMPLETED,
    AppointmentStatus.IN_SESSION,
    AppointmentStatus.ARRIVED,
}


def invoice_from_appointment(ctx: ServiceContext, appointment_id: str) -> str:
    """A draft invoice for an appointment: the type's default service at the payer's price and
    item number, the practitioner, and the patient's default payer. Returns the invoice id
    (the existing draft if the appointment already has one)."""
    require(ctx.actor, Action.CREATE_INVOICE)
    with ctx.write("invoice an appointment") as session:
        appt = session.get(Appointment, appointment_id)
        if appt is None or appt.deleted_at is not None:
            raise NotFound("That appointment no longer exists.")
        existing = _invoice_for_appointment(session, appointment_id)
        if existing is not None:
            invoice = session.get(Invoice, existing)
            assert invoice is not None
            if invoice.status == InvoiceStatus.DRAFT:
                return invoice.id
            raise RuleViolation(f"This appointment is already on invoice {invoice.number}.")
        if appt.status not in _INVOICEABLE:
            label = AppointmentStatus(appt.status).label.lower()
            raise RuleViolation(f"This appointment is {label}; only attended ones are invoiced.")
        if appt.patient_id is None:
            raise RuleViolation(
                "A group class is invoiced per attendee: invoice each patient by hand."
            )
        patient = get_patient(session, appt.patient_id)
        payer = patient.default_payer_funder_id
        reference = ""
        if payer:
            member = session.scalars(
                select(FundingMembership).where(
                    FundingMembership.patient_id == patient.id,
                    FundingMembership.funder_id == payer,
                    FundingMembership.archived_at.is_(None),
                    FundingMembership.deleted_at.is_(None),
                )
            ).first()
            if member is not None:
                reference = member.claim_number or member.reference or member.member_number
        invoice = Invoice(
            status=InvoiceStatus.DRAFT,
            patient_id=patient.id,
            payer_funder_id=payer,
            payer_reference=reference,
            practitioner_id=appt.practitioner_id,
            location_id=appt.location_id,
        )
        session.add(invoice)
        session.flush()
        appt_type = session.get(AppointmentType, appt.appointment_type_id or "")
        lines: list[DraftLine] = []
        if appt_type is not None and appt_type.default_service_id:
            lines.append(
                line_from_catalogue(
                    session,
                    appt_type.default_service_id,
                    payer,
                    appointment_id=appt.id,
                    practitioner_id=appt.practitioner_id,
                    service_date=appt.starts_at.astimezone(ctx.tz).date(),
                )
            )
        _write_lines(ctx, session, invoice, lines)
        return invoice.id


def issue_invoice(ctx: ServiceContext, invoice_id: str) -> str:
    """Issue a draft: number from this desk's series (same transaction), date, due date.
    Returns the number."""
    require(ctx.actor, Action.CREATE_INVOICE)
    with ctx.write("issue an invoice") as session:
        invoice = _draft(session, invoice_id)
        get_patient(session, invoice.patient_id)
        lines = session.scalars(
            select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice.id, InvoiceLine.deleted_at.is_(None)
            )
        ).all()
        if not lines:
            raise RuleViolation("Add at least one line before issuing the invoice.")
        # Read everything first: a query in the middle would flush half the change, and the
        # clinic server refuses a later change to an invoice that is already issued.
        due_days = ctx.settings(session).invoice_due_days
        series_id, number = next_number(session, SeriesKind.INVOICE)
        today = business_day(ctx)
        invoice.number, invoice.series_id = number, series_id
        invoice.status = InvoiceStatus.ISSUED
        invoice.issue_date, invoice.issued_at = today, ctx.clock.now()
        invoice.issued_by_id = ctx.actor.staff_user_id
        if invoice.due_date is None:
            invoice.due_date = today + timedelta(days=due_days)
        return number


def void_invoice(ctx: ServiceContext, invoice_id: str, reason: str) -> None:
    """Void an issued invoice with a reason. Payments applied to it become account credit."""
    require(ctx.actor, Action.VOID_INVOICE)
    if not reason.strip():
        raise ValidationFailed("Say why the invoice is being voided.", field="reason")
    with ctx.write("void an invoice") as session:
        invoice = get_invoice(session, invoice_id)
        if invoice.status == InvoiceStatus.DRAFT:
            raise RuleViolation("A draft has no number yet: discard it instead of voiding it.")
        if invoice.status == InvoiceStatus.VOID:
            raise RuleViolation(f"Invoice {invoice.number} is already void.")
        has_credit = session.scalars(
            select(CreditNote.id).where(
                CreditNote.invoice_id == invoice.id, CreditNote.deleted_at.is_(None)
            )
        ).first()
        if has_credit:
            raise RuleViolation(
                f"Invoice {invoice.number} already has a credit note; credit the rest of it "
                "instead of voiding it."
            )
        unallocate_invoice(session, invoice.id, invoice.total_cents)
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = ctx.clock.now()
        invoice.void_reason = reason.strip()
