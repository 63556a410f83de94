"""Checkout: from a completed appointment to an issued invoice, a payment and a receipt in one
step. The diary opens it with ``open_checkout(ctx, bus, appointment_id, parent)``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money, parse_money
from frontdesk.services import billing
from frontdesk.services.billing.views import InvoiceView
from frontdesk.services.documents import render_invoice, render_receipt
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import money_item, print_pdf, save_pdf, text_item
from frontdesk.ui.billing.payment import method_combo, pay_with_offer, set_method_for_payer
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op


def open_checkout(
    ctx: ServiceContext, bus: ChangeBus, appointment_id: str, parent: QWidget | None
) -> None:
    """Open the checkout for an appointment (non-blocking). A refusal (an archived patient, a
    cancelled appointment) is shown as a message and nothing changes."""
    from frontdesk.services.claims.checkout import draft_for_checkout  # funded care (issue 19)

    done = run_op(lambda: draft_for_checkout(ctx, appointment_id), in_box(parent, "Checkout"))
    if not done:
        return
    invoice_id, funding_note = done.get()
    dialog = CheckoutDialog(ctx, bus, invoice_id, parent)
    if funding_note:
        note = QLabel(funding_note)
        note.setObjectName("fundingNote")
        note.setWordWrap(True)
        layout = dialog.layout()
        if isinstance(layout, QVBoxLayout):
            layout.insertWidget(2, note)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


class CheckoutDialog(QDialog):
    def __init__(
        self, ctx: ServiceContext, bus: ChangeBus, invoice_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checkoutDialog")
        self.ctx, self.bus, self.invoice_id = ctx, bus, invoice_id
        self.payment_id: str | None = None
        self.receipt_number = ""
        self.setWindowTitle("Checkout")
        self.setMinimumSize(920, 520)
        col = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.who = QLabel()
        self.who.setObjectName("muted")
        self.who.setWordWrap(True)
        col.addWidget(self.heading)
        col.addWidget(self.who)

        self.lines = QTableWidget(0, 5)
        self.lines.setHorizontalHeaderLabels(["Item", "Description", "Qty", "Price", "Amount"])
        self.lines.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.verticalHeader().setVisible(False)
        col.addWidget(self.lines, 1)

        add_row = QHBoxLayout()
        self.catalogue = QComboBox()
        for item in billing.list_items(ctx):
            self.catalogue.addItem(
                f"{item.code} — {item.name} ({format_money(item.price_cents)})", item.id
            )
        self.add_button = QPushButton("Add item")
        self.add_button.clicked.connect(self.on_add_item)
        self.remove_button = QPushButton("Remove line")
        self.remove_button.clicked.connect(self.on_remove_line)
        add_row.addWidget(self.catalogue, 1)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.remove_button)
        col.addLayout(add_row)

        self.totals = QLabel()
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.totals.setStyleSheet("font-size: 14px;")
        col.addWidget(self.totals)

        form = QFormLayout()
        self.method = method_combo()
        self.amount = QLineEdit()
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Terminal receipt number (optional)")
        self.use_credit = QCheckBox()
        form.addRow("Paid by", self.method)
        form.addRow("Amount", self.amount)
        form.addRow("Reference", self.reference)
        form.addRow("", self.use_credit)
        col.addLayout(form)

        self.status = QLabel()
        self.status.setWordWrap(True)
        col.addWidget(self.status)
        buttons = QHBoxLayout()
        self.pay_button = QPushButton("Issue and take payment")
        self.pay_button.setProperty("primary", True)
        self.pay_button.setDefault(True)
        self.pay_button.clicked.connect(self.on_issue_and_pay)
        self.issue_button = QPushButton("Issue only")
        self.issue_button.clicked.connect(self.on_issue_only)
        self.print_receipt = QPushButton("Print receipt")
        self.print_receipt.clicked.connect(self.on_print_receipt)
        self.save_receipt = QPushButton("Save receipt PDF")
        self.save_receipt.clicked.connect(self.on_save_receipt)
        self.print_invoice = QPushButton("Print invoice")
        self.print_invoice.clicked.connect(self.on_print_invoice)
        self.close_button = close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for b in (
            self.pay_button,
            self.issue_button,
            self.print_receipt,
            self.save_receipt,
            self.print_invoice,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        col.addLayout(buttons)
        self.reload()

    # -- state -----------------------------------------------------------------------------
    def reload(self) -> None:
        view = billing.invoice_view(self.ctx, self.invoice_id, with_credit=True)
        self.view: InvoiceView = view
        draft = view.status == "draft"
        title = "Draft invoice" if draft else f"Invoice {view.number}"
        self.heading.setText(f"Checkout — {title}")
        payer = f" · billed to {view.payer.name}" if view.payer else ""
        ref = f" (ref. {view.payer.reference})" if view.payer and view.payer.reference else ""
        self.who.setText(f"{view.patient.name}{payer}{ref} · {view.practitioner}")
        self.lines.setRowCount(0)
        for ln in view.lines:
            r = self.lines.rowCount()
            self.lines.insertRow(r)
            self.lines.setItem(r, 0, text_item(ln.item_number, ln.id))
            self.lines.setItem(r, 1, text_item(ln.description))
            self.lines.setItem(r, 2, text_item(str(ln.quantity)))
            self.lines.setItem(r, 3, money_item(ln.unit_price_cents))
            self.lines.setItem(r, 4, money_item(ln.total_cents))
        self.lines.resizeColumnToContents(0)  # an NDIS item number is 15 characters
        owing = view.owing_cents if not draft else view.total_cents
        gst = f" (includes GST {format_money(view.tax_cents)})" if view.tax_cents else ""
        self.totals.setText(
            f"<b>Total {format_money(view.total_cents)}</b>{gst} · owing {format_money(owing)}"
        )
        for w in (self.catalogue, self.add_button, self.remove_button, self.issue_button):
            w.setEnabled(draft)
        self.pay_button.setText("Issue and take payment" if draft else "Take payment")
        self.pay_button.setEnabled(owing > 0 or (draft and bool(view.lines)))
        if self.payment_id is None:  # after a payment the amount stays empty (no re-charge)
            # A third-party payer (health fund, DVA, NDIS) pays later: nothing to take now.
            due_now = 0 if view.payer is not None else max(owing, 0)
            self.amount.setText(format_money(due_now, ""))
            set_method_for_payer(self.method, view.payer is not None)
        self.use_credit.setVisible(view.account_credit_cents > 0)
        self.use_credit.setText(
            f"Use account credit first ({format_money(view.account_credit_cents)})"
        )
        has_receipt = self.payment_id is not None
        self.print_receipt.setEnabled(has_receipt)
        self.save_receipt.setEnabled(has_receipt)
        self.print_invoice.setEnabled(not draft)

    def _draft_lines(self) -> list[billing.DraftLine]:
        return [
            billing.DraftLine(
                description=ln.description,
                unit_price_cents=ln.unit_price_cents,
                quantity=ln.quantity,
                discount_bp=ln.discount_bp,
                taxable=ln.taxable,
                catalogue_item_id=ln.catalogue_item_id,
                item_number=ln.item_number,
                appointment_id=ln.appointment_id,
                service_date=ln.service_date,
            )
            for ln in self.view.lines
        ]

    def _header(self) -> billing.DraftHeader:
        v = self.view
        return billing.DraftHeader(
            patient_id=v.patient_id,
            payer_funder_id=v.payer_funder_id,
            payer_reference=v.payer.reference if v.payer else "",
            practitioner_id=v.practitioner_id,
            notes=v.notes,
        )

    # -- actions -----------------------------------------------------------------------------
    def on_add_item(self) -> None:
        item_id = self.catalogue.currentData()
        if not item_id:
            return
        run_op(
            lambda: billing.add_catalogue_line(self.ctx, self.invoice_id, item_id),
            in_box(self, "Checkout"),
            refresh=self.reload,
        )

    def on_remove_line(self) -> None:
        row = self.lines.currentRow()
        if row < 0:
            return
        lines = self._draft_lines()
        del lines[row]
        run_op(
            lambda: billing.update_draft(self.ctx, self.invoice_id, self._header(), lines),
            in_box(self, "Checkout"),
            refresh=self.reload,
        )

    def _issue(self) -> bool:
        if self.view.status != "draft":
            return True
        issued = run_op(
            lambda: billing.issue_invoice(self.ctx, self.invoice_id), in_box(self, "Checkout")
        )
        if not issued:
            return False
        self.status.setText(f"Invoice {issued.get()} issued.")
        self.reload()
        return True

    def on_issue_only(self) -> None:
        self._issue()

    def on_issue_and_pay(self) -> None:
        if self.payment_id is not None and not self.amount.text().strip():
            self.status.setText("Type the amount of another payment first.")
            self.amount.setFocus()
            return
        typed = run_op(lambda: parse_money(self.amount.text()), in_box(self, "Checkout"))
        if not typed:
            return
        amount = typed.get()
        if not self._issue():
            return
        if amount == 0:
            return
        if self.use_credit.isVisible() and self.use_credit.isChecked():
            credit = run_op(
                lambda: billing.apply_credit(self.ctx, self.invoice_id), in_box(self, "Checkout")
            )
            if not credit:
                return
            used = credit.get()
            amount = max(0, amount - used)
            self.reload()
            if amount == 0:
                self.status.setText(f"Paid from account credit ({format_money(used)}).")
                return
        result = pay_with_offer(
            self,
            self.ctx,
            [self.invoice_id],
            self.method.currentData(),
            amount,
            self.reference.text(),
        )
        if result is None:
            return
        self.payment_id = result.payment_id
        self.receipt_number = result.receipt_number
        # Taken: Enter must not charge again. The amount is cleared and Enter now closes;
        # another payment needs the amount typed and the button pressed.
        self.amount.clear()
        self.pay_button.setDefault(False)
        self.pay_button.setAutoDefault(False)
        self.close_button.setDefault(True)
        extra = (
            f" {format_money(result.credit_cents)} kept as account credit."
            if result.credit_cents
            else ""
        )
        self.status.setText(
            f"Paid {format_money(amount)} by {self.method.currentText()} on "
            f"invoice {self.view.number}.{extra} Receipt {result.receipt_number} is ready."
        )
        self.reload()

    def receipt_pdf(self) -> bytes:
        assert self.payment_id is not None
        return render_receipt(billing.receipt_view(self.ctx, self.payment_id))

    def on_print_receipt(self) -> None:
        if self.payment_id:
            print_pdf(self, self.receipt_pdf(), "receipt")

    def on_save_receipt(self) -> None:
        if self.payment_id:
            path = save_pdf(
                self, self.receipt_pdf(), f"receipt-{self.receipt_number or self.view.number}.pdf"
            )
            if path:
                self.status.setText(f"Receipt saved to {path}.")

    def on_print_invoice(self) -> None:
        print_pdf(
            self,
            render_invoice(billing.invoice_view(self.ctx, self.invoice_id)),
            f"invoice {self.view.number}",
        )
