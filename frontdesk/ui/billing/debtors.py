"""Billing → Debtors: what patients and third-party payers owe, by age, for the whole clinic.
Loaded on a worker thread; a statement can be saved for any debtor."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.billing import AgeBucket
from frontdesk.domain.money import format_money
from frontdesk.services import billing, clinic_settings
from frontdesk.services.billing.ledger import AgedDebtors
from frontdesk.services.documents import render_statement
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import money_item, save_pdf, text_item
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op, show_error
from frontdesk.ui.workers import run_in_background


class DebtorsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.loading = False
        col = QVBoxLayout(self)
        self.summary = QLabel("Loading…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.summary)
        headers = ["Debtor", "Kind", *[b.label for b in AgeBucket], "Total"]
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("debtorsTable")
        self.table.setHorizontalHeaderLabels(headers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        col.addWidget(self.table, 1)
        bar = QHBoxLayout()
        bar.addStretch(1)
        statement = QPushButton("Save statement as PDF…")
        statement.clicked.connect(self.on_statement)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.reload)
        bar.addWidget(statement)
        bar.addWidget(refresh)
        col.addLayout(bar)
        bus.changed.connect(self._on_changed)
        self.rows: list[billing.Debtor] = []
        self.reload()

    def reload(self) -> None:
        if self.loading:
            return
        self.loading = True
        run_in_background(lambda: billing.aged_debtors(self.ctx), self.show_result, self.failed)

    def failed(self, exc: BaseException) -> None:
        self.loading = False
        show_error(self, exc, "Billing")

    def show_result(self, aged: AgedDebtors) -> None:
        self.loading = False
        shown = aged.rows[:1000]
        self.rows = [r.debtor for r in shown]
        self.table.setRowCount(len(shown))
        for r, row in enumerate(shown):
            self.table.setItem(r, 0, text_item(row.name))
            self.table.setItem(r, 1, text_item("Payer" if row.is_payer else "Patient"))
            for c, bucket in enumerate(AgeBucket, start=2):
                self.table.setItem(r, c, money_item(row.buckets[bucket]))
            self.table.setItem(r, 6, money_item(row.total_cents))
        parts = " · ".join(f"{b.label} {format_money(aged.totals[b])}" for b in AgeBucket)
        self.summary.setText(
            f"<b>Owing {format_money(aged.total_cents)}</b> from "
            f"{len(aged.rows)} debtors on {aged.as_of:%d/%m/%Y} — {parts}"
        )

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("invoices", "payment_allocations", "credit_notes") and self.isVisible():
            self.reload()

    def on_statement(self) -> None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.rows):
            return
        end = billing.business_day(self.ctx)
        done = run_op(
            lambda: billing.statement(self.ctx, self.rows[row], end - timedelta(days=90), end),
            in_box(self, "Billing"),
        )
        if done:
            st = done.get()
            data = render_statement(st, clinic_settings.clinic_info(self.ctx))
            save_pdf(self, data, f"statement-{st.name.replace(' ', '-').lower()}.pdf")
