"""Billing → Invoices: the invoice list with filters, new invoices by hand, and printing all of a
day's invoices on a worker thread."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import InvoiceStatus
from frontdesk.services import billing
from frontdesk.services.documents import print_invoices_for_day
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import money_item, py_date, text_item
from frontdesk.ui.billing.invoice_dialog import InvoiceDialog
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op, show_error
from frontdesk.ui.patient_picker import choose_patient
from frontdesk.ui.workers import run_in_background

HEADERS = ["Number", "Status", "Issued", "Patient", "Payer", "Practitioner", "Total", "Owing"]
BILLING_TABLES = ("invoices", "invoice_lines", "payments", "payment_allocations", "credit_notes")


def qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class InvoiceListPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        col = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Patient, payer or invoice number")
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for s in InvoiceStatus:
            self.status.addItem(s.value.capitalize(), s.value)
        today = billing.business_day(ctx)
        self.start = QDateEdit(qdate(today.replace(day=1)))
        self.end = QDateEdit(qdate(today))
        for d in (self.start, self.end):
            d.setCalendarPopup(True)
            d.setDisplayFormat("dd/MM/yyyy")
        self.owing = QCheckBox("Owing only")
        for label, w in (
            ("", self.search),
            ("Status", self.status),
            ("From", self.start),
            ("to", self.end),
        ):
            if label:
                filters.addWidget(QLabel(label))
            filters.addWidget(w, 2 if w is self.search else 0)
        filters.addWidget(self.owing)
        col.addLayout(filters)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("invoiceTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        col.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        new = QPushButton("New invoice…")
        new.clicked.connect(self.on_new)
        open_b = QPushButton("Open")
        open_b.clicked.connect(self.open_selected)
        self.batch = QPushButton("Save the day's invoices as PDFs…")
        self.batch.clicked.connect(self.on_batch)
        actions.addWidget(self.summary, 1)
        for b in (new, open_b, self.batch):
            actions.addWidget(b)
        col.addLayout(actions)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        for sig in (
            self.status.currentIndexChanged,
            self.start.dateChanged,
            self.end.dateChanged,
            self.owing.toggled,
        ):
            sig.connect(lambda *_a: self.reload())
        bus.changed.connect(self._on_changed)
        self.reload()

    def current_filter(self) -> billing.InvoiceFilter:
        status = self.status.currentData()
        return billing.InvoiceFilter(
            status=InvoiceStatus(status) if status else None,
            start=py_date(self.start.date()),
            end=py_date(self.end.date()),
            text=self.search.text(),
            owing_only=self.owing.isChecked(),
        )

    def reload(self) -> None:
        rows = billing.list_invoices(self.ctx, self.current_filter())
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [
                text_item(row.number, row.id),
                text_item(row.status.capitalize()),
                text_item(f"{row.issue_date:%d/%m/%Y}" if row.issue_date else ""),
                text_item(row.patient),
                text_item(row.payer),
                text_item(row.practitioner),
                money_item(row.total_cents),
                money_item(row.owing_cents),
            ]
            for c, item in enumerate(cells):
                self.table.setItem(r, c, item)
        total = sum(r.total_cents for r in rows if r.status == "issued")
        owing = sum(r.owing_cents for r in rows)
        more = "+" if len(rows) >= self.current_filter().limit else ""
        self.summary.setText(
            f"{len(rows)}{more} invoices · issued {format_money(total)} · "
            f"owing {format_money(owing)}"
        )

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches(*BILLING_TABLES):
            self.reload()

    def selected_id(self) -> str | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def open_invoice(self, invoice_id: str) -> None:
        InvoiceDialog(self.ctx, invoice_id, self).exec()

    def open_selected(self) -> None:
        invoice_id = self.selected_id()
        if invoice_id:
            self.open_invoice(invoice_id)

    def on_new(self, patient_id: str | None = None) -> None:
        if not patient_id:
            patient_id = choose_patient(self.ctx, "New invoice: which patient?", self)
            if patient_id is None:
                return
        created = run_op(
            lambda: billing.create_draft(self.ctx, billing.DraftHeader(patient_id=patient_id), []),
            in_box(self, "Billing"),
        )
        if created:
            self.open_invoice(created.get())

    def on_batch(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the day's invoices into")
        if not folder:
            return
        day = py_date(self.end.date())
        self.batch.setEnabled(False)
        self.summary.setText(f"Writing the invoices issued on {day:%d/%m/%Y}…")

        def done(paths: list[Path]) -> None:
            self.batch.setEnabled(True)
            self.summary.setText(f"Saved {len(paths)} invoice PDFs in {folder}.")

        def failed(exc: BaseException) -> None:
            self.batch.setEnabled(True)
            show_error(self, exc, "Billing")

        run_in_background(lambda: print_invoices_for_day(self.ctx, day, Path(folder)), done, failed)
