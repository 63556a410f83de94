"""Taking a payment: method, amount (the amount owing by default), reference; overpayment is
offered as account credit."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.billing import default_payment_method
from frontdesk.domain.money import format_money, parse_money
from frontdesk.services import billing
from frontdesk.services.billing.payments import MONEY_METHODS
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_box, run_op


def method_combo(billed_to_a_funder: bool = False) -> QComboBox:
    """The payment methods, with the payer's usual one chosen (a funder: bank transfer)."""
    combo = QComboBox()
    for m in MONEY_METHODS:
        combo.addItem(billing.METHOD_LABELS[m], m.value)
    set_method_for_payer(combo, billed_to_a_funder)
    return combo


def set_method_for_payer(combo: QComboBox, billed_to_a_funder: bool) -> None:
    usual = default_payment_method(billed_to_a_funder)
    combo.setCurrentIndex(max(0, combo.findData(usual.value)))


def pay_with_offer(
    parent: QWidget | None,
    ctx: ServiceContext,
    invoice_ids: list[str],
    method: str,
    amount: int,
    reference: str = "",
) -> billing.PaymentResult | None:
    """Take the payment; if it is more than owing, ask whether to keep the rest as credit."""

    def pay() -> billing.PaymentResult | None:
        try:
            return billing.take_payment(
                ctx, method=method, amount_cents=amount, invoice_ids=invoice_ids,
                reference=reference,
            )  # fmt: skip
        except billing.OverpaymentOffered as offer:
            answer = QMessageBox.question(
                parent,
                "More than is owing",
                f"{offer.user_message}\n\nKeep {format_money(offer.excess_cents)} as account "
                "credit?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
            return billing.take_payment(
                ctx,
                method=method,
                amount_cents=amount,
                invoice_ids=invoice_ids,
                reference=reference,
                keep_credit=True,
            )

    return run_op(pay, in_box(parent, "Billing")).value


class PaymentDialog(QDialog):
    def __init__(
        self,
        ctx: ServiceContext,
        invoice_ids: list[str],
        owing_cents: int,
        parent: QWidget | None = None,
        *,
        billed_to_a_funder: bool = False,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.invoice_ids = ctx, invoice_ids
        self.result_payment: billing.PaymentResult | None = None
        self.setWindowTitle("Take payment")
        form = QFormLayout()
        self.method = method_combo(billed_to_a_funder)
        self.amount = QLineEdit(format_money(owing_cents, ""))
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Terminal receipt or transfer reference (optional)")
        form.addRow("Owing", QLabel(format_money(owing_cents)))
        form.addRow("Paid by", self.method)
        form.addRow("Amount", self.amount)
        form.addRow("Reference", self.reference)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Take payment")
        buttons.accepted.connect(self.on_accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(buttons)

    def on_accept(self) -> None:
        typed = run_op(lambda: parse_money(self.amount.text()), in_box(self, "Billing"))
        if not typed:
            return
        amount = typed.get()
        result = pay_with_offer(
            self,
            self.ctx,
            self.invoice_ids,
            self.method.currentData(),
            amount,
            self.reference.text(),
        )
        if result is not None:
            self.result_payment = result
            self.accept()
