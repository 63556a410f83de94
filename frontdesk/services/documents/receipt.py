"""A receipt for one payment: what was paid, how, and what it paid for — with the
practitioner's provider number, item numbers and dates of service a health fund asks for."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from frontdesk.services.billing.views import ReceiptView
from frontdesk.services.documents.invoice import parties
from frontdesk.services.documents.layout import (
    WIDTH,
    boxes,
    build,
    day,
    grid,
    header,
    money,
    p,
    totals,
)


def render_receipt(view: ReceiptView) -> bytes:
    c = view.clinic
    facts = [
        ("Receipt no.", view.number),
        ("Date", day(view.day, c)),
        ("Paid by", view.method),
        ("Reference", view.reference),
    ]
    story: list[Any] = [header(c, "Receipt", facts), Spacer(1, 6 * mm)]
    if view.invoices:
        first = view.invoices[0][0]
        story += [
            boxes(parties(first, full_identity=False, bill_label="Received from")),
            Spacer(1, 6 * mm),
        ]
    else:
        story += [boxes([("Received from", [view.received_from])]), Spacer(1, 6 * mm)]
    head = ["Date", "Item", "Description", "Invoice", "Amount"]
    widths = [22 * mm, 16 * mm, 0.0, 26 * mm, 24 * mm]
    widths[2] = WIDTH - sum(widths)
    rows: list[list[Any]] = []
    for inv, _applied in view.invoices:
        for ln in inv.lines:
            rows.append(
                [
                    day(ln.service_date, c),
                    ln.item_number,
                    p(ln.description, "cell"),
                    inv.number or "",
                    money(ln.total_cents, c),
                ]
            )
    if rows:
        story += [grid(head, rows, widths, right_from=4), Spacer(1, 3 * mm)]
    sums: list[tuple[str, str, bool]] = [("Amount received", money(view.amount_cents, c), True)]
    for inv, applied in view.invoices:
        sums.append((f"Applied to {inv.number}", money(applied, c), False))
        sums.append((f"Still owing on {inv.number}", money(inv.owing_cents, c), False))
    if view.credit_left_cents:
        sums.append(("Kept as account credit", money(view.credit_left_cents, c), False))
    story.append(totals(sums))
    if c.tax_registered and any(inv.tax_cents for inv, _ in view.invoices):
        tax = sum(inv.tax_cents for inv, _ in view.invoices)
        story += [
            Spacer(1, 2 * mm),
            p(f"The invoices paid include {money(tax, c)} {c.tax_name}.", "right"),
        ]
    abn = f"{c.business_number_label} {c.business_number}" if c.business_number else ""
    footer = "  ·  ".join(x for x in (c.legal_name or c.name, abn) if x)
    return build(story, "Receipt", footer)
