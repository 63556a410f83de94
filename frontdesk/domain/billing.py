"""Billing rules as plain functions: line and invoice totals, GST, allocations, credit-note limits,
ledger balances, aged-debtor buckets and what a tax invoice must say.

Rounding choice (documented because the ATO allows either, as long as it is consistent):

* A line's total is ``quantity × unit price`` less the discount, where the discount is
  ``gross × discount_bp / 10 000`` rounded half-up to a whole cent. Prices are GST-inclusive.
* A line's GST is the tax *contained* in its total: ``total × rate / (10 000 + rate)`` (one
  eleventh at 10 %), rounded half-up **per line**. The invoice's GST is the **sum of its lines'**
  GST, so every printed line adds up to the printed total. Per-invoice rounding can differ from
  this by at most half a cent per line; we never mix the two.
* A partial credit note's GST is the GST contained in the credited amount, capped so that the
  GST credited on a line never exceeds the GST charged on it; the credit that completes a line
  credits exactly the GST that remains.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.money import format_money, round_half_up, tax_inclusive
from frontdesk.domain.vocab import PaymentMethod

FULL_DISCOUNT_BP = 10_000
ONE_ELEVENTH_RATE_BP = 1_000  # 10 %: tax contained = total / 11
BUYER_IDENTITY_FROM_CENTS = 100_000  # $1,000: a tax invoice must then identify the buyer
MAX_QUANTITY = 10_000


# -- lines and invoices ------------------------------------------------------------------------
@dataclass(frozen=True)
class LineInput:
    quantity: int
    unit_price_cents: int
    discount_bp: int = 0
    taxable: bool = False
    tax_rate_bp: int = 0


@dataclass(frozen=True)
class LineTotals:
    gross_cents: int
    discount_cents: int
    total_cents: int
    tax_cents: int


def check_line(line: LineInput) -> None:
    """Refuse a line a receptionist could type but no clinic means."""
    if line.quantity <= 0:
        raise ValidationFailed("The quantity must be at least 1.", field="quantity")
    if line.quantity > MAX_QUANTITY:
        raise ValidationFailed(
            f"A quantity above {MAX_QUANTITY:,} is surely a typing mistake.", field="quantity"
        )
    if line.unit_price_cents < 0:
        raise ValidationFailed(
            "A price cannot be negative. To reduce an invoice, use a discount or, once it is "
            "issued, a credit note.",
            field="unit_price",
        )
    if line.discount_bp < 0:
        raise ValidationFailed("A discount cannot be negative.", field="discount")
    if line.discount_bp > FULL_DISCOUNT_BP:
        raise ValidationFailed("A discount cannot be more than 100 %.", field="discount")
    if not 0 <= line.tax_rate_bp <= 10_000:
        raise ValidationFailed("The GST rate must be between 0 and 100 %.", field="tax_rate")


def line_totals(line: LineInput) -> LineTotals:
    """Total and GST contained in one line (see the module docstring for the rounding)."""
    check_line(line)
    gross = line.quantity * line.unit_price_cents
    discount = round_half_up(Decimal(gross) * line.discount_bp / FULL_DISCOUNT_BP)
    total = gross - discount
    tax = tax_inclusive(total, line.tax_rate_bp) if line.taxable else 0
    return LineTotals(gross, discount, total, tax)


@dataclass(frozen=True)
class InvoiceTotals:
    total_cents: int
    tax_cents: int
    taxable_cents: int  # the part of the total on which GST is charged
    gst_free_cents: int


def invoice_totals(lines: Iterable[LineTotals | tuple[int, int, bool]]) -> InvoiceTotals:
    """Sum of line totals and of line GST (GST is rounded per line, never per invoice).

    Accepts LineTotals or ``(total_cents, tax_cents, taxable)`` tuples of stored lines."""
    total = tax = taxable = 0
    for line in lines:
        if isinstance(line, LineTotals):
            t, g, is_taxable = line.total_cents, line.tax_cents, line.tax_cents > 0
        else:
            t, g, is_taxable = line
        total += t
        tax += g
        if is_taxable:
            taxable += t
    return InvoiceTotals(total, tax, taxable, total - taxable)


# -- allocations and credit ----------------------------------------------------------------
def check_allocation(
    amount_cents: int, invoice_owing_cents: int, payment_unused_cents: int
) -> None:
    """An allocation never exceeds what the invoice still owes or what the payment has left."""
    if amount_cents <= 0:
        raise ValidationFailed("The amount to apply must be more than zero.", field="amount")
    if amount_cents > invoice_owing_cents:
        raise RuleViolation(
            f"Only {format_money(invoice_owing_cents)} is owing on this invoice; "
            f"{format_money(amount_cents)} cannot be applied to it."
        )
    if amount_cents > payment_unused_cents:
        raise RuleViolation(
            f"Only {format_money(payment_unused_cents)} of this payment is left to apply."
        )


def split_payment(amount_cents: int, owing: Sequence[int]) -> tuple[list[int], int]:
    """Apply a payment to invoices in the order given, each up to what it owes.

    Returns (amount applied to each invoice, the rest left over as account credit)."""
    if amount_cents <= 0:
        raise ValidationFailed("A payment must be more than zero.", field="amount")
    left = amount_cents
    applied: list[int] = []
    for owed in owing:
        part = min(left, max(owed, 0))
        applied.append(part)
        left -= part
    return applied, left


def invoice_owing(total_cents: int, credited_cents: int, allocated_cents: int) -> int:
    return total_cents - credited_cents - allocated_cents


# -- credit notes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CreditableLine:
    total_cents: int
    tax_cents: int
    credited_cents: int = 0
    credited_tax_cents: int = 0
    tax_rate_bp: int = 0

    @property
    def remaining_cents(self) -> int:
        return self.total_cents - self.credited_cents


def credit_line(line: CreditableLine, amount_cents: int) -> int:
    """Check a credit of ``amount_cents`` against one invoice line; return the GST it credits."""
    if amount_cents <= 0:
        raise ValidationFailed("A credit must be more than zero.", field="amount")
    if amount_cents > line.remaining_cents:
        raise RuleViolation(
            f"Only {format_money(line.remaining_cents)} of this line is left to credit; "
            "a credit note can never exceed what was invoiced."
        )
    tax_left = line.tax_cents - line.credited_tax_cents
    if amount_cents == line.remaining_cents:
        return tax_left
    if line.tax_cents == 0:
        return 0
    return min(tax_inclusive(amount_cents, line.tax_rate_bp), tax_left)


# -- the ledger ----------------------------------------------------------------------------
class EntryKind(StrEnum):
    INVOICE = "invoice"  # + what the debtor owes
    CREDIT_NOTE = "credit_note"  # -
    PAYMENT = "payment"  # -
    REFUND = "refund"  # + (money given back reduces their credit)
    REVERSAL_OF_PAYMENT = "reversal_of_payment"  # +
    REVERSAL_OF_REFUND = "reversal_of_refund"  # -


_SIGN = {
    EntryKind.INVOICE: 1,
    EntryKind.CREDIT_NOTE: -1,
    EntryKind.PAYMENT: -1,
    EntryKind.REFUND: 1,
    EntryKind.REVERSAL_OF_PAYMENT: 1,
    EntryKind.REVERSAL_OF_REFUND: -1,
}


def signed(kind: EntryKind, amount_cents: int) -> int:
    return _SIGN[kind] * amount_cents


def ledger_balance(entries: Iterable[tuple[EntryKind, int]]) -> int:
    """What the debtor owes (positive) or holds as credit (negative): the sum of the ledger."""
    return sum(signed(kind, amount) for kind, amount in entries)


# -- aged debtors ---------------------------------------------------------------------------
class AgeBucket(StrEnum):
    CURRENT = "current"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "90+"

    @property
    def label(self) -> str:
        return {"current": "Current", "31-60": "31–60 days", "61-90": "61–90 days"}.get(
            self.value, "Over 90 days"
        )


def age_bucket(issue_date: date, today: date) -> AgeBucket:
    """Age counted in days from the date of issue: 0–30 current, 31–60, 61–90, over 90."""
    days = (today - issue_date).days
    if days <= 30:
        return AgeBucket.CURRENT
    if days <= 60:
        return AgeBucket.DAYS_31_60
    if days <= 90:
        return AgeBucket.DAYS_61_90
    return AgeBucket.OVER_90


def bucket_cutoffs(today: date) -> tuple[date, date, date]:
    """Issue dates on or after which an invoice is current, 31–60 and 61–90 days old."""
    return today - timedelta(days=30), today - timedelta(days=60), today - timedelta(days=90)


# -- what a tax invoice must say -----------------------------------------------------------
def document_title(tax_registered: bool, tax_name: str = "GST") -> str:
    """ "Tax invoice" from a clinic registered for GST, otherwise just "Invoice"."""
    return "Tax invoice" if tax_registered else "Invoice"


def buyer_identity_required(total_cents: int) -> bool:
    """From $1,000 (GST-inclusive) up a tax invoice must show the buyer's identity."""
    return total_cents >= BUYER_IDENTITY_FROM_CENTS


def includes_gst_statement(
    lines: Sequence[tuple[int, int, bool, int]], tax_registered: bool
) -> bool:
    """True when the invoice may say "Total price includes GST" instead of GST amounts.

    ``lines`` are ``(total, tax, taxable, rate_bp)``. Allowed only when every line is taxable at
    the one-eleventh rate and the GST is exactly one eleventh of the total price."""
    if not tax_registered or not lines:
        return False
    if not all(taxable and rate == ONE_ELEVENTH_RATE_BP for _t, _g, taxable, rate in lines):
        return False
    total = sum(t for t, *_ in lines)
    tax = sum(g for _t, g, *_ in lines)
    return tax == tax_inclusive(total, ONE_ELEVENTH_RATE_BP)


def total_price_includes(tax_name: str = "GST") -> str:
    return f"Total price includes {tax_name}"


def default_payment_method(billed_to_a_funder: bool) -> PaymentMethod:
    """How money usually arrives: a funder (DVA, a health fund, NDIS, an insurer) pays by bank
    transfer; a patient at the desk by EFTPOS."""
    return PaymentMethod.BANK_TRANSFER if billed_to_a_funder else PaymentMethod.EFTPOS
