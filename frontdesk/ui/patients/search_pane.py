"""The search box and its results: name, age, phone, next appointment, alert flag. Searching
runs on each keystroke (a few milliseconds on the FTS5 index); Enter opens the selected card,
the arrow keys move through the results without leaving the box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.patient_text import is_partial_date
from frontdesk.services.patients.search import PatientHit, search
from frontdesk.store.context import ServiceContext
from frontdesk.ui.row_table import Column, RowModel, row_table, source_row

COLUMNS = ("Name", "Age", "Phone", "Next visit", "")
ALERT_MARK = "⚠"
ALERT_TIP = "This patient has an alert: open the card to read it"


class SearchPane(QWidget):
    open_patient = Signal(str)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.hits: list[PatientHit] = []
        self.box = QLineEdit()
        self.box.setObjectName("patientSearch")
        self.box.setPlaceholderText("Name, phone, email, date of birth, Medicare or patient no.")
        self.box.setClearButtonEnabled(True)
        self.box.installEventFilter(self)
        self.archived = QCheckBox("Include archived")
        self.model: RowModel[PatientHit] = RowModel(
            self._columns(), key=lambda h: h.id, parent=self
        )
        self.results = row_table(self.model, "patientResults", sortable=False)
        self.results.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.status = QLabel("Type to search.")
        self.status.setObjectName("muted")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # coalesce a burst of key events into one search
        self._timer.timeout.connect(self.run_search)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.archived.toggled.connect(lambda _on: self.run_search())
        self.results.activated.connect(self._activated)
        top = QHBoxLayout()
        top.addWidget(self.box, 1)
        top.addWidget(self.archived)
        self.setMinimumWidth(470)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.results, 1)
        column.addWidget(self.status)

    def focus_search(self) -> None:
        self.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.box.selectAll()

    def _columns(self) -> list[Column[PatientHit]]:
        tz = self.ctx.tz

        def when(hit: PatientHit) -> str:
            at = hit.next_appointment_at
            return at.astimezone(tz).strftime("%d %b %H:%M") if at is not None else ""

        return [
            Column("Name", lambda h: h.display_name + ("  (archived)" if h.archived else ""),
                   stretch=True, colour=lambda h: "#94a3b8" if h.archived else None,
                   tip=lambda h: h.patient_number),
            Column("Age", lambda h: "" if h.age is None else str(h.age), sample="100"),
            Column("Phone", lambda h: h.mobile_phone, sample="0455 617 695"),
            Column("Next visit", when, sample="30 Sep 14:45"),
            Column("", lambda h: ALERT_MARK if h.has_alert else "", colour=lambda _h: "#b91c1c",
                   tip=lambda h: ALERT_TIP if h.has_alert else "", sample=ALERT_MARK),
        ]  # fmt: skip

    def run_search(self, *, keep_places: bool = False) -> None:
        """Search for what is typed. ``keep_places``: the same search again after a change
        notice — rows that changed are updated where they are, the selection stays."""
        text = self.box.text()
        self.hits = search(self.ctx, text, limit=50, include_archived=self.archived.isChecked())
        if keep_places:
            self.model.replace_all(self.hits)
        else:
            self.model.reset(self.hits)
            if self.hits:
                self.results.setCurrentIndex(self.results.model().index(0, 0))
        count = self.model.rowCount()
        if not text.strip():
            self.status.setText("Type to search.")
        elif not count and is_partial_date(text):
            self.status.setText("Finish the date: day/month/year.")
        elif not count:
            self.status.setText("No patient matches. Press Ctrl+N to add a new patient.")
        else:
            self.status.setText(f"{count} shown. Enter opens the card.")

    def current_id(self) -> str | None:
        row = source_row(self.results)
        return None if row is None else self.model.row(row).id

    def _activated(self, _index: QModelIndex) -> None:
        pid = self.current_id()
        if pid:
            self.open_patient.emit(pid)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._timer.isActive():
                    self._timer.stop()
                    self.run_search()
                pid = self.current_id()
                if pid:
                    self.open_patient.emit(pid)
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                view_model = self.results.model()
                row = self.results.currentIndex().row()
                row += 1 if key == Qt.Key.Key_Down else -1
                if 0 <= row < view_model.rowCount():
                    self.results.setCurrentIndex(view_model.index(row, 0))
                return True
        return super().eventFilter(watched, event)
