"""Adding a catalogue item to a draft invoice: the line it makes (with the payer's item number
and price) and appending it without rewriting the lines already there."""

from __future__ import annotations

from sqlalchemy import func, select

from frontdesk.domain.billing import LineInput, invoice_totals, line_totals
from frontdesk.models import InvoiceLine
from frontdesk.services.billing.invoices import DraftLine, _check_lines, _draft, line_from_catalogue
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


def catalogue_line(ctx: ServiceContext, item_id: str, payer_funder_id: str | None) -> DraftLine:
    """The line a catalogue item makes for this payer (not saved)."""
    with ctx.read() as session:
        return line_from_catalogue(session, item_id, payer_funder_id)


def add_catalogue_line(ctx: ServiceContext, invoice_id: str, item_id: str) -> None:
    """Append a line for a catalogue item to a draft, priced for the draft's payer."""
    require(ctx.actor, Action.CREATE_INVOICE)
    with ctx.write("edit a draft invoice") as session:
        invoice = _draft(session, invoice_id)
        line = line_from_catalogue(session, item_id, invoice.payer_funder_id)
        _check_lines([line])
        settings = ctx.settings(session)
        rate = settings.tax_rate_bp if settings.tax_registered else 0
        taxable = line.taxable and rate > 0
        totals = line_totals(
            LineInput(line.quantity, line.unit_price_cents, line.discount_bp, taxable, rate)
        )
        live = InvoiceLine.invoice_id == invoice.id, InvoiceLine.deleted_at.is_(None)
        last = session.scalar(select(func.max(InvoiceLine.position)).where(*live))
        stored = session.execute(
            select(InvoiceLine.total_cents, InvoiceLine.tax_cents, InvoiceLine.taxable).where(*live)
        ).all()
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=0 if last is None else last + 1,
                catalogue_item_id=line.catalogue_item_id,
                practitioner_id=invoice.practitioner_id,
                description=line.description.strip(),
                item_number=line.item_number.strip(),
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                discount_bp=line.discount_bp,
                taxable=taxable,
                tax_rate_bp=rate if taxable else 0,
                total_cents=totals.total_cents,
                tax_cents=totals.tax_cents,
            )
        )
        sums = invoice_totals([*((r[0], r[1], r[2]) for r in stored), totals])
        invoice.total_cents, invoice.tax_cents = sums.total_cents, sums.tax_cents
