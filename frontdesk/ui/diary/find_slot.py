"""Find next available: for a type (length) and optional practitioner and time of day, the next
free slots across practitioners; pick one to book it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTimeEdit,
)

from frontdesk.services.diary.groups import next_available
from frontdesk.ui.diary.host import DiaryHost
from frontdesk.ui.ops import in_label, run_op


class NextAvailableDialog(QDialog):
    def __init__(self, page: DiaryHost) -> None:
        super().__init__(page)
        self.page = page
        self.setWindowTitle("Find next available")
        self.setMinimumWidth(460)
        form = QFormLayout(self)
        self.type = QComboBox()
        self.type.addItem("(choose a length)", None)
        for t in page.types:
            self.type.addItem(f"{t.name} ({t.duration_minutes} min)", t.id)
        self.minutes = QSpinBox()
        self.minutes.setRange(5, 480)
        self.minutes.setSingleStep(5)
        self.minutes.setValue(30)
        self.minutes.setSuffix(" min")
        self.practitioner = QComboBox()
        self.practitioner.addItem("Any practitioner", None)
        for p in page.practitioners:
            self.practitioner.addItem(f"{p.name} — {p.profession}", p.id)
        self.room = QComboBox()
        self.room.addItem("Any room", None)
        for r in page.rooms:
            self.room.addItem(r.name, r.id)
        self.earliest, self.latest = QTimeEdit(QTime(7, 0)), QTimeEdit(QTime(20, 0))
        times = QHBoxLayout()
        for w in (self.earliest, QLabel("to"), self.latest):
            times.addWidget(w)
        self.find_button = QPushButton("Find")
        self.find_button.setDefault(True)
        self.results = QListWidget()
        self.results.setMinimumHeight(220)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b91c1c")
        form.addRow("&Type", self.type)
        form.addRow("&Length", self.minutes)
        form.addRow("&Practitioner", self.practitioner)
        form.addRow("&Room", self.room)
        form.addRow("Time of day", times)
        form.addRow("", self.find_button)
        form.addRow(self.results)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.book = buttons.addButton("Book this slot…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._book)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.type.currentIndexChanged.connect(self._type_changed)
        self.find_button.clicked.connect(self.search)
        self.results.itemActivated.connect(lambda _i: self._book())

    def _type_changed(self) -> None:
        t = next((t for t in self.page.types if t.id == self.type.currentData()), None)
        if t is not None:
            self.minutes.setValue(t.duration_minutes)

    def search(self) -> None:
        self.results.clear()
        pid = self.practitioner.currentData()
        e, l_ = self.earliest.time(), self.latest.time()
        found = run_op(
            lambda: next_available(
                self.page.ctx, duration_minutes=self.minutes.value(),
                practitioner_ids=[pid] if pid else None, room_id=self.room.currentData(),
                earliest_minute=e.hour() * 60 + e.minute(),
                latest_minute=l_.hour() * 60 + l_.minute(), limit=20, slot=self.page.slot,
            ),
            in_label(self.error),
        )  # fmt: skip
        if not found:
            return
        slots = found.get()
        names = {p.id: p.name for p in self.page.practitioners}
        self.error.setText("" if slots else "No free slot in the next 60 days.")
        for slot in slots:
            local = slot.start.astimezone(self.page.tz)
            item = QListWidgetItem(
                f"{local:%a %d %b  %H:%M}   {names.get(slot.practitioner_id, '?')}"
            )
            item.setData(Qt.ItemDataRole.UserRole, slot)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)
            self.results.setFocus()

    def _book(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        slot = item.data(Qt.ItemDataRole.UserRole)
        self.accept()
        page = self.page
        page.go_to(slot.start.astimezone(page.tz).date())
        dialog_minutes = self.minutes.value()
        page.open_booking(slot.practitioner_id, slot.start, dialog_minutes)
