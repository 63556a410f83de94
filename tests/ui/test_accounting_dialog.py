"""The accounting export dialog: files written and recorded, a second export of the same
period refused with who sent it (unless the person answers Yes)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from billing_world import make_world
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from frontdesk.domain.clock import FakeClock
from frontdesk.services import accounting_export as ax
from frontdesk.services import billing
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext
from frontdesk.ui.accounting_dialog import AccountingExportDialog


def test_export_then_refuse_then_again(
    qtbot, ctx: ServiceContext, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    w = make_world(ctx)
    billing.issue_invoice(ctx, billing.invoice_from_appointment(ctx, w.appointments[0]))

    def run(answer: QMessageBox.StandardButton) -> AccountingExportDialog:
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answer)
        dialog = AccountingExportDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.first.setDate(dialog.first.date().addMonths(1))  # this month: 1 Nov – …
        dialog.last.setDate(dialog.first.date().addMonths(1).addDays(-1))
        dialog.folder.setText(str(tmp_path))
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        return dialog

    first = run(QMessageBox.StandardButton.No)
    assert first.result_files[0].name.startswith("Xero invoices 2026-11-01")
    assert "INV-000001" in first.result_files[0].read_text()
    refused = run(QMessageBox.StandardButton.No)
    assert refused.result_files == () and "already exported to Xero" in refused.error.text()
    again = run(QMessageBox.StandardButton.Yes)
    assert again.result_files
    assert len(ax.exports(ctx, "xero")) == 2


def test_a_void_after_export_is_listed_then_sent(
    qtbot, ctx: ServiceContext, clock: FakeClock, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    w = make_world(ctx)
    invoice = billing.invoice_from_appointment(ctx, w.appointments[0])
    billing.issue_invoice(ctx, invoice)
    day = Period(date(2026, 11, 27), date(2026, 11, 27))
    ax.export_period(ctx, "xero", day, tmp_path)
    clock.advance(timedelta(days=1))
    billing.void_invoice(ctx, invoice, "Booked twice")

    dialog = AccountingExportDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.follow_ups.isVisible()
    text = dialog.follow_ups.text()
    assert "Invoice INV-000001 voided 28/11/2026, sent as credit note INV-000001-VOID" in text
    assert "$95.00" in text
    dialog.system.setCurrentIndex(1)  # MYOB never had that period: nothing to follow up
    assert not dialog.follow_ups.isVisible()
    dialog.system.setCurrentIndex(0)
    dialog.first.setDate(QDate(2026, 11, 28))
    dialog.last.setDate(QDate(2026, 11, 28))
    dialog.folder.setText(str(tmp_path))
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert "INV-000001-VOID" in dialog.result_files[1].read_text()

    after = AccountingExportDialog(ctx)
    qtbot.addWidget(after)
    after.show()
    assert not after.follow_ups.isVisible()
