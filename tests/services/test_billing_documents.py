"""The printed documents, read back with pypdf: the words a tax invoice needs, GST shown per line
or as "Total price includes GST", the buyer's identity from $1,000, provider and item numbers,
paid and owing; and the ``invoices print`` command."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from billing_world import World, make_world
from pypdf import PdfReader

from frontdesk.app import main
from frontdesk.services import billing
from frontdesk.services.billing.invoices import line_from_catalogue
from frontdesk.services.billing.views import ClinicInfo
from frontdesk.services.documents import (
    render_credit_note,
    render_invoice,
    render_receipt,
    render_statement,
)
from frontdesk.store.context import ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    return " ".join(text.split())


def issued(ctx: ServiceContext, appointment_id: str) -> str:
    invoice_id = billing.invoice_from_appointment(ctx, appointment_id)
    billing.issue_invoice(ctx, invoice_id)
    return invoice_id


def test_tax_invoice_for_a_gst_free_service(ctx: ServiceContext, world: World) -> None:
    inv = issued(ctx, world.fund_appointment)
    billing.take_payment(ctx, method="health_fund_terminal", amount_cents=4000, invoice_ids=[inv])
    text = squash(text_of(render_invoice(billing.invoice_view(ctx, inv))))
    for expected in (
        "Tax invoice",
        "Harbourside Health",
        "ABN 53 004 085 616",
        "118 King Street",
        "INV-000001",
        "27/11/2026",
        "Ruby Esposito",
        "Provider number 4123456A",
        "505",
        "Physiotherapy standard consultation",
        "Bupa",
        "Reference 12345678",
        "Liam Nguyen",
        "GST-free",
        "$90.00",
        "Paid −$40.00",
        "Amount owing $50.00",
        "All items are GST-free",
    ):
        assert expected in text, expected
    assert "Total price includes GST" not in text


def test_all_taxable_invoice_says_total_price_includes_gst(
    ctx: ServiceContext, world: World
) -> None:
    with ctx.read() as s:
        brace = line_from_catalogue(s, world.product, None)
    inv = billing.create_draft(ctx, billing.DraftHeader(world.patient), [brace])
    billing.issue_invoice(ctx, inv)
    text = squash(text_of(render_invoice(billing.invoice_view(ctx, inv))))
    assert "Total price includes GST" in text
    assert "Knee brace" in text and "$65.00" in text
    # Below $1,000 the patient's address is not needed on the invoice.
    assert "177 Railway Parade" not in text


def test_mixed_invoice_shows_gst_per_line_and_buyer_from_1000(
    ctx: ServiceContext, world: World
) -> None:
    with ctx.read() as s:
        brace = line_from_catalogue(s, world.product, None)
    inv = billing.create_draft(
        ctx,
        billing.DraftHeader(world.patient),
        [brace, billing.DraftLine("Orthotics", 45000, quantity=3, discount_bp=1000)],
    )
    billing.issue_invoice(ctx, inv)
    text = squash(text_of(render_invoice(billing.invoice_view(ctx, inv))))
    assert "$5.91" in text and "GST-free" in text and "GST included $5.91" in text
    assert "10 %" in text and "$1,215.00" in text and "Total $1,280.00" in text
    assert "Karen Kim" in text and "177 Railway Parade" in text and "Born 21/08/1954" in text
    assert "Total price includes GST" not in text


def test_not_registered_for_gst_issues_an_invoice(ctx: ServiceContext, world: World) -> None:
    with ctx.write("not registered") as s:
        ctx.settings(s).tax_registered = False
    inv = issued(ctx, world.appointments[0])
    text = squash(text_of(render_invoice(billing.invoice_view(ctx, inv))))
    assert "Tax invoice" not in text
    assert text.count("Invoice") >= 1 and "GST" not in text


def test_void_draft_receipt_credit_note_and_statement(ctx: ServiceContext, world: World) -> None:
    inv = issued(ctx, world.appointments[0])
    paid = billing.take_payment(
        ctx,
        method="eftpos",
        amount_cents=10000,
        invoice_ids=[inv],
        keep_credit=True,
        reference="HIC-77",
    )
    receipt = squash(text_of(render_receipt(billing.receipt_view(ctx, paid.payment_id))))
    for expected in (
        "Receipt",
        "EFTPOS",
        "HIC-77",
        "Amount received $100.00",
        "Applied to INV-000001 $95.00",
        "Kept as account credit $5.00",
        "Provider number 4123456A",
        "27/11/2026",
    ):
        assert expected in receipt, expected
    line = billing.invoice_view(ctx, inv).lines[0]
    note = billing.issue_credit_note(ctx, inv, "Short session", {line.id: 2000})
    cn = squash(text_of(render_credit_note(billing.credit_note_view(ctx, note))))
    assert "Credit note" in cn and "CN-000001" in cn and "INV-000001" in cn
    assert "Short session" in cn and "Total credited $20.00" in cn
    draft = billing.invoice_from_appointment(ctx, world.appointments[1])
    assert "Draft tax invoice" in squash(text_of(render_invoice(billing.invoice_view(ctx, draft))))
    billing.issue_invoice(ctx, draft)
    billing.void_invoice(ctx, draft, "Booked in error")
    assert "VOID — Booked in error" in squash(
        text_of(render_invoice(billing.invoice_view(ctx, draft)))
    )
    st = billing.statement(
        ctx, billing.Debtor(patient_id=world.patient), date(2026, 11, 1), date(2026, 11, 27)
    )
    with ctx.read() as s:
        clinic = ClinicInfo.of(ctx.settings(s))
    statement = squash(text_of(render_statement(st, clinic)))
    assert "Statement" in statement and "Karen Kim" in statement
    assert "Account credit held $25.00" in statement


def test_logo_is_drawn_when_the_clinic_has_one(ctx: ServiceContext, world: World) -> None:
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QColor, QImage

    image = QImage(120, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("#1d4e89"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    with ctx.write("logo") as s:
        ctx.settings(s).logo_png = bytes(buffer.data())
    inv = issued(ctx, world.appointments[0])
    reader = PdfReader(io.BytesIO(render_invoice(billing.invoice_view(ctx, inv))))
    assert len(reader.pages[0].images) == 1


def test_invoices_print_command_writes_one_pdf_per_invoice(
    ctx: ServiceContext, world: World, desk_paths, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    for a in world.appointments:
        issued(ctx, a)
    billing.invoice_from_appointment(ctx, world.fund_appointment)  # a draft: not printed
    ctx.engine.dispose()
    out = tmp_path / "out"
    code = main(
        [
            "--data-dir",
            str(desk_paths.data_dir),
            "invoices",
            "print",
            "--date",
            "2026-11-27",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "INV-000001.pdf",
        "INV-000002.pdf",
        "INV-000003.pdf",
    ]
    assert "Wrote 3 invoice PDFs" in capsys.readouterr().out
    assert "INV-000002" in text_of((out / "INV-000002.pdf").read_bytes())
    assert (
        main(
            [
                "--data-dir",
                str(desk_paths.data_dir),
                "invoices",
                "print",
                "--date",
                "27/11/2026",
                "--out",
                str(out),
            ]
        )
        == 2
    )


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_invoice_renders_to_an_image_with_ink(
    ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    from PySide6.QtGui import QImage

    inv = issued(ctx, world.appointments[0])
    pdf = tmp_path / "inv.pdf"
    pdf.write_bytes(render_invoice(billing.invoice_view(ctx, inv)))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-singlefile", str(pdf), str(tmp_path / "inv")], check=True
    )
    image = QImage(str(tmp_path / "inv.png"))
    dark = sum(
        1
        for x in range(0, image.width(), 3)
        for y in range(0, image.height() // 3, 3)
        if is_dark(image.pixel(x, y))
    )
    assert dark > 50, "the top of the invoice should carry text"


def is_dark(rgb: int) -> bool:
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return r + g + b < 300
