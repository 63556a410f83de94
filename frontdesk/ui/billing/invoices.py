"""Billing → Invoices: the invoice list with filters, new invoices by hand, and printing all of a
day's invoices on a worker thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import InvoiceStatus
from frontdesk.services import billing
from frontdesk.services.billing.listing import InvoiceRow
from frontdesk.services.documents import print_invoices_for_day
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import py_date
from frontdesk.ui.billing.invoice_dialog import InvoiceDialog
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op, show_error
from frontdesk.ui.patient_picker import choose_patient
from frontdesk.ui.row_table import (
    Column,
    RowModel,
    fit_columns,
    money_column,
    row_table,
    source_row,
)
from frontdesk.ui.workers import run_in_background

BILLING_TABLES = ("invoices", "invoice_lines", "payments", "payment_allocations", "credit_notes")
LIST_LIMIT = 20_000  # a year of a busy clinic; the model shows them without refilling cells


def _newest_first(row: InvoiceRow) -> tuple[bool, int, tuple[int, ...]]:
    """The service's order as an ascending key: drafts first, then newest issue date, then
    highest number."""
    day = -row.issue_date.toordinal() if row.issue_date else 0
    return (row.issue_date is not None, day, (*(-ord(ch) for ch in row.number), 1))


def _issued(row: InvoiceRow) -> str:
    return f"{row.issue_date:%d/%m/%Y}" if row.issue_date else ""


INVOICE_COLUMNS: list[Column[InvoiceRow]] = [
    Column("Number", lambda r: r.number),
    Column("Status", lambda r: r.status.capitalize()),
    Column("Issued", _issued, lambda r: r.issue_date.isoformat() if r.issue_date else ""),
    Column("Patient", lambda r: r.patient, stretch=True),
    Column("Payer", lambda r: r.payer),
    Column("Practitioner", lambda r: r.practitioner),
    money_column("Total", lambda r: r.total_cents),
    money_column("Owing", lambda r: r.owing_cents),
]


def qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class InvoiceListPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.limit = LIST_LIMIT
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
        filters.addStretch(1)  # the search box stops at a readable width; the rest is space
        col.addLayout(filters)
        self.model: RowModel[InvoiceRow] = RowModel(
            INVOICE_COLUMNS, key=lambda r: r.id, order=_newest_first, parent=self
        )
        self.table = row_table(self.model, "invoiceTable")
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
        self._first_fill = True
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
            limit=self.limit,
        )

    def reload(self) -> None:
        """Fill the list afresh (it opened, or a filter changed)."""
        self.model.reset(billing.list_invoices(self.ctx, self.current_filter()))
        if self._first_fill and self.model.rowCount():
            fit_columns(self.table)
            self._first_fill = False
        self._summarise()

    def _summarise(self) -> None:
        rows = self.model.rows
        total = sum(r.total_cents for r in rows if r.status == "issued")
        owing = sum(r.owing_cents for r in rows)
        more = "+" if len(rows) >= self.limit else ""
        self.summary.setText(
            f"{len(rows):,}{more} invoices · issued {format_money(total)} · "
            f"owing {format_money(owing)}"
        )

    def _on_changed(self, notice: ChangeNotice) -> None:
        """Re-read only the invoices the change touched, and update their rows."""
        if not notice.touches(*BILLING_TABLES):
            return
        touched = billing.invoices_touched(self.ctx, notice.ids)
        if not touched:
            return
        fresh = billing.list_invoices(
            self.ctx, replace(self.current_filter(), invoice_ids=frozenset(touched))
        )
        self.model.remove(touched - {r.id for r in fresh})
        self.model.upsert(fresh)
        self._summarise()

    def selected_id(self) -> str | None:
        row = source_row(self.table)
        return self.model.row(row).id if row is not None else None

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
