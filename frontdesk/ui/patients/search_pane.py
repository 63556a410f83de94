"""The search box and its results: name, age, phone, next appointment, alert flag. Searching
runs on each keystroke (a few milliseconds on the FTS5 index); Enter opens the selected card,
the arrow keys move through the results without leaving the box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.patient_text import is_partial_date
from frontdesk.services.patients.search import PatientHit, search
from frontdesk.store.context import ServiceContext

COLUMNS = ("Name", "Age", "Phone", "Next visit", "")
ALERT_MARK = "⚠"


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
        self.results = QTreeWidget()
        self.results.setObjectName("patientResults")
        self.results.setColumnCount(len(COLUMNS))
        self.results.setHeaderLabels(list(COLUMNS))
        self.results.setRootIsDecorated(False)
        self.results.setUniformRowHeights(True)
        self.results.setAlternatingRowColors(True)
        header = self.results.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.status = QLabel("Type to search.")
        self.status.setObjectName("muted")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # coalesce a burst of key events into one search
        self._timer.timeout.connect(self.run_search)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.archived.toggled.connect(lambda _on: self.run_search())
        self.results.itemActivated.connect(self._activated)
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

    def run_search(self) -> None:
        text = self.box.text()
        self.hits = search(self.ctx, text, limit=50, include_archived=self.archived.isChecked())
        self.results.clear()
        tz = self.ctx.tz
        items = []
        for hit in self.hits:
            when = ""
            if hit.next_appointment_at is not None:
                when = hit.next_appointment_at.astimezone(tz).strftime("%d %b %H:%M")
            name = hit.display_name + ("  (archived)" if hit.archived else "")
            item = QTreeWidgetItem(
                [name, "" if hit.age is None else str(hit.age), hit.mobile_phone, when,
                 ALERT_MARK if hit.has_alert else ""]
            )  # fmt: skip
            item.setData(0, Qt.ItemDataRole.UserRole, hit.id)
            item.setToolTip(0, f"{hit.patient_number}")
            if hit.has_alert:
                item.setForeground(4, QColor("#b91c1c"))
                item.setToolTip(4, "This patient has an alert: open the card to read it")
            if hit.archived:
                item.setForeground(0, QColor("#94a3b8"))
            items.append(item)
        self.results.addTopLevelItems(items)
        if items:
            self.results.setCurrentItem(items[0])
        if not text.strip():
            self.status.setText("Type to search.")
        elif not items and is_partial_date(text):
            self.status.setText("Finish the date: day/month/year.")
        elif not items:
            self.status.setText("No patient matches. Press Ctrl+N to add a new patient.")
        else:
            self.status.setText(f"{len(items)} shown. Enter opens the card.")

    def current_id(self) -> str | None:
        item = self.results.currentItem()
        return None if item is None else str(item.data(0, Qt.ItemDataRole.UserRole))

    def _activated(self, item: QTreeWidgetItem, _col: int) -> None:
        self.open_patient.emit(str(item.data(0, Qt.ItemDataRole.UserRole)))

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
                current = self.results.currentItem()
                row = -1 if current is None else self.results.indexOfTopLevelItem(current)
                row += 1 if key == Qt.Key.Key_Down else -1
                target = self.results.topLevelItem(row) if row >= 0 else None
                if target is not None:
                    self.results.setCurrentItem(target)
                return True
        return super().eventFilter(watched, event)
