"""Read models of invoices, credit notes and receipts: everything a screen or a printed
document shows, gathered in one read so documents never touch the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound
from frontdesk.domain.vocab import FunderKind
from frontdesk.models import (
    ClinicSettings,
    CreditNote,
    CreditNoteLine,
    Funder,
    Invoice,
    InvoiceLine,
    Patient,
    Payment,
    PaymentAllocation,
    Practitioner,
    ProviderNumber,
)
from frontdesk.services.billing.common import Debtor, debtor_name
from frontdesk.services.billing.payments import METHOD_LABELS, debtor_credit
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class ClinicInfo:
    name: str
    legal_name: str
    business_number_label: str
    business_number: str
    address: str
    phone: str
    email: str
    website: str
    logo_png: bytes | None
    tax_registered: bool
    tax_name: str
    currency_symbol: str
    date_format: str
    payment_instructions: str

    @classmethod
    def of(cls, s: ClinicSettings) -> ClinicInfo:
        return cls(
            s.name,
            s.legal_name,
            s.business_number_label,
            s.business_number,
            s.address,
            s.phone,
            s.email,
            s.website,
            s.logo_png,
            s.tax_registered,
            s.tax_name,
            s.currency_symbol,
            s.date_format,
            s.payment_instructions,
        )


@dataclass(frozen=True)
class PartyInfo:
    name: str
    address: str = ""
    business_number: str = ""
    reference: str = ""
    extra: str = ""  # date of birth, patient number


@dataclass(frozen=True)
class LineView:
    id: str
    description: str
    item_number: str
    service_date: date | None
    quantity: int
    unit_price_cents: int
    discount_bp: int
    total_cents: int
    tax_cents: int
    taxable: bool
    tax_rate_bp: int
    practitioner: str
    appointment_id: str | None
    catalogue_item_id: str | None


@dataclass(frozen=True)
class MoneyLine:
    day: date
    text: str
    amount_cents: int
    ref_id: str = ""  # the payment or credit note it came from


@dataclass(frozen=True)
class InvoiceView:
    id: str
    number: str | None
    status: str
    issue_date: date | None
    due_date: date | None
    void_reason: str | None
    notes: str
    clinic: ClinicInfo
    patient_id: str
    patient: PartyInfo
    payer_funder_id: str | None
    payer: PartyInfo | None
    practitioner_id: str | None
    practitioner: str
    provider_number: str
    lines: list[LineView]
    total_cents: int
    tax_cents: int
    credited_cents: int
    paid_cents: int
    payments: list[MoneyLine] = field(default_factory=list)
    credits: list[MoneyLine] = field(default_factory=list)
    account_credit_cents: int = 0

    @property
    def owing_cents(self) -> int:
        if self.status != "issued":
            return 0
        return self.total_cents - self.credited_cents - self.paid_cents


def _provider_number_column() -> ColumnElement[str]:
    """The practitioner's provider number for the invoice's payer: one registered with that
    funder first, then one with no funder, then any other. (Three lookups, not one ordered by
    the choice: SQLite cannot order a subquery by the outer row's columns.)"""
    pn = ProviderNumber

    def first(*where: ColumnElement[bool]) -> ScalarSelect[str]:
        return (
            select(pn.number)
            .where(pn.practitioner_id == Invoice.practitioner_id, pn.deleted_at.is_(None), *where)
            .order_by(pn.id)
            .limit(1)
            .scalar_subquery()
        )

    return func.coalesce(
        first(pn.funder_id == Invoice.payer_funder_id), first(pn.funder_id.is_(None)), first()
    )


_SETTINGS = ClinicSettings
# ClinicInfo's fields, in its order.
_CLINIC = (
    _SETTINGS.name,
    _SETTINGS.legal_name,
    _SETTINGS.business_number_label,
    _SETTINGS.business_number,
    _SETTINGS.address,
    _SETTINGS.phone,
    _SETTINGS.email,
    _SETTINGS.website,
    _SETTINGS.logo_png,
    _SETTINGS.tax_registered,
    _SETTINGS.tax_name,
    _SETTINGS.currency_symbol,
    _SETTINGS.date_format,
    _SETTINGS.payment_instructions,
)

# The statements of an invoice's read, built once: building them was a third of the read.
# Run on the session's connection (Core), they skip the ORM's result machinery too.
_HEAD = (
    select(
        Invoice.id,
        Invoice.number,
        Invoice.status,
        Invoice.issue_date,
        Invoice.due_date,
        Invoice.void_reason,
        Invoice.notes,
        Invoice.patient_id,
        Invoice.payer_funder_id,
        Invoice.payer_reference,
        Invoice.practitioner_id,
        Invoice.total_cents,
        Invoice.tax_cents,
        Invoice.deleted_at,
        Patient.id.label("p_id"),
        Patient.first_name.label("p_first"),
        Patient.last_name.label("p_last"),
        Patient.patient_number.label("p_number"),
        Patient.date_of_birth.label("p_born"),
        Patient.address_line1.label("p_line1"),
        Patient.address_line2.label("p_line2"),
        Patient.suburb.label("p_suburb"),
        Patient.state.label("p_state"),
        Patient.postcode.label("p_postcode"),
        Patient.dva_number.label("p_dva"),
        Practitioner.display_name.label("practitioner"),
        Funder.id.label("f_id"),
        Funder.kind.label("f_kind"),
        Funder.name.label("f_name"),
        Funder.address.label("f_address"),
        Funder.business_number.label("f_abn"),
        _provider_number_column().label("provider_number"),
        _SETTINGS.time_zone.label("clinic_tz"),
        *_CLINIC,  # last: ClinicInfo(*row[-len(_CLINIC):])
    )
    .outerjoin(Patient, Patient.id == Invoice.patient_id)
    .outerjoin(Practitioner, Practitioner.id == Invoice.practitioner_id)
    .outerjoin(Funder, Funder.id == Invoice.payer_funder_id)
    .join(_SETTINGS, _SETTINGS.id == select(_SETTINGS.id).limit(1).scalar_subquery())
    .where(Invoice.id == bindparam("invoice_id"))
)
_LINES = (
    select(
        InvoiceLine.id,
        InvoiceLine.description,
        InvoiceLine.item_number,
        InvoiceLine.service_date,
        InvoiceLine.quantity,
        InvoiceLine.unit_price_cents,
        InvoiceLine.discount_bp,
        InvoiceLine.total_cents,
        InvoiceLine.tax_cents,
        InvoiceLine.taxable,
        InvoiceLine.tax_rate_bp,
        Practitioner.display_name,
        InvoiceLine.appointment_id,
        InvoiceLine.catalogue_item_id,
    )
    .outerjoin(Practitioner, Practitioner.id == InvoiceLine.practitioner_id)
    .where(InvoiceLine.invoice_id == bindparam("invoice_id"), InvoiceLine.deleted_at.is_(None))
    .order_by(InvoiceLine.position)
)
_PAYMENTS = (
    select(
        Payment.id,
        Payment.business_date,
        Payment.method,
        func.sum(PaymentAllocation.amount_cents).label("amount"),
    )
    .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
    .where(
        PaymentAllocation.invoice_id == bindparam("invoice_id"),
        PaymentAllocation.deleted_at.is_(None),
    )
    .group_by(Payment.id)
    .order_by(Payment.received_at)
)
_CREDITS = (
    select(
        CreditNote.id,
        CreditNote.issued_at,
        CreditNote.number,
        CreditNote.reason,
        CreditNote.total_cents,
    )
    .where(CreditNote.invoice_id == bindparam("invoice_id"), CreditNote.deleted_at.is_(None))
    .order_by(CreditNote.issued_at)
)


def _patient_info(h: Any, fmt: str) -> PartyInfo:
    town = " ".join(x for x in (h.p_suburb, h.p_state, h.p_postcode) if x)
    address = "\n".join(x for x in (h.p_line1, h.p_line2, town) if x)
    dob = f"Born {h.p_born.strftime(fmt)}" if h.p_born else ""
    return PartyInfo(
        f"{h.p_first} {h.p_last}".strip(),  # as common.patient_name
        address,
        extra=" · ".join(x for x in (f"Patient {h.p_number}", dob) if x),
    )


def load_invoice(session: Session, invoice_id: str, *, with_credit: bool = False) -> InvoiceView:
    """Everything shown about an invoice; ``with_credit`` adds the debtor's account credit
    (screens need it, printed documents do not). Four small indexed reads — the invoice with
    its patient, practitioner, payer, provider number and the clinic's settings in one; the
    lines; payments; credit notes: what an invoice PDF waits for before it renders
    (docs/performance.md)."""
    conn = session.connection()
    key = {"invoice_id": invoice_id}
    h: Any = conn.execute(_HEAD, key).first()
    if h is None or h.deleted_at is not None:
        raise NotFound("That invoice no longer exists.")
    if h.p_id is None:
        raise NotFound("The invoice's patient no longer exists.")
    clinic = ClinicInfo(*h[-len(_CLINIC) :])
    payer = None
    if h.f_id is not None:
        # DVA pays against the veteran's file number: printed with the payer.
        dva = h.f_kind == FunderKind.DVA and h.p_dva
        extra = f"DVA file number {h.p_dva}" if dva else ""
        payer = PartyInfo(h.f_name, h.f_address, h.f_abn, h.payer_reference, extra)
    lines = [
        LineView(
            r.id,
            r.description,
            r.item_number,
            r.service_date,
            r.quantity,
            r.unit_price_cents,
            r.discount_bp,
            r.total_cents,
            r.tax_cents,
            r.taxable,
            r.tax_rate_bp,
            r.display_name or "",
            r.appointment_id,
            r.catalogue_item_id,
        )
        for r in conn.execute(_LINES, key)
    ]
    payments = [
        MoneyLine(r.business_date, METHOD_LABELS.get(r.method, r.method), int(r.amount), r.id)
        for r in conn.execute(_PAYMENTS, key)
        if r.amount
    ]
    zone = ZoneInfo(h.clinic_tz)

    def day(at: datetime) -> date:  # the clinic's date of a moment (stored in UTC)
        return at.astimezone(zone).date()

    credits = [
        MoneyLine(day(r.issued_at), f"Credit note {r.number}: {r.reason}", r.total_cents, r.id)
        for r in conn.execute(_CREDITS, key)
    ]
    debtor = Debtor(funder_id=h.payer_funder_id) if h.payer_funder_id else None
    return InvoiceView(
        h.id,
        h.number,
        h.status,
        h.issue_date,
        h.due_date,
        h.void_reason,
        h.notes,
        clinic,
        h.patient_id,
        _patient_info(h, clinic.date_format),
        h.payer_funder_id,
        payer,
        h.practitioner_id,
        h.practitioner or "",
        (h.provider_number or "") if h.practitioner_id else "",
        lines,
        h.total_cents,
        h.tax_cents,
        sum(c.amount_cents for c in credits),  # what credited_on sums: the same rows
        sum(p.amount_cents for p in payments),
        payments,
        credits,
        debtor_credit(session, debtor or Debtor(patient_id=h.patient_id)) if with_credit else 0,
    )


def invoice_view(ctx: ServiceContext, invoice_id: str, *, with_credit: bool = False) -> InvoiceView:
    with ctx.read() as session:
        return load_invoice(session, invoice_id, with_credit=with_credit)


@dataclass(frozen=True)
class CreditNoteView:
    id: str
    number: str
    day: date
    reason: str
    invoice: InvoiceView
    lines: list[tuple[LineView, int, int]]  # invoice line, amount, tax credited
    total_cents: int
    tax_cents: int


def credit_note_view(ctx: ServiceContext, credit_note_id: str) -> CreditNoteView:
    with ctx.read() as session:
        note = session.get(CreditNote, credit_note_id)
        if note is None:
            raise NotFound("That credit note no longer exists.")
        inv = load_invoice(session, note.invoice_id)
        by_id = {ln.id: ln for ln in inv.lines}
        parts = [
            (by_id[c.invoice_line_id], c.amount_cents, c.tax_cents)
            for c in session.scalars(
                select(CreditNoteLine).where(
                    CreditNoteLine.credit_note_id == note.id, CreditNoteLine.deleted_at.is_(None)
                )
            )
            if c.invoice_line_id in by_id
        ]
        day = note.issued_at.astimezone(ctx.tz).date()
        return CreditNoteView(
            note.id, note.number, day, note.reason, inv, parts, note.total_cents, note.tax_cents
        )


@dataclass(frozen=True)
class ReceiptView:
    payment_id: str
    day: date
    method: str
    amount_cents: int
    reference: str
    received_from: str
    clinic: ClinicInfo
    invoices: list[tuple[InvoiceView, int]]  # invoice, amount of this payment applied to it
    credit_left_cents: int
    number: str = ""  # the receipt number ("" for a payment recorded before receipts had one)


def receipt_view(ctx: ServiceContext, payment_id: str) -> ReceiptView:
    with ctx.read() as session:
        pay = session.get(Payment, payment_id)
        if pay is None:
            raise NotFound("That payment no longer exists.")
        applied = session.execute(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
            .where(PaymentAllocation.payment_id == pay.id, PaymentAllocation.deleted_at.is_(None))
            .group_by(PaymentAllocation.invoice_id)
        ).all()
        invoices = [(load_invoice(session, iid), int(a)) for iid, a in applied if a]
        settings = session.scalars(select(ClinicSettings).limit(1)).one()
        debtor = Debtor.of_payment(pay)
        return ReceiptView(
            pay.id,
            pay.business_date,
            METHOD_LABELS.get(pay.method, pay.method),  # type: ignore[call-overload]
            pay.amount_cents,
            pay.reference,
            debtor_name(session, debtor),
            ClinicInfo.of(settings),
            invoices,
            pay.amount_cents - sum(a for _, a in invoices),
            pay.receipt_number or "",
        )


def invoices_issued_on(ctx: ServiceContext, day: date) -> list[str]:
    """Ids of the invoices issued (and not since voided) on a business day, by number."""
    with ctx.read() as session:
        return list(
            session.scalars(
                select(Invoice.id)
                .where(
                    Invoice.issue_date == day,
                    Invoice.status == "issued",
                    Invoice.deleted_at.is_(None),
                )
                .order_by(Invoice.number)
            )
        )


def invoice_issue_days(ctx: ServiceContext, limit: int = 10) -> list[tuple[date, int]]:
    """The most recent business days on which invoices were issued (and not since voided), with
    how many: newest first. Lets a person (or a smoke test) find a day worth printing without
    guessing from today's date, which may be a Sunday or a holiday with none."""
    with ctx.read() as session:
        rows = session.execute(
            select(Invoice.issue_date, func.count())
            .where(
                Invoice.issue_date.is_not(None),
                Invoice.status == "issued",
                Invoice.deleted_at.is_(None),
            )
            .group_by(Invoice.issue_date)
            .order_by(Invoice.issue_date.desc())
            .limit(limit)
        ).all()
    return [(day, count) for day, count in rows if day is not None]
