"""Billing: catalogue, invoices and lines, credit notes, payments, allocations, day closes.

Money is integer cents. Issued invoices, credit notes, payments and allocations are append-only:
corrections are new rows (credit notes, voids, reversal payments), never edits.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.domain.vocab import CatalogueKind, InvoiceStatus, PaymentKind, PaymentMethod
from frontdesk.models.base import Base, SyncedMixin, filled_index, one_of


class CatalogueItem(SyncedMixin, Base):
    __tablename__ = "catalogue_items"
    __table_args__ = (
        one_of("kind", CatalogueKind),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=CatalogueKind.SERVICE)
    price_cents: Mapped[int]
    taxable: Mapped[bool] = mapped_column(default=False)
    duration_minutes: Mapped[int | None]
    archived_at: Mapped[datetime | None]


class CatalogueFunderPrice(SyncedMixin, Base):
    """A funder's item number and price for a catalogue item (e.g. a health fund's 560)."""

    __tablename__ = "catalogue_funder_prices"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="price_not_negative"),)

    catalogue_item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.id"), index=True)
    funder_id: Mapped[str] = mapped_column(ForeignKey("funders.id"), index=True)
    item_number: Mapped[str] = mapped_column(String(30))
    price_cents: Mapped[int]


class Invoice(SyncedMixin, Base):
    """An invoice. ``number`` is assigned from the desk's series when it is issued."""

    __tablename__ = "invoices"
    __table_args__ = (
        one_of("status", InvoiceStatus),
        UniqueConstraint("number", name="uq_invoices_number"),
        CheckConstraint(
            "status = 'draft' OR (number IS NOT NULL AND issued_at IS NOT NULL)",
            name="issued_has_number",
        ),
        CheckConstraint("status != 'void' OR void_reason IS NOT NULL", name="void_has_reason"),
        Index("ix_invoices_patient", "patient_id", "issue_date"),
        Index("ix_invoices_issue_date", "issue_date"),
        # most invoices are the patient's own: only those billed to a funder are indexed
        filled_index("ix_invoices_payer", "payer_funder_id", "issue_date"),
    )

    number: Mapped[str | None] = mapped_column(String(30))
    series_id: Mapped[str | None] = mapped_column(ForeignKey("number_series.id"))
    status: Mapped[str] = mapped_column(String(10), default=InvoiceStatus.DRAFT)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    payer_funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    payer_reference: Mapped[str] = mapped_column(String(60), default="")
    practitioner_id: Mapped[str | None] = mapped_column(ForeignKey("practitioners.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    total_cents: Mapped[int] = mapped_column(default=0)
    tax_cents: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(300))


class InvoiceLine(SyncedMixin, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_range"),
        CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_range"),
    )

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    catalogue_item_id: Mapped[str | None] = mapped_column(ForeignKey("catalogue_items.id"))
    practitioner_id: Mapped[str | None] = mapped_column(ForeignKey("practitioners.id"))
    service_date: Mapped[date | None]
    description: Mapped[str] = mapped_column(String(300))
    item_number: Mapped[str] = mapped_column(String(30), default="")
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_cents: Mapped[int]
    discount_bp: Mapped[int] = mapped_column(default=0)
    taxable: Mapped[bool] = mapped_column(default=False)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    tax_cents: Mapped[int] = mapped_column(default=0)


class CreditNote(SyncedMixin, Base):
    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("number", name="uq_credit_notes_number"),
        CheckConstraint("total_cents > 0", name="total_positive"),
        Index("ix_credit_notes_invoice_credited", "invoice_id", "deleted_at", "total_cents"),
    )

    number: Mapped[str] = mapped_column(String(30))
    series_id: Mapped[str | None] = mapped_column(ForeignKey("number_series.id"))
    # Looked up by invoice through ix_credit_notes_invoice_credited (its first column).
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str] = mapped_column(String(300))
    total_cents: Mapped[int]
    tax_cents: Mapped[int] = mapped_column(default=0)


class CreditNoteLine(SyncedMixin, Base):
    __tablename__ = "credit_note_lines"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    credit_note_id: Mapped[str] = mapped_column(ForeignKey("credit_notes.id"), index=True)
    invoice_line_id: Mapped[str] = mapped_column(ForeignKey("invoice_lines.id"), index=True)
    amount_cents: Mapped[int]
    tax_cents: Mapped[int] = mapped_column(default=0)


class Payment(SyncedMixin, Base):
    """Money in (payment) or out (refund), or the reversal of a mistaken entry.

    ``amount_cents`` is always positive; ``kind`` gives the direction. A reversal points at the
    entry it cancels. ``device_id`` and ``business_date`` place it in a desk's day for takings.
    """

    __tablename__ = "payments"
    __table_args__ = (
        one_of("method", PaymentMethod),
        one_of("kind", PaymentKind),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "kind != 'reversal' OR reverses_payment_id IS NOT NULL", name="reversal_has_target"
        ),
        Index("ix_payments_patient", "patient_id", "received_at"),
        filled_index("ix_payments_payer", "payer_funder_id", "received_at"),
        Index("ix_payments_day", "business_date", "device_id"),
    )

    kind: Mapped[str] = mapped_column(String(10), default=PaymentKind.PAYMENT)
    method: Mapped[str] = mapped_column(String(24))
    amount_cents: Mapped[int]
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    payer_funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    received_at: Mapped[datetime]
    business_date: Mapped[date]
    device_id: Mapped[str] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    reverses_payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    taken_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    # From the desk's receipt series when money comes in (refunds and reversals have none).
    receipt_number: Mapped[str | None] = mapped_column(String(30), unique=True)


class PaymentAllocation(SyncedMixin, Base):
    """Part of a payment applied to an invoice. Negative amounts undo an earlier allocation."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("amount_cents != 0", name="amount_not_zero"),
        # Covering index: what is paid on an invoice without reading the rows (aged debtors).
        Index("ix_payment_allocations_invoice_paid", "invoice_id", "deleted_at", "amount_cents"),
    )

    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    # Looked up by invoice through ix_payment_allocations_invoice_paid (its first column).
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    amount_cents: Mapped[int]


class DayClose(SyncedMixin, Base):
    """End-of-day reconciliation of one desk's takings; reopened only by an admin, audited."""

    __tablename__ = "day_closes"
    __table_args__ = (
        UniqueConstraint("device_id", "business_date", name="uq_day_closes_device_date"),
    )

    device_id: Mapped[str] = mapped_column(String(36))
    business_date: Mapped[date]
    closed_at: Mapped[datetime]
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    expected_cents: Mapped[int]
    counted_cents: Mapped[int]
    variance_cents: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    reopen_reason: Mapped[str] = mapped_column(String(300), default="")


class DayCloseCount(SyncedMixin, Base):
    __tablename__ = "day_close_counts"
    __table_args__ = (one_of("method", PaymentMethod),)

    day_close_id: Mapped[str] = mapped_column(ForeignKey("day_closes.id"), index=True)
    method: Mapped[str] = mapped_column(String(24))
    expected_cents: Mapped[int]
    counted_cents: Mapped[int]
