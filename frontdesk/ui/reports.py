"""The Reports area: the dashboard first, then any report for a period as charts and a table,
saved as PDF, CSV or Excel, or printed.

Every figure and report is computed on a worker thread with a progress bar and a Stop button;
the screen refreshes itself when a change notice (a local edit or a sync) touches its data.
A little over 400 lines: the page is one controller (what is shown, runs, saving); the
dashboard, charts and accounting dialog already live in their own modules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QDate, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.services import clinic_settings, report_export, reports
from frontdesk.services.dashboard import Dashboard, Figure, dashboard, week_of
from frontdesk.services.permissions import Action, allowed
from frontdesk.services.report_sql import may_see_revenue
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui import start_page
from frontdesk.ui.accounting_dialog import AccountingExportDialog
from frontdesk.ui.billing.common import print_pdf
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.chart_views import chart_view
from frontdesk.ui.dashboard import DashboardView
from frontdesk.ui.diary import desk_prefs
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.row_table import Column, RowModel, fit_columns, row_table
from frontdesk.ui.workers import run_in_background

# tables whose changes move a figure: refresh what is shown when one of them changes
WATCHED = ("appointments", "invoices", "payments", "credit_notes", "payment_allocations",
           "roster_entries", "leave", "practitioners", "patients")  # fmt: skip
DASHBOARD = "Dashboard"


class Stopped(Exception):
    """The person pressed Stop: the work ends at its next step."""


class _Progress(QObject):
    step = Signal(int, int, object)


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportsPage(QWidget):
    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        parent: QWidget | None = None,
        prefs: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prefs = prefs if prefs is not None else desk_prefs(ctx, parent)
        self.report: reports.Report | None = None
        self.dashboard: Dashboard | None = None
        self.shown_period: reports.Period | None = None
        today = ctx.clock.now().astimezone(ctx.tz).date()
        title = QLabel("Reports")
        title.setObjectName("pageTitle")
        self.kind = QComboBox()
        self.kind.setObjectName("reportKind")
        self.kind.setMinimumContentsLength(30)
        self.kind.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.kind.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._fill_kinds()
        self.first = QDateEdit(_qdate(today.replace(day=1)))
        self.last = QDateEdit(_qdate(today))
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.preset = QComboBox()
        self.preset.addItems(["This month", "Last month", "This week", "This financial year",
                              "Last 12 months"])  # fmt: skip
        self.preset.activated.connect(self._apply_preset)
        self.run_button = QPushButton("Show")
        self.run_button.setProperty("primary", True)
        self.run_button.clicked.connect(self.run_report)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.setObjectName("savePdf")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.export_button = QPushButton("CSV…")
        self.export_button.clicked.connect(lambda: self.export("csv"))
        self.excel_button = QPushButton("Excel…")
        self.excel_button.clicked.connect(lambda: self.export("xlsx"))
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_report)
        self.accounting_button = QPushButton("Export to accounting…")
        self.accounting_button.setObjectName("accountingExport")
        self.accounting_button.clicked.connect(self.accounting_export)
        self.period_bar = QWidget()
        bar = QHBoxLayout(self.period_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.preset, QLabel("From"), self.first, QLabel("to"), self.last,
                  self.run_button, self.pdf_button, self.export_button, self.excel_button,
                  self.print_button):  # fmt: skip
            bar.addWidget(w)
        bar.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.kind)
        top.addStretch(1)
        self.start_here = QCheckBox("Open frontdesk on this dashboard when I sign in")
        self.start_here.setObjectName("openOnDashboard")
        self.start_here.setChecked(start_page.opens_on_dashboard(self.prefs, ctx.actor))
        self.start_here.toggled.connect(
            lambda on: start_page.set_opens_on_dashboard(self.prefs, self.ctx.actor, on)
        )
        top.addWidget(self.start_here)
        top.addWidget(self.accounting_button)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setObjectName("reportProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopReport")
        self.stop_button.clicked.connect(self.stop)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.progress)
        status_row.addWidget(self.stop_button)

        self.dashboard_view = DashboardView()
        self.dashboard_view.open_report.connect(self.open_figure)
        self.model: RowModel[ReportLine] = RowModel(
            [Column("—", lambda _r: "")], key=lambda r: r.number, parent=self
        )
        self.model.bold = lambda line: line.total
        self.table = row_table(self.model, "reportTable", sortable=False)
        # columns keep the width of their contents; the last one does not fill the window
        self.table.horizontalHeader().setStretchLastSection(False)
        self.charts_box = QWidget()
        self.charts_row = QHBoxLayout(self.charts_box)
        self.charts_row.setContentsMargins(0, 0, 0, 0)
        self.charts_box.setMinimumHeight(260)
        report_page = QWidget()
        report_col = QVBoxLayout(report_page)
        report_col.setContentsMargins(0, 0, 0, 0)
        report_col.addWidget(self.charts_box, 2)
        report_col.addWidget(self.table, 3)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.dashboard_view)
        self.stack = QStackedWidget()
        self.stack.addWidget(scroll)
        self.stack.addWidget(report_page)

        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        col.addLayout(top)
        # the period and the buttons on a row of their own: beside the report list they were
        # squeezed to unreadable slivers in a 1280-wide window
        col.addWidget(self.period_bar)
        col.addLayout(status_row)
        col.addWidget(self.stack, 1)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        bus.changed.connect(self._on_changed)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(1500)
        self._refresh_timer.timeout.connect(self.refresh)
        self._shown_once = False
        self._request = 0
        self._stop = threading.Event()
        self._save_stop = threading.Event()
        self.saving = False
        self._set_busy(False)
        self._show_mode()
        self.accounting_button.setVisible(self.accounting_button_visible)

    # -- what is shown -------------------------------------------------------------------
    def _fill_kinds(self) -> None:
        names = [DASHBOARD, *reports.REPORTS]
        if not may_see_revenue(self.ctx):
            names = [n for n in names if n not in reports.MONEY_REPORTS]
        # the accounting export is for those who always see revenue (not reception)
        self.accounting_button_visible = allowed(self.ctx.actor.role, Action.VIEW_REVENUE)
        self.kind.blockSignals(True)
        self.kind.clear()
        self.kind.addItems(names)
        self.kind.blockSignals(False)

    def on_dashboard(self) -> bool:
        return self.kind.currentText() == DASHBOARD

    def _show_mode(self) -> None:
        dash = self.on_dashboard()
        self.period_bar.setVisible(not dash)
        self.start_here.setVisible(dash and start_page.may_choose(self.ctx.actor))
        self.stack.setCurrentIndex(0 if dash else 1)

    def _kind_changed(self, _index: int) -> None:
        self._show_mode()
        self.refresh()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def refresh(self) -> None:
        if self.saving:  # the report being saved stays shown; refresh once it is written
            self._refresh_timer.start()
            return
        if self.on_dashboard():
            self.run_dashboard()
        else:
            self.run_report()

    def open_figure(self, figure: Figure) -> None:
        """Open the report behind a dashboard figure, for the figure's period."""
        self.first.setDate(_qdate(figure.period.first))
        self.last.setDate(_qdate(figure.period.last))
        self.kind.setCurrentText(figure.report)  # runs it

    def _apply_preset(self, index: int) -> None:
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        if index == 0:
            first, last = today.replace(day=1), today
        elif index == 1:
            last = today.replace(day=1) - timedelta(days=1)
            first = last.replace(day=1)
        elif index == 2:
            week = week_of(today)
            first, last = week.first, week.last
        elif index == 3:
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

    # -- running off the GUI thread --------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.stop_button.setVisible(busy)
        for b in (self.pdf_button, self.export_button, self.excel_button, self.print_button):
            b.setEnabled(not busy and self.report is not None)

    def _start(self) -> int:
        self._stop.set()  # an older run still going stops at its next step
        self._stop = threading.Event()
        self._request += 1
        self._set_busy(True)
        self.progress.setRange(0, 0)
        self.status.setText("Working…")
        return self._request

    def stop(self) -> None:
        self._save_stop.set()  # a save or print being laid out stops too (no file left)
        self.saving = False
        self._stop.set()
        self._request += 1  # whatever is still running is no longer wanted
        self._set_busy(False)
        self.status.setText("Stopped.")

    def run_dashboard(self) -> None:
        request = self._start()
        stop = self._stop
        ticker = _Progress(self)
        ticker.step.connect(lambda done, of, so_far: self._tick(request, done, of, so_far))

        def progress(done: int, of: int, so_far: Dashboard) -> None:
            if stop.is_set():
                raise Stopped
            ticker.step.emit(done, of, so_far)

        run_in_background(
            lambda: dashboard(self.ctx, progress=progress),
            lambda d: self._show_dashboard(d) if self._wanted(request) else None,
            lambda exc: self._failed(exc) if self._wanted(request) else None,
        )

    def _wanted(self, request: int) -> bool:
        """The newest run's result, and the page still exists (a run can outlive it)."""
        return shiboken6.isValid(self) and request == self._request

    def _tick(self, request: int, done: int, of: int, so_far: Dashboard) -> None:
        if not self._wanted(request):
            return
        self.progress.setRange(0, of)
        self.progress.setValue(done)
        if self.dashboard is None and done < of:  # the first time: show figures as they come
            self.dashboard_view.show_dashboard(so_far, clinic_settings.currency_symbol(self.ctx))

    def _show_dashboard(self, dash: Dashboard) -> None:
        self._set_busy(False)
        self.dashboard = dash
        self.dashboard_view.show_dashboard(dash, clinic_settings.currency_symbol(self.ctx))
        self.status.setText(f"Today and this week, {dash.today:%A %d %B %Y}. "
                            "Click a figure to open its report.")  # fmt: skip

    def run_report(self) -> None:
        if self.on_dashboard():
            return
        chosen = run_op(self.period, in_label(self.status))
        if not chosen:
            return
        period = chosen.get()
        fn = reports.REPORTS[self.kind.currentText()]
        # Only the newest request may fill the table: an older, slower report that finishes
        # later must not replace what the user asked for since.
        request = self._start()
        run_in_background(
            lambda: fn(self.ctx, period),
            lambda report: self._show(report, period) if self._wanted(request) else None,
            lambda exc: self._failed(exc) if self._wanted(request) else None,
        )

    def _show(self, report: reports.Report, period: reports.Period) -> None:
        self.report = report
        self.shown_period = period
        self._set_busy(False)
        symbol = clinic_settings.currency_symbol(self.ctx)
        lines = [ReportLine(i, report.formatted(r, symbol)) for i, r in enumerate(report.rows)]
        if report.totals:
            lines.append(ReportLine(len(lines), report.formatted(report.totals, symbol), True))
        self.model.reset(lines, [_column(i, c) for i, c in enumerate(report.columns)])
        fit_columns(self.table)
        while self.charts_row.count():
            item = self.charts_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        tallest = 260
        for chart in report.charts:
            view = chart_view(chart, self.charts_box)
            self.charts_row.addWidget(view, 1)  # equal widths
            tallest = max(tallest, view.minimumHeight())
        self.charts_box.setMinimumHeight(tallest)  # twenty names on their side: not cut off
        self.charts_box.setVisible(bool(report.charts))
        note = f" {report.note}" if report.note else ""
        self.status.setText(f"{report.title}, {period.label()}: {len(report.rows)} rows.{note}")
        self._set_busy(False)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, Stopped):
            self.status.setText("Stopped.")
            return
        if isinstance(exc, FrontdeskError):
            self.status.setText(exc.user_message)
            return
        raise exc

    # -- saving and printing ---------------------------------------------------------------
    def export(self, kind: str) -> None:
        if self.report is None or self.shown_period is None:
            return
        labels = {"pdf": "PDF files (*.pdf)", "csv": "CSV files (*.csv)",
                  "xlsx": "Excel workbooks (*.xlsx)"}  # fmt: skip
        suggested = report_export.default_name(self.report, self.shown_period, kind)
        name, _ = QFileDialog.getSaveFileName(self, "Save report", suggested, labels[kind])
        if not name:
            return
        path = Path(name if name.lower().endswith(f".{kind}") else f"{name}.{kind}")
        self.save_to(path)

    def save_to(self, path: Path) -> None:
        """Write the shown report to ``path`` on a worker thread, the layout's progress in
        the bar, Stop abandoning it (no file left)."""
        if self.report is None or self.shown_period is None:
            return
        report, period = self.report, self.shown_period
        self._render(f"Saving {path.name}…",
                     lambda progress: report_export.save(self.ctx, report, period, path, progress),
                     lambda _none: self.status.setText(f"Saved {path}"))  # fmt: skip

    def print_report(self) -> None:
        if self.report is None or self.shown_period is None:
            return
        report, period = self.report, self.shown_period
        self._render("Preparing to print…",
                     lambda progress: report_export.report_pdf(self.ctx, report, period, progress),
                     lambda data: self._print(data, report.title))  # fmt: skip

    def _print(self, data: bytes, title: str) -> None:
        self.status.setText("")
        print_pdf(self, data, title)

    def _render(
        self,
        what: str,
        work: Callable[[Callable[[int, int], None]], object],
        done: Callable[[Any], None],
    ) -> None:
        stop = threading.Event()
        self._save_stop = stop
        ticker = _Progress(self)
        ticker.step.connect(lambda n, of, _x: self._save_tick(stop, n, of))

        def progress(n: int, of: int) -> None:
            if stop.is_set():
                raise Stopped
            ticker.step.emit(n, of, None)

        def finished(result: object) -> None:
            if self._saving_ended(stop):
                done(result)

        def failed(exc: BaseException) -> None:
            if not self._saving_ended(stop):
                return
            if isinstance(exc, OSError):
                QMessageBox.warning(self, "Save report",
                                    f"The file could not be saved: {exc.strerror}")  # fmt: skip
            elif isinstance(exc, FrontdeskError) and not isinstance(exc, Stopped):
                QMessageBox.warning(self, "Save report", exc.user_message)
            else:
                self._failed(exc)

        self.saving = True
        self._set_busy(True)
        self.progress.setRange(0, 0)
        self.status.setText(what)
        run_in_background(lambda: work(progress), finished, failed)

    def _save_tick(self, stop: threading.Event, n: int, of: int) -> None:
        if shiboken6.isValid(self) and stop is self._save_stop and not stop.is_set():
            self.progress.setRange(0, of)
            self.progress.setValue(n)

    def _saving_ended(self, stop: threading.Event) -> bool:
        """The save or print run with ``stop`` ended: True when its result is still wanted."""
        if not shiboken6.isValid(self) or stop is not self._save_stop:
            return False
        self.saving = False
        self._set_busy(False)
        return not stop.is_set()

    def accounting_export(self) -> None:
        dialog = AccountingExportDialog(self.ctx, self)
        if dialog.exec() and dialog.result_files:
            names = ", ".join(p.name for p in dialog.result_files)
            self.status.setText(f"Exported {names} to {dialog.result_files[0].parent}")

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("clinic_settings", "staff_users"):
            current = self.kind.currentText()
            self._fill_kinds()
            self.accounting_button.setVisible(self.accounting_button_visible)
            if self.kind.findText(current) >= 0:
                self.kind.setCurrentText(current)
        if self._shown_once and notice.touches(*WATCHED):
            self._refresh_timer.start()  # several notices in a row make one refresh


@dataclass(frozen=True)
class ReportLine:
    number: int
    cells: list[str]
    total: bool = False


def _column(i: int, column: reports.Column) -> Column[ReportLine]:
    return Column(column.title, lambda line: line.cells[i], right=column.kind != "text")


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ReportsPage(ctx, bus, parent)
