"""Billing → End of day: this desk's takings by payment method, what was counted, the variance
and a note, then close the day (reopening needs a practice manager). A closed day is
read-only and can be saved as a PDF printout."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money, parse_money
from frontdesk.domain.vocab import PaymentMethod
from frontdesk.services import billing, clinic_settings
from frontdesk.services.billing.payments import MONEY_METHODS
from frontdesk.services.documents import render_takings
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import py_date, save_pdf
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op


class EndOfDayPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        col = QVBoxLayout(self)
        top = QHBoxLayout()
        today = billing.business_day(ctx)
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("dddd dd/MM/yyyy")
        self.day.dateChanged.connect(lambda _d: self.reload())
        top.addWidget(QLabel("Takings on this desk for"))
        top.addWidget(self.day)
        top.addStretch(1)
        col.addLayout(top)
        grid = QGridLayout()
        for c, h in enumerate(("Method", "Takings", "Counted", "Variance")):
            label = QLabel(f"<b>{h}</b>")
            grid.addWidget(label, 0, c)
        self.expected: dict[PaymentMethod, QLabel] = {}
        self.counted: dict[PaymentMethod, QLineEdit] = {}
        self.variance: dict[PaymentMethod, QLabel] = {}
        for r, m in enumerate(MONEY_METHODS, start=1):
            grid.addWidget(QLabel(billing.METHOD_LABELS[m]), r, 0)
            self.expected[m] = QLabel()
            self.counted[m] = QLineEdit()
            self.counted[m].setObjectName(f"counted_{m.value}")
            self.counted[m].setMaximumWidth(160)
            self.counted[m].setPlaceholderText("0.00")
            self.counted[m].textChanged.connect(lambda _t: self.update_variance())
            self.variance[m] = QLabel()
            grid.addWidget(self.expected[m], r, 1)
            grid.addWidget(self.counted[m], r, 2)
            grid.addWidget(self.variance[m], r, 3)
        total_row = len(MONEY_METHODS) + 1
        self.total_expected = QLabel()
        self.total_counted = QLabel()
        self.total_variance = QLabel()
        grid.addWidget(QLabel("<b>Total</b>"), total_row, 0)
        grid.addWidget(self.total_expected, total_row, 1)
        grid.addWidget(self.total_counted, total_row, 2)
        grid.addWidget(self.total_variance, total_row, 3)
        grid.setColumnMinimumWidth(1, 120)
        grid.setColumnMinimumWidth(3, 120)
        grid.setColumnStretch(4, 1)
        col.addLayout(grid)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note (needed when the count differs)")
        col.addWidget(self.note)
        bar = QHBoxLayout()
        self.state = QLabel()
        self.state.setObjectName("muted")
        self.close_button = QPushButton("Close the day")
        self.close_button.setProperty("primary", True)
        self.close_button.clicked.connect(self.on_close)
        self.reopen_button = QPushButton("Reopen…")
        self.reopen_button.clicked.connect(self.on_reopen)
        self.pdf_button = QPushButton("Save takings as PDF…")
        self.pdf_button.clicked.connect(self.on_pdf)
        bar.addWidget(self.state, 1)
        bar.addWidget(self.pdf_button)
        bar.addWidget(self.reopen_button)
        bar.addWidget(self.close_button)
        col.addLayout(bar)
        col.addStretch(1)
        bus.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        t = billing.takings(self.ctx, py_date(self.day.date()))
        self.takings = t
        closed = t.closed_at is not None
        # A closed day is read-only: the counted amounts and note are shown as entered (in the
        # normal text colour, not as greyed placeholders), and nothing can be typed over them.
        # What is being typed into an open day stays when a payment comes in.
        reopened = not closed and self.note.isReadOnly()
        for m in MONEY_METHODS:
            self.expected[m].setText(format_money(t.by_method.get(m, 0)))
            if closed or reopened:
                self.counted[m].setText(format_money(t.counted.get(m, 0)) if closed else "")
            self.counted[m].setReadOnly(closed)
        if closed or reopened:
            self.note.setText(t.note if closed else "")
        self.note.setReadOnly(closed)
        self.close_button.setEnabled(not closed)
        self.reopen_button.setEnabled(closed)
        when = f"closed at {t.closed_at.astimezone(self.ctx.tz):%H:%M}" if t.closed_at else "open"
        self.state.setText(f"{t.entries} payments and refunds · the day is {when}")
        self.update_variance()

    def _counts(self) -> dict[PaymentMethod, int]:
        out = {}
        for m, edit in self.counted.items():
            out[m] = parse_money(edit.text(), field=m.value) if edit.text().strip() else 0
        return out

    def update_variance(self) -> None:
        t = self.takings
        typed = run_op(self._counts, lambda _exc: None)  # half-typed amounts: wait for more
        if not typed:
            return
        counts = typed.get()
        for m in MONEY_METHODS:
            self.variance[m].setText(format_money(counts[m] - t.by_method.get(m, 0)))
        self.total_expected.setText(f"<b>{format_money(t.expected_cents)}</b>")
        self.total_counted.setText(f"<b>{format_money(sum(counts.values()))}</b>")
        self.total_variance.setText(
            f"<b>{format_money(sum(counts.values()) - t.expected_cents)}</b>"
        )

    def on_close(self) -> None:
        typed = run_op(self._counts, in_box(self, "Billing"))
        if not typed:
            return
        counts = typed.get()
        run_op(
            lambda: billing.close_day(self.ctx, py_date(self.day.date()), counts, self.note.text()),
            in_box(self, "Billing"),
            refresh=self.reload,
        )

    def on_pdf(self) -> None:
        data = render_takings(self.takings, clinic_settings.clinic_info(self.ctx), self.ctx.tz)
        save_pdf(self, data, f"takings-{self.takings.day.isoformat()}.pdf")

    def on_reopen(self) -> None:
        reason, ok = QInputDialog.getText(self, "Reopen the day", "Why is the day reopened?")
        if ok:
            run_op(
                lambda: billing.reopen_day(self.ctx, py_date(self.day.date()), reason),
                in_box(self, "Billing"),
                refresh=self.reload,
            )

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("payments", "day_closes"):
            self.reload()
