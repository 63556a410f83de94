"""The tax invoice (or "Invoice" when the clinic is not registered for GST) and the credit
note, drawn straight on the canvas (sheet.py).

What the ATO asks of a tax invoice is decided in domain/billing.py: the title, the buyer's
identity from $1,000, and whether "Total price includes GST" may replace the GST amounts.
"""

from __future__ import annotations

from reportlab.lib.units import mm

from frontdesk.domain.billing import (
    buyer_identity_required,
    document_title,
    includes_gst_statement,
    total_price_includes,
)
from frontdesk.services.billing.views import CreditNoteView, InvoiceView
from frontdesk.services.documents.layout import WIDTH, day, money
from frontdesk.services.documents.sheet import (
    LABEL,
    NOTICE,
    RIGHT_BODY,
    SMALL,
    Sheet,
    boxes,
    header,
    para,
    table,
    totals,
)


def parties(
    view: InvoiceView, *, full_identity: bool, bill_label: str = "Bill to"
) -> list[tuple[str, list[str]]]:
    """The "Bill to", patient and practitioner blocks. The buyer's address and date of birth are
    shown when the law asks for the buyer's identity (from $1,000) or when the patient pays."""
    patient = view.patient
    patient_lines = [patient.name, patient.extra if full_identity else ""]
    if full_identity:
        patient_lines.append(patient.address)
    blocks: list[tuple[str, list[str]]] = []
    if view.payer is not None:
        payer = view.payer
        abn = f"{view.clinic.business_number_label} {payer.business_number}"
        blocks.append(
            (
                bill_label,
                [
                    payer.name,
                    abn if payer.business_number else "",
                    payer.address if full_identity else "",
                    f"Reference {payer.reference}" if payer.reference else "",
                    payer.extra,
                ],
            )
        )
        blocks.append(("Patient", patient_lines))
    else:
        blocks.append((bill_label, patient_lines))
    if view.practitioner:
        blocks.append(
            (
                "Practitioner",
                [
                    view.practitioner,
                    f"Provider number {view.provider_number}" if view.provider_number else "",
                ],
            )
        )
    return blocks


def _line_rows(view: InvoiceView, show_gst: bool) -> tuple[list[str], list[list[str]], list[float]]:
    c = view.clinic
    head = ["Date", "Item", "Description", "Qty", "Unit price"]
    widths = [22 * mm, 16 * mm, 0.0, 10 * mm, 21 * mm]
    discounts = any(ln.discount_bp for ln in view.lines)
    if discounts:
        head.append("Discount")
        widths.append(19 * mm)
    if show_gst:
        head.append(c.tax_name)
        widths.append(18 * mm)
    head.append("Amount")
    widths.append(22 * mm)
    widths[2] = WIDTH - sum(widths)
    rows: list[list[str]] = []
    for ln in view.lines:
        desc = ln.description
        if ln.practitioner and ln.practitioner != view.practitioner:
            desc += f"\n{ln.practitioner}"
        row = [
            day(ln.service_date, c),
            ln.item_number,
            desc,
            str(ln.quantity),
            money(ln.unit_price_cents, c),
        ]
        if discounts:
            row.append(f"{ln.discount_bp / 100:g} %" if ln.discount_bp else "")
        if show_gst:
            row.append(money(ln.tax_cents, c) if ln.taxable else f"{c.tax_name}-free")
        row.append(money(ln.total_cents, c))
        rows.append(row)
    return head, rows, widths


def invoice_totals(view: InvoiceView, show_gst: bool) -> list[tuple[str, str, bool]]:
    """The totals block: (label, amount, emphasised)."""
    c = view.clinic
    sums: list[tuple[str, str, bool]] = [("Total", money(view.total_cents, c), True)]
    if show_gst:
        sums.append((f"{c.tax_name} included", money(view.tax_cents, c), False))
    if view.credited_cents:
        sums.append(("Credited", f"−{money(view.credited_cents, c)}", False))
    if view.status == "issued":
        sums.append(
            ("Paid", f"−{money(view.paid_cents, c)}" if view.paid_cents else money(0, c), False)
        )
        sums.append(("Amount owing", money(view.owing_cents, c), True))
    return sums


def _sheet(view: InvoiceView, title: str, number: str) -> Sheet:
    c = view.clinic
    doc_title = f"{title} {number}".strip()
    return Sheet(
        doc_title,
        _footer(view),
        f"{c.name}  ·  {doc_title}",
        watermark="VOID" if view.status == "void" else "",
    )


def render_invoice(view: InvoiceView) -> bytes:
    c = view.clinic
    title = document_title(c.tax_registered, c.tax_name)
    if view.status == "draft":
        title = f"Draft {title.lower()}"
    gst_statement = includes_gst_statement(
        [(ln.total_cents, ln.tax_cents, ln.taxable, ln.tax_rate_bp) for ln in view.lines],
        c.tax_registered,
    )
    show_gst = c.tax_registered and not gst_statement
    facts = [
        ("Invoice number", view.number or "Not yet issued"),
        ("Date of issue", day(view.issue_date, c)),
        ("Due", day(view.due_date, c)),
    ]
    sheet = _sheet(view, title, view.number or "")
    header(sheet, c, title, facts)
    sheet.space(6 * mm)
    boxes(sheet, parties(view, full_identity=buyer_identity_required(view.total_cents)))
    sheet.space(6 * mm)
    head, rows, widths = _line_rows(view, show_gst)
    table(sheet, head, rows, widths, right_from=3)
    sheet.space(3 * mm)
    totals(sheet, invoice_totals(view, show_gst))
    if gst_statement:
        sheet.space(2 * mm)
        para(sheet, total_price_includes(c.tax_name), RIGHT_BODY)
    elif c.tax_registered and not view.tax_cents:
        sheet.space(2 * mm)
        para(sheet, f"All items are {c.tax_name}-free.", RIGHT_BODY)
    for gap, label, items in (
        (5, "Payments received", view.payments),
        (3, "Credit notes", view.credits),
    ):
        if items:
            sheet.space(gap * mm)
            para(sheet, label, LABEL, keep=SMALL.leading)
            for m in items:
                para(sheet, f"{day(m.day, c)}   {m.text}   {money(m.amount_cents, c)}", SMALL)
    if view.status == "void":
        sheet.space(5 * mm)
        para(sheet, f"VOID — {view.void_reason or ''}", NOTICE)
    if view.notes:
        sheet.space(5 * mm)
        para(sheet, view.notes, SMALL)
    if c.payment_instructions and view.owing_cents > 0:
        sheet.space(5 * mm)
        para(sheet, "How to pay", LABEL, keep=SMALL.leading)
        para(sheet, c.payment_instructions, SMALL)
    return sheet.pdf()


def _footer(view: InvoiceView) -> str:
    c = view.clinic
    bits = [c.legal_name or c.name]
    if c.business_number:
        bits.append(f"{c.business_number_label} {c.business_number}")
    if view.number:
        bits.append(view.number)
    return "  ·  ".join(bits)


def render_credit_note(view: CreditNoteView) -> bytes:
    inv = view.invoice
    c = inv.clinic
    title = "Credit note"
    facts = [
        ("Credit note", view.number),
        ("Date", day(view.day, c)),
        ("For invoice", inv.number or ""),
        ("Invoice date", day(inv.issue_date, c)),
    ]
    sheet = Sheet(f"{title} {view.number}", _footer(inv), f"{c.name}  ·  {title} {view.number}")
    header(sheet, c, title, facts)
    sheet.space(6 * mm)
    boxes(sheet, parties(inv, full_identity=buyer_identity_required(inv.total_cents)))
    sheet.space(6 * mm)
    para(sheet, f"Reason: {view.reason}")
    if c.tax_registered:
        para(sheet, "This is an adjustment note for GST purposes.", SMALL)
    sheet.space(3 * mm)
    show_gst = c.tax_registered
    head = ["Date", "Item", "Description", "Invoiced"]
    widths = [22 * mm, 16 * mm, 0.0, 24 * mm]
    if show_gst:
        head.append(f"{c.tax_name} credited")
        widths.append(26 * mm)
    head.append("Credited")
    widths.append(24 * mm)
    widths[2] = WIDTH - sum(widths)
    rows: list[list[str]] = []
    for ln, amount, tax in view.lines:
        row = [day(ln.service_date, c), ln.item_number, ln.description, money(ln.total_cents, c)]
        if show_gst:
            row.append(money(tax, c) if ln.taxable else f"{c.tax_name}-free")
        row.append(money(amount, c))
        rows.append(row)
    table(sheet, head, rows, widths, right_from=3)
    sheet.space(3 * mm)
    sums = [("Total credited", money(view.total_cents, c), True)]
    if show_gst:
        sums.append((f"{c.tax_name} credited", money(view.tax_cents, c), False))
    sums.append(("Still owing on the invoice", money(inv.owing_cents, c), False))
    totals(sheet, sums)
    return sheet.pdf()
