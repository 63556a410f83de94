"""The Billing area and the checkout: from a completed appointment to an issued, paid invoice
and a receipt, in the running app (offscreen)."""

from __future__ import annotations

import io

import pytest
from billing_world import World, make_world
from pypdf import PdfReader
from PySide6.QtWidgets import QMessageBox

from frontdesk.services import billing
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing import BillingArea
from frontdesk.ui.billing.checkout import CheckoutDialog, open_checkout
from frontdesk.ui.billing.invoice_dialog import InvoiceDialog
from frontdesk.ui.bus import ChangeBus

# The offscreen platform cannot resize windows to their layouts' hints; real platforms can.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def test_checkout_issues_takes_payment_and_makes_a_receipt(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    open_checkout(ctx, bus, world.appointments[0], main_window)
    dialog = main_window.findChild(CheckoutDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.amount.text() == "95.00"
    assert "Karen Kim" in dialog.who.text()
    assert not dialog.print_receipt.isEnabled()
    dialog.method.setCurrentIndex(dialog.method.findData("eftpos"))
    dialog.pay_button.click()
    invoice = billing.invoice_view(ctx, dialog.invoice_id)
    assert invoice.number == "INV-000001" and invoice.owing_cents == 0
    assert "Receipt R-000001 is ready" in dialog.status.text()
    assert dialog.print_receipt.isEnabled() and dialog.save_receipt.isEnabled()
    text = PdfReader(io.BytesIO(dialog.receipt_pdf())).pages[0].extract_text()
    assert "Receipt" in text and "INV-000001" in text and "EFTPOS" in text
    assert "R-000001" in text
    # Checkout again on the same appointment shows the paid invoice, not a second one.
    dialog.close()
    open_checkout(ctx, bus, world.appointments[0], main_window)
    again = [d for d in main_window.findChildren(CheckoutDialog) if d.isVisible()]
    assert again and again[-1].invoice_id == invoice.id
    assert not again[-1].pay_button.isEnabled()


def test_checkout_can_add_a_product_before_issuing(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    open_checkout(ctx, bus, world.appointments[1], main_window)
    dialog = main_window.findChild(CheckoutDialog)
    dialog.catalogue.setCurrentIndex(dialog.catalogue.findData(world.product))
    dialog.add_button.click()
    assert dialog.lines.rowCount() == 2
    assert dialog.amount.text() == "160.00"
    dialog.issue_button.click()
    assert billing.invoice_view(ctx, dialog.invoice_id).status == "issued"
    assert not dialog.add_button.isEnabled()


def test_checkout_refusal_is_a_message_and_changes_nothing(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    open_checkout(ctx, bus, world.archived_appointment, main_window)
    assert shown and "archived" in shown[0]
    assert main_window.findChild(CheckoutDialog) is None
    assert billing.list_invoices(ctx, billing.InvoiceFilter()) == []


def test_billing_area_lists_invoices_and_closes_the_day(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    billing.take_payment(ctx, method="cash", amount_cents=9500, invoice_ids=[inv])
    page = main_window.show_area("billing")
    assert isinstance(page, BillingArea)
    qtbot.waitUntil(lambda: page.invoices.table.model().rowCount() == 1)
    assert page.invoices.table.model().index(0, 0).data() == "INV-000001"
    qtbot.waitUntil(lambda: page.debtors.model.rowCount() == 0 and not page.debtors.loading)
    eod = page.end_of_day
    assert eod.expected[billing.payments.PaymentMethod.CASH].text() == "$95.00"
    eod.counted[billing.payments.PaymentMethod.CASH].setText("95.00")
    eod.close_button.click()
    assert billing.takings(ctx, billing.business_day(ctx)).closed_at is not None
    qtbot.waitUntil(lambda: not eod.close_button.isEnabled())


def test_invoice_dialog_edits_a_draft_and_issues_it(
    qtbot, ctx: ServiceContext, world: World
) -> None:  # type: ignore[no-untyped-def]
    inv = billing.create_draft(ctx, billing.DraftHeader(world.patient), [])
    dialog = InvoiceDialog(ctx, inv)
    qtbot.addWidget(dialog)
    dialog.catalogue.setCurrentIndex(dialog.catalogue.findData(world.product))
    dialog.on_add_item()
    assert dialog.table.rowCount() == 1
    dialog.table.item(0, 2).setText("2")
    dialog.on_issue()
    view = billing.invoice_view(ctx, inv)
    assert (view.status, view.total_cents, view.tax_cents) == ("issued", 13000, 1182)
    assert not dialog.buttons["issue"].isVisible()


def test_invoice_dialog_reverses_a_payment_and_refunds_credit(
    qtbot, ctx: ServiceContext, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QInputDialog

    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    billing.take_payment(
        ctx, method="eftpos", amount_cents=12000, invoice_ids=[inv], keep_credit=True
    )
    dialog = InvoiceDialog(ctx, inv)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("25.00", True))
    dialog.on_refund()
    assert billing.patient_account(ctx, world.patient).credit_cents == 0
    monkeypatch.setattr(QInputDialog, "getItem", lambda _p, _t, _l, items, *a: (items[0], True))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Keyed twice", True))
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    dialog.on_reverse()  # refused: part of it was refunded; nothing changes
    assert shown and "Reverse the refund first" in shown[0]
    assert billing.invoice_view(ctx, inv).owing_cents == 0


def test_checkout_for_a_third_party_payer_issues_without_taking_money(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    open_checkout(ctx, bus, world.fund_appointment, main_window)
    dialog = main_window.findChild(CheckoutDialog)
    assert dialog.amount.text() == "0.00"
    dialog.pay_button.click()
    view = billing.invoice_view(ctx, dialog.invoice_id)
    assert view.status == "issued" and view.owing_cents == 9000 and view.paid_cents == 0


def test_settings_catalogue_tab_lists_items(
    qtbot, ctx: ServiceContext, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QTableWidget

    main_window.show_area("settings")
    table = main_window.findChild(QTableWidget, "catalogueTable")
    assert table is not None
    codes = {table.item(r, 0).text() for r in range(table.rowCount())}
    assert codes == {"PHY-STD", "PRD-KNEE"}
    billing.archive_item(ctx, world.product)
    qtbot.waitUntil(lambda: table.rowCount() == 1)


def test_printing_draws_every_pdf_page_on_the_printer(
    qtbot, ctx: ServiceContext, world: World, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtPrintSupport import QPrinter

    from frontdesk.services.documents import render_invoice
    from frontdesk.ui.billing.common import paint_pdf

    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert paint_pdf(render_invoice(billing.invoice_view(ctx, inv)), printer) == 1
    assert (tmp_path / "printed.pdf").stat().st_size > 1000
