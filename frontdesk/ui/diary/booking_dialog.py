"""The booking dialog: find the patient as you type (or add one), type, room, notes, repeat.

Keyboard-only: type a name, ↓/↑ highlight a patient and Enter picks them (the shared
``PatientPicker``; Enter never books), Tab through the rest, Ctrl+Enter books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.diary_view import PractitionerInfo, RoomInfo, TypeInfo, types_offered
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.services.patients.search import PatientHit
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.patient_picker import PatientPicker


@dataclass
class SeriesChoice:
    every_weeks: int
    count: int
    occurrences: list[tuple[datetime, datetime]]


class BookingDialog(QDialog):
    def __init__(
        self, ctx: ServiceContext, practitioners: list[PractitionerInfo], types: list[TypeInfo],
        rooms: list[RoomInfo], practitioner_id: str, start: datetime, minutes: int,
        patient_id: str | None = None, parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx = ctx
        self.tz: ZoneInfo = ctx.tz
        self.types = types
        self.professions = {p.id: p.profession for p in practitioners}
        self.patient_id: str | None = None
        self.request: BookingRequest | None = None
        self.series: SeriesChoice | None = None
        self.setWindowTitle("Book an appointment")
        self.setMinimumSize(560, 620)  # explicit: the layout never resizes a shown dialog
        col = QVBoxLayout(self)
        form = QFormLayout()
        col.addLayout(form)

        self.picker = PatientPicker(ctx)
        self.search = self.picker.search
        self.new_button = QPushButton("New patient…")
        self.new_button.setAutoDefault(False)
        self.new_box = QWidget()
        new_row = QHBoxLayout(self.new_box)
        new_row.setContentsMargins(0, 0, 0, 0)
        self.new_first, self.new_last, self.new_mobile = QLineEdit(), QLineEdit(), QLineEdit()
        for edit, hint in ((self.new_first, "First name"), (self.new_last, "Last name"),
                           (self.new_mobile, "Mobile")):  # fmt: skip
            edit.setPlaceholderText(hint)
            new_row.addWidget(edit)
        self.new_box.setVisible(False)
        patient_row = QHBoxLayout()
        patient_row.addWidget(self.picker, 1)
        patient_row.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow(_buddy("&Patient", self.search), patient_row)
        form.addRow("", self.new_box)

        self.practitioner = QComboBox()
        for p in practitioners:
            self.practitioner.addItem(f"{p.name} — {p.profession}", p.id)
        self.practitioner.setCurrentIndex(max(0, self.practitioner.findData(practitioner_id)))
        form.addRow("Practitioner", self.practitioner)
        local = start.astimezone(self.tz)
        self.day = QDateEdit(QDate(local.year, local.month, local.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.time = QTimeEdit(QTime(local.hour, local.minute))
        self.time.setDisplayFormat("HH:mm")
        when = QHBoxLayout()
        when.addWidget(self.day)
        when.addWidget(self.time)
        form.addRow(_buddy("&When", self.day), when)
        self.type = QComboBox()
        self._fill_types(practitioner_id)
        self.practitioner.currentIndexChanged.connect(
            lambda _i: self._fill_types(self.practitioner.currentData())
        )
        form.addRow("&Type", self.type)
        self.minutes = QSpinBox()
        self.minutes.setRange(5, 720)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(minutes)
        form.addRow("&Length", self.minutes)
        self.room = QComboBox()
        self.room.addItem("(no room)", None)
        for r in rooms:
            self.room.addItem(r.name, r.id)
        form.addRow("&Room", self.room)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(60)
        form.addRow("&Notes", self.notes)
        from frontdesk.ui.claims.funding_panel import FundingPanel

        self.funding = FundingPanel(ctx, self._funding_when)
        form.addRow("&Funding", self.funding)
        repeat = QHBoxLayout()
        self.repeat = QCheckBox("Repeat every")
        self.every = QSpinBox()
        self.every.setRange(1, 12)
        self.every.setSuffix(" week(s)")
        self.count = QSpinBox()
        self.count.setRange(2, 52)
        self.count.setValue(6)
        self.count.setSuffix(" times")
        for w in (self.repeat, self.every, self.count):
            repeat.addWidget(w)
        repeat.addStretch(1)
        form.addRow("", repeat)
        self.occurrences = QListWidget()
        self.occurrences.setVisible(False)
        self.occurrences.setMaximumHeight(140)
        self.occurrences.setWordWrap(True)
        form.addRow("", self.occurrences)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c;")
        col.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.book_button = buttons.addButton("Book", QDialogButtonBox.ButtonRole.AcceptRole)
        self.book_button.setProperty("primary", True)
        self.book_button.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)

        self.picker.picked.connect(self._picked)
        self.new_button.clicked.connect(self._toggle_new)
        self.type.currentIndexChanged.connect(self._type_changed)
        self.repeat.toggled.connect(self._plan)
        self.every.valueChanged.connect(lambda _v: self._plan())
        for changed in (self.day.dateChanged, self.time.timeChanged, self.minutes.valueChanged):
            changed.connect(lambda *_a: self.funding.refresh())
        self.count.valueChanged.connect(lambda _v: self._plan())
        if patient_id is not None:
            self.picker.set_patient(patient_id)
        self.search.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._accept()
            return
        super().keyPressEvent(event)

    # -- patient --------------------------------------------------------------------------------
    def _picked(self, hit: PatientHit | None) -> None:
        self.patient_id = hit.id if hit is not None else None
        self.funding.set_patient(self.patient_id)
        if hit is not None:
            self.new_box.setVisible(False)
            self.type.setFocus()

    def _fill_types(self, practitioner_id: str | None) -> None:
        """Only the practitioner's own types: by name when a type lists its practitioners,
        otherwise by profession (issue 13: a chiropractor was offered a dietitian's types)."""
        chosen = self.type.currentData()
        profession = self.professions.get(practitioner_id or "", "")
        self.type.blockSignals(True)
        self.type.clear()
        self.type.addItem("(no type)", None)
        for t in types_offered(self.types, practitioner_id or "", profession):
            self.type.addItem(f"{t.name} ({t.duration_minutes} min)", t.id)
        self.type.setCurrentIndex(max(0, self.type.findData(chosen)))
        self.type.blockSignals(False)

    def _toggle_new(self) -> None:
        self.new_box.setVisible(not self.new_box.isVisible())
        if self.new_box.isVisible():
            self.picker.clear_pick()
            self.picker.chosen.setText("New patient: their card is created when you book.")
            words = self.search.text().split()
            if words and not any(ch.isdigit() for ch in self.search.text()):
                self.new_first.setText(words[0].capitalize())
                self.new_last.setText(" ".join(w.capitalize() for w in words[1:]))
            self.new_first.setFocus()

    # -- the rest -------------------------------------------------------------------------------
    def _type_changed(self) -> None:
        type_id = self.type.currentData()
        t = next((t for t in self.types if t.id == type_id), None)
        if t is not None:
            self.minutes.setValue(t.duration_minutes)
        self._plan()
        self.funding.refresh()

    def _funding_when(self) -> tuple[datetime, int, str | None]:
        return self._times()[0], self.minutes.value(), self.type.currentData()

    def _times(self) -> tuple[datetime, datetime]:
        d, t = self.day.date(), self.time.time()
        start = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=self.tz)
        from datetime import UTC

        start = start.astimezone(UTC)
        return start, start + timedelta(minutes=self.minutes.value())

    def _build_request(self, patient_id: str | None) -> BookingRequest:
        start, end = self._times()
        return BookingRequest(
            practitioner_id=self.practitioner.currentData(), starts_at=start, ends_at=end,
            patient_id=patient_id, appointment_type_id=self.type.currentData(),
            room_id=self.room.currentData(), notes=self.notes.toPlainText(),
        )  # fmt: skip

    def _plan(self) -> None:
        self.occurrences.clear()
        self.occurrences.setVisible(self.repeat.isChecked())
        if not self.repeat.isChecked():
            return
        from frontdesk.services.diary.series import plan_series

        every, count = self.every.value(), self.count.value()
        planned = run_op(
            lambda: plan_series(
                self.ctx, self._build_request(self.patient_id), every_weeks=every, count=count
            ),
            in_label(self.error),
        )
        if not planned:
            return
        self.error.setText("")
        for occ in planned.get():
            local = occ.start.astimezone(self.tz)
            problems = " ".join(p.message for p in occ.problems)
            item = QListWidgetItem(
                f"{local:%a %d %b %Y %H:%M}" + (f" — {problems}" if problems else "")
            )
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if occ.problems else Qt.CheckState.Checked)
            item.setData(Qt.ItemDataRole.UserRole, (occ.start, occ.end))
            if occ.problems:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.occurrences.addItem(item)

    def _prepare_request(self) -> BookingRequest:
        """Add the new patient (if one was typed in) and build the booking request."""
        if self.patient_id is None and self.new_box.isVisible():
            self.patient_id = diary.quick_add_patient(
                self.ctx, self.new_first.text(), self.new_last.text(), self.new_mobile.text()
            )
        self.request = self._build_request(self.patient_id)
        return self.request

    def _accept(self) -> None:
        prepared = run_op(self._prepare_request, in_label(self.error))
        if not prepared:
            return
        patient_id = self.patient_id
        type_id = prepared.get().appointment_type_id
        is_group = any(t.id == type_id and t.is_group for t in self.types)
        if patient_id is None and not is_group:
            self.error.setText("Choose the patient: type part of their name, then press Enter.")
            self.search.setFocus()
            return
        if self.repeat.isChecked():
            chosen = []
            for i in range(self.occurrences.count()):
                item = self.occurrences.item(i)
                if item.checkState() == Qt.CheckState.Checked:
                    chosen.append(item.data(Qt.ItemDataRole.UserRole))
            self.series = SeriesChoice(self.every.value(), self.count.value(), chosen)
        self.accept()


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label
