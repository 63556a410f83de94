"""Billing → Debtors: what patients and third-party payers owe, by age, for the whole clinic.
Loaded on a worker thread; a statement can be saved for any debtor."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.billing import AgeBucket
from frontdesk.domain.money import format_money
from frontdesk.services import billing, clinic_settings
from frontdesk.services.billing.ledger import AgedDebtors, DebtorRow
from frontdesk.services.documents import render_statement
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import save_pdf
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op, show_error
from frontdesk.ui.row_table import Column, RowModel, money_column, row_table, source_row
from frontdesk.ui.workers import run_in_background


def _bucket_column(bucket: AgeBucket) -> Column[DebtorRow]:
    return money_column(bucket.label, lambda r: r.buckets[bucket])


DEBTOR_COLUMNS: list[Column[DebtorRow]] = [
    Column("Debtor", lambda r: r.name, stretch=True),
    Column("Kind", lambda r: "Payer" if r.is_payer else "Patient"),
    *[_bucket_column(b) for b in AgeBucket],
    money_column("Total", lambda r: r.total_cents),
]


class DebtorsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.loading = False
        col = QVBoxLayout(self)
        self.summary = QLabel("Loading…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.summary)
        self.model: RowModel[DebtorRow] = RowModel(
            DEBTOR_COLUMNS, key=lambda r: r.debtor, parent=self
        )
        self.table = row_table(self.model, "debtorsTable")
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
        self.model.replace_all(aged.rows)
        parts = " · ".join(f"{b.label} {format_money(aged.totals[b])}" for b in AgeBucket)
        self.summary.setText(
            f"<b>Owing {format_money(aged.total_cents)}</b> from "
            f"{len(aged.rows)} debtors on {aged.as_of:%d/%m/%Y} — {parts}"
        )

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("invoices", "payment_allocations", "credit_notes") and self.isVisible():
            self.reload()

    def on_statement(self) -> None:
        row = source_row(self.table)
        if row is None:
            return
        debtor = self.model.row(row).debtor
        end = billing.business_day(self.ctx)
        done = run_op(
            lambda: billing.statement(self.ctx, debtor, end - timedelta(days=90), end),
            in_box(self, "Billing"),
        )
        if done:
            st = done.get()
            data = render_statement(st, clinic_settings.clinic_info(self.ctx))
            save_pdf(self, data, f"statement-{st.name.replace(' ', '-').lower()}.pdf")
