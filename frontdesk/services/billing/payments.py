"""Money in and out: payments (split across invoices, overpayment to account credit), applying
credit later, refunds, and reversal entries. Append-only: nothing here edits or deletes a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased

from frontdesk.domain.billing import check_allocation, invoice_owing, split_payment
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import InvoiceStatus, PaymentKind, PaymentMethod, SeriesKind
from frontdesk.models import CreditNote, Invoice, Payment, PaymentAllocation
from frontdesk.services.billing.common import (
    Debtor,
    business_day,
    debtor_name,
    get_invoice,
    open_day_close,
    refuse_if_closed,
)
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number
from frontdesk.store.tracking import record_event

MONEY_METHODS: tuple[PaymentMethod, ...] = tuple(
    m for m in PaymentMethod if m is not PaymentMethod.ACCOUNT_CREDIT
)
METHOD_LABELS = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.EFTPOS: "EFTPOS",
    PaymentMethod.CREDIT_CARD: "Credit card",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.HEALTH_FUND_TERMINAL: "Health-fund terminal",
    PaymentMethod.ACCOUNT_CREDIT: "Account credit",
    PaymentMethod.OTHER: "Other",
}


class OverpaymentOffered(RuleViolation):
    """The payment is more than is owing: the desk may keep the difference as account credit."""

    def __init__(self, excess_cents: int, owing_cents: int) -> None:
        super().__init__(
            f"The payment is {format_money(excess_cents)} more than the "
            f"{format_money(owing_cents)} owing. Keep the difference as account credit, "
            "or change the amount."
        )
        self.excess_cents = excess_cents
        self.owing_cents = owing_cents


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    applied: dict[str, int] = field(default_factory=dict)  # invoice id -> cents
    credit_cents: int = 0  # left over as account credit
    receipt_number: str = ""


# -- sums the rules need --------------------------------------------------------------------
def not_reversed() -> ColumnElement[bool]:
    """Payment rows no reversal points at (a correlated lookup on the unique index)."""
    reversal = aliased(Payment)
    return ~exists().where(
        reversal.reverses_payment_id == Payment.id, reversal.deleted_at.is_(None)
    )


def is_reversed(session: Session, payment_id: str) -> bool:
    return (
        session.scalars(
            select(Payment.id).where(
                Payment.reverses_payment_id == payment_id, Payment.deleted_at.is_(None)
            )
        ).first()
        is not None
    )


def allocated_to(session: Session, invoice_id: str) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0)).where(
                PaymentAllocation.invoice_id == invoice_id, PaymentAllocation.deleted_at.is_(None)
            )
        )
        or 0
    )


def credited_on(session: Session, invoice_id: str) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(CreditNote.total_cents), 0)).where(
                CreditNote.invoice_id == invoice_id, CreditNote.deleted_at.is_(None)
            )
        )
        or 0
    )


def owing_on(session: Session, invoice: Invoice) -> int:
    if invoice.status != InvoiceStatus.ISSUED:
        return 0
    return invoice_owing(
        invoice.total_cents, credited_on(session, invoice.id), allocated_to(session, invoice.id)
    )


def debtor_credit(session: Session, debtor: Debtor) -> int:
    """Money received from the debtor and not applied to an invoice or refunded."""
    live = not_reversed()
    base = (debtor.payment_filter(), Payment.deleted_at.is_(None), live)
    paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            *base, Payment.kind == PaymentKind.PAYMENT
        )
    )
    refunded = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            *base, Payment.kind == PaymentKind.REFUND
        )
    )
    allocated = session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(debtor.payment_filter(), PaymentAllocation.deleted_at.is_(None))
    )
    return int((paid or 0) - (refunded or 0) - (allocated or 0))


def _payment_unused(session: Session, payment: Payment) -> int:
    allocated = session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0)).where(
            PaymentAllocation.payment_id == payment.id, PaymentAllocation.deleted_at.is_(None)
        )
    )
    return payment.amount_cents - int(allocated or 0)


def unallocate_invoice(session: Session, invoice_id: str, excess_cents: int) -> int:
    """Take back up to ``excess_cents`` applied to an invoice (newest payments first) as
    negative allocations, so that money becomes account credit. Returns the amount taken."""
    rows = session.execute(
        select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_cents))
        .where(PaymentAllocation.invoice_id == invoice_id, PaymentAllocation.deleted_at.is_(None))
        .group_by(PaymentAllocation.payment_id)
        .order_by(PaymentAllocation.payment_id.desc())
    ).all()
    taken = 0
    for payment_id, net in rows:
        part = min(int(net), excess_cents - taken)
        if part <= 0:
            continue
        session.add(
            PaymentAllocation(payment_id=payment_id, invoice_id=invoice_id, amount_cents=-part)
        )
        taken += part
        if taken == excess_cents:
            break
    session.flush()
    return taken


# -- use cases -----------------------------------------------------------------------------
def _check_method(method: PaymentMethod | str) -> PaymentMethod:
    try:
        m = PaymentMethod(method)
    except ValueError:
        raise ValidationFailed("Choose how the money was paid.", field="method") from None
    if m is PaymentMethod.ACCOUNT_CREDIT:
        raise ValidationFailed(
            "Account credit is applied with “Use credit”, not taken as a payment.", field="method"
        )
    return m


def _new_entry(
    ctx: ServiceContext,
    kind: PaymentKind,
    method: PaymentMethod,
    amount: int,
    debtor: Debtor,
    *,
    reference: str = "",
    note: str = "",
    reverses: str | None = None,
) -> Payment:
    return Payment(
        kind=kind,
        method=method,
        amount_cents=amount,
        patient_id=debtor.patient_id,
        payer_funder_id=debtor.funder_id,
        received_at=ctx.clock.now(),
        business_date=business_day(ctx),
        device_id=ctx.device_id,
        reference=reference.strip(),
        note=note.strip(),
        reverses_payment_id=reverses,
        taken_by_id=ctx.actor.staff_user_id,
    )


def take_payment(
    ctx: ServiceContext,
    *,
    method: PaymentMethod | str,
    amount_cents: int,
    invoice_ids: Sequence[str] = (),
    patient_id: str | None = None,
    funder_id: str | None = None,
    keep_credit: bool = False,
    reference: str = "",
    note: str = "",
) -> PaymentResult:
    """Record money received and apply it to the invoices in the order given, each up to what it
    owes. More than is owing raises OverpaymentOffered unless ``keep_credit`` is set; with no
    invoices the whole amount is account credit."""
    require(ctx.actor, Action.TAKE_PAYMENT)
    m = _check_method(method)
    if amount_cents <= 0:
        raise ValidationFailed("A payment must be more than zero.", field="amount")
    with ctx.write("take a payment") as session:
        refuse_if_closed(ctx, session, business_day(ctx))
        invoices = [get_invoice(session, i) for i in invoice_ids]
        if invoices:
            debtors = {Debtor.of_invoice(i) for i in invoices}
            if len(debtors) > 1:
                raise RuleViolation("One payment can only cover invoices with the same payer.")
            debtor = debtors.pop()
        elif patient_id or funder_id:
            debtor = Debtor(patient_id=None if funder_id else patient_id, funder_id=funder_id)
        else:
            raise ValidationFailed("Choose the invoices, or who the money is from.")
        for inv in invoices:
            if inv.status != InvoiceStatus.ISSUED:
                raise RuleViolation("Only issued invoices can be paid; issue the draft first.")
        owing = [owing_on(session, inv) for inv in invoices]
        applied, left = split_payment(amount_cents, owing)
        if left and invoices and not keep_credit:
            raise OverpaymentOffered(left, sum(max(o, 0) for o in owing))
        payment = _new_entry(
            ctx, PaymentKind.PAYMENT, m, amount_cents, debtor, reference=reference, note=note
        )
        _series, payment.receipt_number = next_number(session, SeriesKind.RECEIPT)
        session.add(payment)
        session.flush()
        result: dict[str, int] = {}
        for inv, part in zip(invoices, applied, strict=True):
            if part > 0:
                session.add(
                    PaymentAllocation(payment_id=payment.id, invoice_id=inv.id, amount_cents=part)
                )
                result[inv.id] = result.get(inv.id, 0) + part
        return PaymentResult(payment.id, result, left, payment.receipt_number or "")


def apply_credit(ctx: ServiceContext, invoice_id: str, amount_cents: int | None = None) -> int:
    """Use the debtor's account credit on an invoice (all that fits when no amount is given).
    Moves no money, so the day's takings do not change. Returns the amount applied."""
    require(ctx.actor, Action.TAKE_PAYMENT)
    with ctx.write("use account credit") as session:
        invoice = get_invoice(session, invoice_id)
        debtor = Debtor.of_invoice(invoice)
        owing = owing_on(session, invoice)
        credit = debtor_credit(session, debtor)
        amount = min(owing, credit) if amount_cents is None else amount_cents
        if amount <= 0:
            raise RuleViolation(
                f"{debtor_name(session, debtor)} has no account credit to use on this invoice."
            )
        check_allocation(amount, owing, credit)
        sources = session.scalars(
            select(Payment)
            .where(
                Debtor.of_invoice(invoice).payment_filter(),
                Payment.kind == PaymentKind.PAYMENT,
                Payment.deleted_at.is_(None),
                not_reversed(),
            )
            .order_by(Payment.received_at, Payment.id)
        ).all()
        left = amount
        for payment in sources:
            part = min(left, _payment_unused(session, payment))
            if part > 0:
                session.add(
                    PaymentAllocation(
                        payment_id=payment.id, invoice_id=invoice.id, amount_cents=part
                    )
                )
                left -= part
            if left == 0:
                break
        if left:  # the sums above say this cannot happen; refuse rather than lose a cent
            raise RuleViolation("The account credit could not be matched to payments.")
        return amount


def refund(
    ctx: ServiceContext,
    *,
    method: PaymentMethod | str,
    amount_cents: int,
    patient_id: str | None = None,
    funder_id: str | None = None,
    note: str = "",
) -> str:
    """Give back account credit. Never more than was paid and not used. Returns the entry id."""
    require(ctx.actor, Action.REFUND)
    m = _check_method(method)
    if amount_cents <= 0:
        raise ValidationFailed("A refund must be more than zero.", field="amount")
    debtor = Debtor(patient_id=None if funder_id else patient_id, funder_id=funder_id)
    with ctx.write("refund") as session:
        refuse_if_closed(ctx, session, business_day(ctx))
        credit = debtor_credit(session, debtor)
        if amount_cents > credit:
            raise RuleViolation(
                f"{debtor_name(session, debtor)} has {format_money(credit)} paid and not used; "
                f"a refund of {format_money(amount_cents)} would be more than that. To refund "
                "money paid on an invoice, issue a credit note first."
            )
        entry = _new_entry(ctx, PaymentKind.REFUND, m, amount_cents, debtor, note=note)
        session.add(entry)
        session.flush()
        return entry.id


def reverse_entry(ctx: ServiceContext, payment_id: str, reason: str) -> str:
    """Cancel a mistaken payment or refund with a reversal entry (the original stays).
    A payment's allocations are taken back first. Returns the reversal's id."""
    require(ctx.actor, Action.REVERSE_PAYMENT)
    if not reason.strip():
        raise ValidationFailed("Say why the entry is being reversed.", field="reason")
    with ctx.write("reverse a payment") as session:
        refuse_if_closed(ctx, session, business_day(ctx))
        original = session.get(Payment, payment_id)
        if original is None or original.deleted_at is not None:
            raise NotFound("That payment no longer exists.")
        if original.kind == PaymentKind.REVERSAL:
            raise RuleViolation("A reversal cannot itself be reversed; record the entry again.")
        if is_reversed(session, original.id):
            raise RuleViolation("That entry has already been reversed.")
        if open_day_close(session, original.device_id, original.business_date) is not None:
            require(ctx.actor, Action.REOPEN_DAY)
            record_event(
                session,
                "reverse an entry from a closed day",
                entity="payments",
                entity_id=original.id,
                patient_id=original.patient_id,
                summary=reason.strip(),
            )
        debtor = Debtor.of_payment(original)
        if original.kind == PaymentKind.PAYMENT:
            for invoice_id, net in session.execute(
                select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
                .where(
                    PaymentAllocation.payment_id == original.id,
                    PaymentAllocation.deleted_at.is_(None),
                )
                .group_by(PaymentAllocation.invoice_id)
            ).all():
                if net:
                    session.add(
                        PaymentAllocation(
                            payment_id=original.id, invoice_id=invoice_id, amount_cents=-int(net)
                        )
                    )
            session.flush()
            if debtor_credit(session, debtor) < original.amount_cents:
                raise RuleViolation(
                    "Part of this payment has been refunded. Reverse the refund first."
                )
        entry = _new_entry(
            ctx,
            PaymentKind.REVERSAL,
            PaymentMethod(original.method),
            original.amount_cents,
            debtor,
            note=reason,
            reverses=original.id,
        )
        session.add(entry)
        session.flush()
        return entry.id
