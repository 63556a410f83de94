"""Accounting export: choose Xero or MYOB, a period and a folder; the files are written and the
export recorded. A period already exported is refused with who sent it and when; exporting it
again takes a deliberate second answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.money import format_money
from frontdesk.services import accounting_export as ax
from frontdesk.services import clinic_settings
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class AccountingExportDialog(QDialog):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Export to accounting")
        self.result_files: tuple[Path, ...] = ()
        today = ctx.clock.now().astimezone(ctx.tz).date()
        last_month_end = today.replace(day=1).toordinal() - 1
        end = date.fromordinal(last_month_end)
        self.system = QComboBox()
        self.system.setObjectName("accountingSystem")
        self.system.addItem("Xero", "xero")
        self.system.addItem("MYOB AccountRight", "myob")
        self.first = QDateEdit(_qdate(end.replace(day=1)))
        self.last = QDateEdit(_qdate(end))
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.folder = QLineEdit(str(Path.home()))
        self.folder.setObjectName("exportFolder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Program", self.system)
        form.addRow("From", self.first)
        form.addRow("To", self.last)
        form.addRow("Into folder", folder_row)
        self.follow_ups = QLabel("")
        self.follow_ups.setObjectName("followUps")
        self.follow_ups.setWordWrap(True)
        self.system.currentIndexChanged.connect(self._show_follow_ups)
        self._show_follow_ups()
        self.history = QLabel(self._history_text())
        self.history.setObjectName("muted")
        self.history.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.follow_ups)
        col.addWidget(self.history)
        col.addWidget(self.error)
        col.addWidget(buttons)

    def _history_text(self) -> str:
        try:
            past = ax.exports(self.ctx)[:3]
        except FrontdeskError:
            return ""
        if not past:
            return "Nothing has been exported yet."
        lines = [
            f"{'Xero' if e.system == 'xero' else 'MYOB'}: {e.first_day:%d/%m/%Y} – "
            f"{e.last_day:%d/%m/%Y}, {e.exported_at_local} by {e.by}"
            for e in past
        ]
        return "Last exports:\n" + "\n".join(lines)

    def _show_follow_ups(self) -> None:
        """Voids and credit notes of periods already sent: this export carries them."""
        try:
            pending = ax.follow_ups(self.ctx, self.system.currentData())
        except FrontdeskError:
            pending = []
        self.follow_ups.setVisible(bool(pending))
        if not pending:
            self.follow_ups.setText("")
            return
        symbol = clinic_settings.currency_symbol(self.ctx)
        lines = [
            (f"Invoice {f.invoice_number} voided {f.day:%d/%m/%Y}, "
             f"sent as credit note {f.number}" if f.kind == "void"
             else f"Credit note {f.number} on {f.invoice_number}, {f.day:%d/%m/%Y}")
            + f" ({format_money(f.amount_cents, symbol)})"
            for f in pending
        ]  # fmt: skip
        name = self.system.currentText()
        self.follow_ups.setText(
            f"Changed after their period was sent to {name} — this export includes them:\n"
            + "\n".join(f"• {line}" for line in lines)
        )

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def export(self, again: bool = False) -> None:
        try:
            period = Period(_pydate(self.first.date()), _pydate(self.last.date()))
            result = ax.export_period(self.ctx, self.system.currentData(), period,
                                      Path(self.folder.text()), again=again)  # fmt: skip
        except ax.AlreadyExported as exc:
            answer = QMessageBox.question(
                self, "Already exported", f"{exc.user_message}\n\nExport it again anyway?"
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.export(again=True)
            else:
                self.error.setText(exc.user_message)
            return
        except FrontdeskError as exc:
            self.error.setText(exc.user_message)
            return
        except OSError as exc:
            self.error.setText(f"The files could not be written: {exc.strerror}.")
            return
        self.result_files = result.files
        self.accept()
