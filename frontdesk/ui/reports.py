"""The Reports area: pick a report and a period, see the table, export it to CSV.

Reports run on a worker thread so a ten-year range never freezes the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.services import clinic_settings, reports
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.row_table import Column, RowModel, fit_columns, row_table
from frontdesk.ui.workers import run_in_background


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: reports.Report | None = None
        today = ctx.clock.now().astimezone(ctx.tz).date()
        title = QLabel("Reports")
        title.setObjectName("pageTitle")
        self.kind = QComboBox()
        self.kind.setObjectName("reportKind")
        self.kind.addItems(list(reports.REPORTS))
        self.first = QDateEdit(_qdate(today.replace(day=1)))
        self.last = QDateEdit(_qdate(today))
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.preset = QComboBox()
        self.preset.addItems(["This month", "Last month", "This financial year", "Last 12 months"])
        self.preset.activated.connect(self._apply_preset)
        self.run_button = QPushButton("Show")
        self.run_button.setProperty("primary", True)
        self.run_button.clicked.connect(self.run_report)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(False)
        bar = QHBoxLayout()
        for w in (self.kind, self.preset, QLabel("From"), self.first, QLabel("to"), self.last,
                  self.run_button, self.export_button):  # fmt: skip
            bar.addWidget(w)
        bar.addStretch(1)
        self.status = QLabel("Choose a report and press Show.")
        self.status.setObjectName("muted")
        self.model: RowModel[ReportLine] = RowModel(
            [Column("—", lambda _r: "")], key=lambda r: r.number, parent=self
        )
        self.model.bold = lambda line: line.total
        self.table = row_table(self.model, "reportTable", sortable=False)
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        col.addWidget(title)
        col.addLayout(bar)
        col.addWidget(self.status)
        col.addWidget(self.table, 1)
        self.kind.currentIndexChanged.connect(lambda _i: self.run_report())
        bus.changed.connect(self._on_changed)
        self._shown_once = False
        self._request = 0

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._shown_once:
            self._shown_once = True
            self.run_report()

    def _apply_preset(self, index: int) -> None:
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        if index == 0:
            first, last = today.replace(day=1), today
        elif index == 1:
            last = today.replace(day=1) - timedelta(days=1)
            first = last.replace(day=1)
        elif index == 2:
            start_year = today.year if today.month >= 7 else today.year - 1
            first, last = date(start_year, 7, 1), today
        else:
            first, last = today - timedelta(days=365), today
        self.first.setDate(_qdate(first))
        self.last.setDate(_qdate(last))
        self.run_report()

    def period(self) -> reports.Period:
        f, lst = self.first.date(), self.last.date()
        return reports.Period(date(f.year(), f.month(), f.day()),
                              date(lst.year(), lst.month(), lst.day()))  # fmt: skip

    def run_report(self) -> None:
        chosen = run_op(self.period, in_label(self.status))
        if not chosen:
            return
        period = chosen.get()
        fn = reports.REPORTS[self.kind.currentText()]
        self.status.setText("Working…")
        # Only the newest request may fill the table: an older, slower report that finishes
        # later must not replace what the user asked for since.
        self._request += 1
        request = self._request
        run_in_background(
            lambda: fn(self.ctx, period),
            lambda report: self._show(report) if request == self._request else None,
            lambda exc: self._failed(exc) if request == self._request else None,
        )

    def _show(self, report: reports.Report) -> None:
        self.report = report
        symbol = clinic_settings.currency_symbol(self.ctx)
        lines = [ReportLine(i, report.formatted(r, symbol)) for i, r in enumerate(report.rows)]
        if report.totals:
            lines.append(ReportLine(len(lines), report.formatted(report.totals, symbol), True))
        self.model.reset(lines, [_column(i, c) for i, c in enumerate(report.columns)])
        fit_columns(self.table)
        self.status.setText(f"{report.title}: {len(report.rows)} rows")
        self.export_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, FrontdeskError):
            self.status.setText(exc.user_message)
            return
        raise exc

    def export(self) -> None:
        if self.report is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Export report", f"{self.report.title}.csv", "CSV files (*.csv)"
        )
        if not name:
            return
        try:
            reports.export_csv(self.report, Path(name))
        except OSError as exc:
            QMessageBox.warning(
                self, "Export report", f"The file could not be saved: {exc.strerror}"
            )
            return
        self.status.setText(f"Saved {name}")

    def _on_changed(self, notice: ChangeNotice) -> None:
        if self.report is not None and notice.touches("appointments", "invoices", "payments"):
            self.status.setText("Data changed — press Show to refresh.")


@dataclass(frozen=True)
class ReportLine:
    number: int
    cells: list[str]
    total: bool = False


def _column(i: int, column: reports.Column) -> Column[ReportLine]:
    return Column(column.title, lambda line: line.cells[i], right=column.kind != "text")


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ReportsPage(ctx, bus, parent)
