"""The invoice drawn on the canvas (documents/sheet.py), read back page by page with pypdf:
every field a tax invoice and a funder need, every line of a long invoice exactly once and in
order across its pages (each later page with the heading and the table's header row again,
and "Page n of m"), and the printed money adding up: the lines to the total, their GST to the
GST included, total less credited and paid to the amount owing."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from billing_world import World, make_world
from pypdf import PdfReader

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.money import parse_money
from frontdesk.services import billing
from frontdesk.services.billing.invoices import line_from_catalogue
from frontdesk.services.billing.views import InvoiceView
from frontdesk.services.documents import render_invoice
from frontdesk.services.documents.layout import FONT
from frontdesk.services.documents.sheet import Sheet, table, wrap
from frontdesk.store.context import ServiceContext

MONEY = r"−?\$[\d,]+\.\d\d"
# A line of the table as read back: ... unit price, [discount], GST (amount or GST-free), amount.
ROW = re.compile(rf"(?:^|\s)({MONEY}|GST-free) ({MONEY})$")


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    return " ".join(text.split())


def cents(text: str) -> int:
    return -parse_money(text[1:]) if text.startswith("−") else parse_money(text)


def printed(label: str, text: str) -> int:
    """The amount printed after ``label`` in the totals block."""
    found = re.findall(rf"(?:^|\n){label} ({MONEY})(?:\n|$)", text)
    assert len(found) == 1, (label, found)
    return cents(found[0])


def long_invoice(ctx: ServiceContext, world: World, lines: int = 70) -> str:
    with ctx.read() as s:
        brace = line_from_catalogue(s, world.product, None)
    draft = []
    for i in range(1, lines + 1):
        if i % 9 == 0:
            draft.append(brace)
            continue
        words = f"Visit {i:02d} physiotherapy"
        if i % 7 == 0:  # wraps onto three lines in the description column
            words += " with hydrotherapy pool, a review of the home exercise programme and notes"
        draft.append(
            billing.DraftLine(
                words,
                9000 + i * 5,
                quantity=1 + (i % 4 == 0),
                discount_bp=1000 if i % 10 == 0 else 0,
                item_number=f"5{i:02d}",
                service_date=date(2026, 11, 1 + i % 26),
            )
        )
    inv = billing.create_draft(
        ctx, billing.DraftHeader(world.patient, practitioner_id=world.practitioner), draft
    )
    billing.issue_invoice(ctx, inv)
    line = billing.invoice_view(ctx, inv).lines[0]
    billing.issue_credit_note(ctx, inv, "Shorter session", {line.id: 1500})
    billing.take_payment(ctx, method="eftpos", amount_cents=25000, invoice_ids=[inv])
    return inv


def test_a_long_invoice_keeps_every_line_once_and_in_order_across_its_pages(
    ctx: ServiceContext, world: World
) -> None:
    view = billing.invoice_view(ctx, long_invoice(ctx, world))
    pages = pages_of(render_invoice(view))
    assert len(pages) >= 2
    seen: list[tuple[int, int]] = []  # (visit, page)
    for n, text in enumerate(pages, 1):
        flat = squash(text)
        assert f"Page {n} of {len(pages)}" in flat
        if n > 1:  # a loose page still says whose invoice it is
            assert f"Harbourside Health · Tax invoice {view.number} continued" in flat
        visits = [int(v) for v in re.findall(r"Visit (\d\d) physiotherapy", text)]
        if visits:
            assert "Date Item Description Qty Unit price Discount GST Amount" in flat
        seen += [(v, n) for v in visits]
    expected = [i for i in range(1, 71) if i % 9]
    assert [v for v, _page in seen] == expected  # each once, in order
    assert len({page for _v, page in seen}) >= 2
    # the wrapped descriptions kept every word
    wrapped = sum(1 for v in expected if v % 7 == 0)
    assert squash("\n".join(pages)).count("a review of the home exercise programme and") == wrapped
    last = squash(pages[-1])
    assert "Amount owing" in last and "Payments received" in last and "Credit notes" in last


def check_totals(view: InvoiceView, text: str) -> None:
    """The money printed adds up, read back from the PDF's text (never floats)."""
    rows = [ROW.search(line) for line in text.splitlines()]
    amounts = [(m.group(1), cents(m.group(2))) for m in rows if m]
    assert len(amounts) == len(view.lines)
    total = printed("Total", text)
    assert total == sum(a for _gst, a in amounts) == view.total_cents
    gst = sum(cents(g) for g, _a in amounts if g != "GST-free")
    assert printed("GST included", text) == gst == view.tax_cents
    credited = -printed("Credited", text) if view.credited_cents else 0
    paid = -printed("Paid", text)
    assert printed("Amount owing", text) == total - credited - paid == view.owing_cents
    assert credited == view.credited_cents and paid == view.paid_cents


def test_printed_totals_add_up_on_a_long_and_a_short_invoice(
    ctx: ServiceContext, world: World
) -> None:
    long = billing.invoice_view(ctx, long_invoice(ctx, world))
    check_totals(long, "\n".join(pages_of(render_invoice(long))))
    with ctx.read() as s:
        brace = line_from_catalogue(s, world.product, None)
    inv = billing.create_draft(
        ctx,
        billing.DraftHeader(world.patient),
        [brace, billing.DraftLine("Orthotics", 45000, quantity=3, discount_bp=1000)],
    )
    billing.issue_invoice(ctx, inv)
    short = billing.invoice_view(ctx, inv)
    check_totals(short, "\n".join(pages_of(render_invoice(short))))


def test_every_field_of_a_funded_invoice_is_printed(ctx: ServiceContext, world: World) -> None:
    with ctx.write("how to pay") as s:
        ctx.settings(s).payment_instructions = "Pay by bank transfer to BSB 062-000 1234 5678."
    inv = billing.create_draft(
        ctx,
        billing.DraftHeader(
            world.fund_patient,
            payer_funder_id=world.fund,
            payer_reference="CLAIM-981",
            practitioner_id=world.practitioner,
            due_date=date(2026, 12, 11),
            notes="Referred under a chronic disease management plan.",
        ),
        [
            billing.DraftLine(
                "Initial assessment",
                12500,
                item_number="10960",
                service_date=date(2026, 11, 20),
                practitioner_id=world.practitioner,
            )
        ],
    )
    billing.issue_invoice(ctx, inv)
    line = billing.invoice_view(ctx, inv).lines[0]
    billing.issue_credit_note(ctx, inv, "Short session", {line.id: 2000})
    billing.take_payment(
        ctx, method="health_fund_terminal", amount_cents=3000, invoice_ids=[inv], reference="R1"
    )
    view = billing.invoice_view(ctx, inv)
    pages = pages_of(render_invoice(view))
    assert len(pages) == 1
    text = squash(pages[0])
    for field in (
        "Tax invoice",
        "Harbourside Health",  # supplier, and its legal name and ABN in the footer too
        "ABN 53 004 085 616",
        "118 King Street",
        f"Invoice number {view.number}",
        "Date of issue 27/11/2026",
        "Due 11/12/2026",
        "BILL TO Bupa",
        "ABN 81 000 057 590",
        "Reference CLAIM-981",
        "PATIENT Liam Nguyen",
        "PRACTITIONER Ruby Esposito",
        "Provider number 4123456A",
        "20/11/2026 10960 Initial assessment 1 $125.00 GST-free $125.00",
        "Total $125.00",
        "GST included $0.00",
        "Credited −$20.00",
        "Paid −$30.00",
        "Amount owing $75.00",
        "All items are GST-free.",
        "Payments received",
        "Credit notes",
        "Credit note CN-000001: Short session $20.00",
        "Referred under a chronic disease management plan.",
        "How to pay",
        "Pay by bank transfer to BSB 062-000 1234 5678.",
        f"Harbourside Health Pty Ltd · ABN 53 004 085 616 · {view.number}",
        "Page 1 of 1",
    ):
        assert field in text, field


def test_a_row_taller_than_a_page_breaks_between_its_lines() -> None:
    sheet = Sheet("Test", "footer", "Clinic · Test")
    many = "\n".join(f"Part {i:03d}" for i in range(1, 161))
    table(sheet, ["Date", "Description", "Amount"], [["01/12/2026", many, "$1.00"]],
          [80.0, 300.0, 80.0], right_from=2)  # fmt: skip
    pages = pages_of(sheet.pdf())
    assert len(pages) >= 3
    parts = [int(p) for text in pages for p in re.findall(r"Part (\d{3})", text)]
    assert parts == list(range(1, 161))
    for n, text in enumerate(pages, 1):
        assert "Date Description Amount" in squash(text)
        assert f"Page {n} of {len(pages)}" in squash(text)


def test_wrapping_keeps_every_character_and_fits_the_width() -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = "Reference " + "X" * 300 + " then ordinary words that wrap\nand a line of its own"
    lines = wrap(text, FONT, 8.5, 120)
    assert all(stringWidth(s, FONT, 8.5) <= 120 for s in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert lines[-1] == "and a line of its own"


def test_the_provider_number_printed_is_the_one_for_the_payer(
    ctx: ServiceContext, world: World
) -> None:
    from frontdesk.models import Funder, ProviderNumber

    with ctx.write("numbers") as s:
        s.add(
            ProviderNumber(
                practitioner_id=world.practitioner, number="BUPA-77", funder_id=world.fund
            )
        )
        s.add(other := Funder(kind="health_fund", name="Medibank"))
        s.flush()
        s.add(
            ProviderNumber(
                practitioner_id=world.practitioner, number="OLD-1", deleted_at=ctx.clock.now()
            )
        )
    header = billing.DraftHeader(world.fund_patient, practitioner_id=world.practitioner)
    line = [billing.DraftLine("Consultation", 9000)]
    by_fund = billing.create_draft(
        ctx, billing.DraftHeader(**{**header.__dict__, "payer_funder_id": world.fund}), line
    )
    by_other = billing.create_draft(
        ctx, billing.DraftHeader(**{**header.__dict__, "payer_funder_id": other.id}), line
    )
    by_patient = billing.create_draft(ctx, header, line)
    for inv, expected in ((by_fund, "BUPA-77"), (by_other, "4123456A"), (by_patient, "4123456A")):
        view = billing.invoice_view(ctx, inv)
        assert view.provider_number == expected
        assert f"Provider number {expected}" in squash(pages_of(render_invoice(view))[0])


def test_a_credit_note_is_dated_by_the_clinic_calendar_on_the_invoice(
    ctx: ServiceContext, world: World, clock: FakeClock
) -> None:
    """Issued at 08:30 in Sydney (21:30 the evening before in UTC): the invoice's list of
    credit notes gives the clinic's date, as the credit note itself does."""
    sydney = ZoneInfo("Australia/Sydney")
    with ctx.write("the clinic's zone") as session:
        ctx.settings(session).time_zone = "Australia/Sydney"
    clock.set(datetime(2026, 11, 27, 8, 30, tzinfo=sydney).astimezone(UTC))
    inv = long_invoice(ctx, world)
    view = billing.invoice_view(ctx, inv)
    (credit,) = view.credits
    assert credit.day == date(2026, 11, 27)
    assert "27/11/2026 Credit note" in squash(" ".join(pages_of(render_invoice(view))))
