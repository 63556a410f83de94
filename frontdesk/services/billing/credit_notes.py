"""Credit notes: whole or partial corrections of an issued invoice, numbered from the desk's
CREDIT_NOTE series. Never more than was invoiced; money already applied beyond what is still
owed becomes account credit."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.billing import CreditableLine, credit_line
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.vocab import InvoiceStatus, SeriesKind
from frontdesk.models import CreditNote, CreditNoteLine, InvoiceLine
from frontdesk.services.billing.common import get_invoice
from frontdesk.services.billing.payments import owing_on, unallocate_invoice
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number


def creditable_lines(session: Session, invoice_id: str) -> list[tuple[InvoiceLine, CreditableLine]]:
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id, InvoiceLine.deleted_at.is_(None))
        .order_by(InvoiceLine.position)
    ).all()
    credited = {
        line_id: (int(a), int(t))
        for line_id, a, t in session.execute(
            select(
                CreditNoteLine.invoice_line_id,
                func.sum(CreditNoteLine.amount_cents),
                func.sum(CreditNoteLine.tax_cents),
            )
            .where(
                CreditNoteLine.invoice_line_id.in_([ln.id for ln in lines]),
                CreditNoteLine.deleted_at.is_(None),
            )
            .group_by(CreditNoteLine.invoice_line_id)
        ).all()
    }
    return [
        (
            ln,
            CreditableLine(
                ln.total_cents,
                ln.tax_cents,
                *credited.get(ln.id, (0, 0)),
                tax_rate_bp=ln.tax_rate_bp,
            ),
        )
        for ln in lines
    ]


def issue_credit_note(
    ctx: ServiceContext,
    invoice_id: str,
    reason: str,
    amounts: Mapping[str, int] | None = None,
) -> str:
    """Credit an issued invoice: every line's remainder (``amounts`` None) or the given cents per
    invoice-line id. Returns the credit note's id."""
    require(ctx.actor, Action.ISSUE_CREDIT_NOTE)
    if not reason.strip():
        raise ValidationFailed("Say why the credit note is being issued.", field="reason")
    with ctx.write("issue a credit note") as session:
        invoice = get_invoice(session, invoice_id)
        if invoice.status != InvoiceStatus.ISSUED:
            raise RuleViolation("Only an issued invoice (not a draft or a void one) is credited.")
        lines = creditable_lines(session, invoice.id)
        by_id = {ln.id: (ln, c) for ln, c in lines}
        if amounts is None:
            wanted = {ln.id: c.remaining_cents for ln, c in lines if c.remaining_cents > 0}
            if not wanted:
                raise RuleViolation(f"Invoice {invoice.number} has been credited in full already.")
        else:
            unknown = set(amounts) - set(by_id)
            if unknown:
                raise ValidationFailed("A credited line is not on this invoice.")
            wanted = {k: v for k, v in amounts.items() if v != 0}
            if not wanted:
                raise ValidationFailed("Enter an amount to credit on at least one line.")
        parts = [
            (line_id, amount, credit_line(by_id[line_id][1], amount))
            for line_id, amount in wanted.items()
        ]
        owing_before = owing_on(session, invoice)
        series_id, number = next_number(session, SeriesKind.CREDIT_NOTE)
        note = CreditNote(
            number=number,
            series_id=series_id,
            invoice_id=invoice.id,
            issued_at=ctx.clock.now(),
            issued_by_id=ctx.actor.staff_user_id,
            reason=reason.strip(),
            total_cents=sum(a for _, a, _ in parts),
            tax_cents=sum(t for _, _, t in parts),
        )
        session.add(note)
        session.flush()
        for line_id, amount, tax in parts:
            session.add(
                CreditNoteLine(
                    credit_note_id=note.id,
                    invoice_line_id=line_id,
                    amount_cents=amount,
                    tax_cents=tax,
                )
            )
        excess = note.total_cents - max(owing_before, 0)
        if excess > 0:
            unallocate_invoice(session, invoice.id, excess)
        return note.id
