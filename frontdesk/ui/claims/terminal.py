"""The claiming terminal's answer (benefit paid, gap), typed in by reception until a vendor's
SDK integration records it itself (services/claims/claims.py ``ClaimingTerminal``)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from frontdesk.domain.money import format_money, parse_money
from frontdesk.services.claims import claims as svc
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_label, run_op


class TerminalDialog(QDialog):
    """What the claiming terminal answered, typed in by reception."""

    def __init__(self, ctx: ServiceContext, row: svc.ClaimRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle(f"Terminal result for {row.invoice_number}")
        form = QFormLayout(self)
        self.benefit = QLineEdit(format_money(row.claimed_cents))
        self.benefit.setObjectName("benefit")
        self.gap = QLineEdit("$0.00")
        self.gap.setObjectName("gap")
        self.reference = QLineEdit()
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c;")
        form.addRow("&Benefit paid", self.benefit)
        form.addRow("&Gap (patient pays)", self.gap)
        form.addRow("Terminal &reference", self.reference)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        def record() -> None:
            result = svc.TerminalResult(
                parse_money(self.benefit.text(), field="benefit"),
                parse_money(self.gap.text(), field="gap"),
                self.reference.text(),
            )
            svc.record_terminal_result(self.ctx, self.row.id, result)

        if run_op(record, in_label(self.error)):
            self.accept()
