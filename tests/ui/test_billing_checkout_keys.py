"""Checkout at the desk (issue 14 item 7): a second Enter after a payment cannot charge again,
and the payment method defaults from the payer."""

from __future__ import annotations

import pytest
from billing_world import World, make_world
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from frontdesk.models import Payment
from frontdesk.services import billing
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.checkout import CheckoutDialog, open_checkout
from frontdesk.ui.billing.invoice_dialog import InvoiceDialog
from frontdesk.ui.billing.payment import PaymentDialog
from frontdesk.ui.bus import ChangeBus


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def _payments(ctx: ServiceContext) -> int:
    with ctx.read() as s:
        return s.query(Payment).count()


def test_a_second_enter_after_a_part_payment_does_not_charge_again(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    open_checkout(ctx, bus, world.appointments[0], main_window)
    dialog = main_window.findChild(CheckoutDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.method.currentData() == "eftpos"  # the patient pays at the desk
    dialog.amount.setFocus()
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "50.00")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert _payments(ctx) == 1
    assert billing.invoice_view(ctx, dialog.invoice_id).owing_cents == 4500
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # the habit: Enter once more
    assert _payments(ctx) == 1
    assert dialog.amount.text() == ""


def test_the_method_defaults_from_the_payer(
    qtbot, ctx: ServiceContext, bus: ChangeBus, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    open_checkout(ctx, bus, world.fund_appointment, main_window)
    dialog = next(d for d in main_window.findChildren(CheckoutDialog) if d.isVisible())
    assert "Bupa" in dialog.who.text()
    assert dialog.method.currentData() == "bank_transfer"
    qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    invoice = InvoiceDialog(ctx, dialog.invoice_id, main_window)
    qtbot.addWidget(invoice)
    invoice.show()
    seen: list[str] = []

    def look() -> None:
        pay = QApplication.activeModalWidget()
        if not isinstance(pay, PaymentDialog):
            QTimer.singleShot(10, look)
            return
        seen.append(pay.method.currentData())
        pay.reject()

    QTimer.singleShot(0, look)
    qtbot.mouseClick(invoice.buttons["pay"], Qt.MouseButton.LeftButton)
    assert seen == ["bank_transfer"]
