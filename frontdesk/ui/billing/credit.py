"""A credit note on an issued invoice: the whole of it, or chosen amounts per line."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money, parse_money
from frontdesk.services import billing
from frontdesk.services.billing.views import InvoiceView
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_box, run_op


class CreditNoteDialog(QDialog):
    def __init__(self, ctx: ServiceContext, view: InvoiceView, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.view = ctx, view
        self.credit_note_id: str | None = None
        self.setWindowTitle(f"Credit note for {view.number}")
        col = QVBoxLayout(self)
        col.addWidget(
            QLabel(
                f"Invoice {view.number}: total {format_money(view.total_cents)}, "
                f"already credited {format_money(view.credited_cents)}."
            )
        )
        self.whole = QCheckBox("Credit everything not yet credited")
        self.whole.setChecked(True)
        col.addWidget(self.whole)
        form = QFormLayout()
        self.amounts: dict[str, QLineEdit] = {}
        for ln in view.lines:
            edit = QLineEdit("0.00")
            edit.setEnabled(False)
            self.whole.toggled.connect(lambda on, e=edit: e.setEnabled(not on))
            self.amounts[ln.id] = edit
            form.addRow(f"{ln.description} ({format_money(ln.total_cents)})", edit)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why, e.g. “Brace returned unused”")
        form.addRow("Reason", self.reason)
        col.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Issue credit note")
        buttons.accepted.connect(self.on_accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)

    def on_accept(self) -> None:
        done = run_op(self._issue, in_box(self, "Billing"))
        if done:
            self.credit_note_id = done.get()
            self.accept()

    def _issue(self) -> str:
        amounts = None
        if not self.whole.isChecked():
            amounts = {k: parse_money(e.text()) for k, e in self.amounts.items()}
        return billing.issue_credit_note(self.ctx, self.view.id, self.reason.text(), amounts)
