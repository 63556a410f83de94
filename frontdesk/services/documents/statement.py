"""A statement of account: opening balance, the period's invoices, credits and payments with a
running balance, what is owing by age, and the credit held."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from frontdesk.domain.billing import AgeBucket
from frontdesk.services.billing.ledger import Statement
from frontdesk.services.billing.views import ClinicInfo
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


def render_statement(st: Statement, clinic: ClinicInfo) -> bytes:
    c = clinic
    facts = [
        ("Period", f"{day(st.start, c)} – {day(st.end, c)}"),
        ("Balance due", money(max(st.closing_cents, 0), c)),
    ]
    story: list[Any] = [
        header(c, "Statement", facts),
        Spacer(1, 6 * mm),
        boxes([("Statement for", [st.name, st.address])]),
        Spacer(1, 6 * mm),
    ]
    head = ["Date", "Reference", "Details", "Amount", "Balance"]
    widths = [22 * mm, 28 * mm, 0.0, 26 * mm, 26 * mm]
    widths[2] = WIDTH - sum(widths)
    rows: list[list[Any]] = [
        [day(st.start, c), "", "Opening balance", "", money(st.opening_cents, c)]
    ]
    for line in st.lines:
        e = line.entry
        rows.append(
            [
                day(e.day, c),
                e.reference,
                e.description,
                money(e.amount_cents, c),
                money(line.running_cents, c),
            ]
        )
    story += [grid(head, rows, widths, right_from=3), Spacer(1, 4 * mm)]
    aged = [(b.label, money(st.aged[b], c), False) for b in AgeBucket]
    sums = [*aged, ("Closing balance", money(st.closing_cents, c), True)]
    if st.credit_cents:
        sums.append(("Account credit held", money(st.credit_cents, c), False))
    story.append(totals(sums))
    if st.open_invoices:
        story += [Spacer(1, 5 * mm), p("Invoices still owing", "label")]
        story += [
            p(
                f"{o.number}   issued {day(o.issue_date, c)}   owing {money(o.owing_cents, c)}",
                "small",
            )
            for o in st.open_invoices
        ]
    if c.payment_instructions:
        story += [Spacer(1, 5 * mm), p("How to pay", "label"), p(c.payment_instructions, "small")]
    return build(story, f"Statement {st.name}", c.legal_name or c.name)
