"""Side panels of the diary: the waitlist and the pinboard (both can be dragged into the grid),
and the attendee list of a group class."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.services.diary import groups as diary_groups
from frontdesk.ui.diary.host import DiaryHost
from frontdesk.ui.diary.mime import APPOINTMENT_MIME, WAITLIST_MIME
from frontdesk.ui.ops import in_label, run_op

URGENCY = {1: "Low", 2: "Normal", 3: "Urgent"}


class _DragList(QListWidget):
    def __init__(self, mime: str) -> None:
        super().__init__()
        self.mime = mime
        self.setDragEnabled(True)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)

    def startDrag(self, actions) -> None:  # type: ignore[no-untyped-def]
        item = self.currentItem()
        if item is None:
            return
        data = QMimeData()
        data.setData(self.mime, str(item.data(Qt.ItemDataRole.UserRole)).encode())
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.exec(Qt.DropAction.MoveAction)


class _Panel(QWidget):
    """A hint, a list that can be dragged into the diary, and a row of buttons."""

    def __init__(
        self, page: DiaryHost, hint: str, mime: str, buttons: list[tuple[str, Any]]
    ) -> None:
        super().__init__()
        self.page = page
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        label = QLabel(hint)
        label.setObjectName("muted")
        label.setWordWrap(True)
        self.list = _DragList(mime)
        row = QHBoxLayout()
        self.buttons: list[QPushButton] = []
        for text, slot in buttons:
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons.append(button)
        col.addWidget(label)
        col.addWidget(self.list, 1)
        col.addLayout(row)


def fill_patient_results(ctx: Any, results: QListWidget, text: str) -> None:
    """Patient search as you type, into a list whose items carry the patient id."""
    from frontdesk.services.patients.search import search

    results.clear()
    for hit in search(ctx, text, limit=10):
        item = QListWidgetItem(f"{hit.display_name}  {hit.mobile_phone}")
        item.setData(Qt.ItemDataRole.UserRole, hit.id)
        results.addItem(item)
    if results.count():
        results.setCurrentRow(0)


class WaitlistPanel(_Panel):
    def __init__(self, page: DiaryHost) -> None:
        buttons = [("Add…", self.add), ("Book at cursor", self.book_selected),
                   ("Remove", self.remove_selected)]  # fmt: skip
        super().__init__(page, "Drag a patient into the diary to book them.", WAITLIST_MIME,
                         buttons)  # fmt: skip
        self.items: dict[str, diary_groups.WaitlistItem] = {}
        self.highlighted: list[str] = []

    def reload(self) -> None:
        self.list.clear()
        self.items = {}
        names = {p.id: p.name.split()[0] for p in self.page.practitioners}
        for w in diary_groups.waitlist(self.page.ctx):
            self.items[w.id] = w
            who = ", ".join(names.get(p, "?") for p in w.practitioner_ids) or "anyone"
            days = "".join(d for i, d in enumerate("MTWTFSS") if w.weekdays & (1 << i))
            text = (f"{'‼ ' if w.urgency == 3 else ''}{w.patient_name}  {w.phone}\n"
                    f"{URGENCY[w.urgency]} · {who} · {days} · "
                    f"{w.earliest_minute // 60:02d}:{w.earliest_minute % 60:02d}–"
                    f"{w.latest_minute // 60:02d}:{w.latest_minute % 60:02d}")  # fmt: skip
            if w.notes:
                text += f"\n{w.notes}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, w.id)
            self.list.addItem(item)
        if self.highlighted:
            self.highlight([i for i in self.highlighted if i in self.items])

    def highlight(self, entry_ids: list[str]) -> None:
        """Bold the entries that suit a freed slot and select the first (most urgent)."""
        from PySide6.QtGui import QFont

        self.highlighted = list(entry_ids)
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            suits = item.data(Qt.ItemDataRole.UserRole) in entry_ids
            font = QFont(item.font())
            font.setBold(suits)
            item.setFont(font)
            if suits and first is None:
                first = item
        if first is not None:
            self.list.setCurrentItem(first)

    def _current(self) -> diary_groups.WaitlistItem | None:
        item = self.list.currentItem()
        return self.items.get(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def book_selected(self) -> None:
        entry = self._current()
        view = self.page.view
        if entry is None or self.page.layout_ is None:
            return
        if view.cursor_slot is None:
            view.set_cursor(0, view._default_minute())
        col, minute = view.cursor_slot  # type: ignore[misc]
        self.book_entry(entry.id, col, minute)

    def book_entry(self, entry_id: str, column: int, minute: int) -> None:
        entry = self.items.get(entry_id)
        page = self.page
        if entry is None or page.layout_ is None:
            return
        lay = page.layout_
        appointment_id = page.open_booking(
            lay.columns[column].practitioner_id, lay.instant(column, minute), None, entry.patient_id
        )
        if appointment_id:
            page.controller.run(
                lambda _a: diary_groups.resolve_waitlist(page.ctx, entry.id, appointment_id)
            )

    def remove_selected(self) -> None:
        entry = self._current()
        if entry is not None:
            self.page.controller.run(
                lambda _a: diary_groups.resolve_waitlist(self.page.ctx, entry.id, None)
            )

    def add(self) -> None:
        dialog = WaitlistDialog(self.page)
        dialog.exec()


class WaitlistDialog(QDialog):
    def __init__(self, page: DiaryHost) -> None:
        super().__init__(page)
        self.page = page
        self.setWindowTitle("Add to the waitlist")
        form = QFormLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a name or phone, then pick")
        self.results = QListWidget()
        self.results.setMaximumHeight(110)
        self.search.textEdited.connect(self._search)
        form.addRow("&Patient", self.search)
        form.addRow("", self.results)
        self.practitioner = QComboBox()
        self.practitioner.addItem("Anyone", None)
        for p in page.practitioners:
            self.practitioner.addItem(p.name, p.id)
        form.addRow("Practitioner", self.practitioner)
        days = QHBoxLayout()
        self.days = []
        for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
            box = QCheckBox(name)
            box.setChecked(i < 5)
            self.days.append(box)
            days.addWidget(box)
        form.addRow("Days", days)
        from PySide6.QtCore import QTime

        self.earliest, self.latest = QTimeEdit(QTime(8, 0)), QTimeEdit(QTime(18, 0))
        times = QHBoxLayout()
        times.addWidget(self.earliest)
        times.addWidget(QLabel("to"))
        times.addWidget(self.latest)
        form.addRow("Between", times)
        self.urgency = QComboBox()
        for value, label in URGENCY.items():
            self.urgency.addItem(label, value)
        self.urgency.setCurrentIndex(1)
        form.addRow("Urgency", self.urgency)
        self.notes = QLineEdit()
        form.addRow("Notes", self.notes)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b91c1c")
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _search(self, text: str) -> None:
        fill_patient_results(self.page.ctx, self.results, text)

    def _save(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self.error.setText("Choose the patient from the list.")
            return
        mask = sum(1 << i for i, box in enumerate(self.days) if box.isChecked())
        pid = self.practitioner.currentData()
        e, l_ = self.earliest.time(), self.latest.time()
        if run_op(
            lambda: diary_groups.add_to_waitlist(
                self.page.ctx, item.data(Qt.ItemDataRole.UserRole),
                practitioner_ids=[pid] if pid else [], weekdays=mask,
                earliest_minute=e.hour() * 60 + e.minute(),
                latest_minute=l_.hour() * 60 + l_.minute(), urgency=self.urgency.currentData(),
                notes=self.notes.text(),
            ),
            in_label(self.error),
        ):  # fmt: skip
            self.accept()


class PinboardPanel(_Panel):
    """Appointments being carried to another day: pin one, go to the day, drag it back in."""

    def __init__(self, page: DiaryHost) -> None:
        hint = "Pin an appointment (P), go to another day, then drag it into the diary."
        buttons = [("Place at cursor", self.place_selected), ("Unpin", self.unpin_selected)]
        super().__init__(page, hint, APPOINTMENT_MIME, buttons)

    def reload(self) -> None:
        self.list.clear()
        names = {p.id: p.name for p in self.page.practitioners}
        for p in diary_groups.pinboard(self.page.ctx):
            local = p.starts_at.astimezone(self.page.tz)
            who = names.get(p.practitioner_id, "?")
            text = f"{p.patient_name} · {p.type_name}\nwas {local:%a %d %b %H:%M} with {who}"
            item = QListWidgetItem(f"{text} · {p.minutes} min")
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.list.addItem(item)

    def _current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def place_selected(self) -> None:
        view = self.page.view
        appointment_id = self._current()
        if appointment_id is None or view.cursor_slot is None:
            self.page.tell("Choose a pinned appointment and a slot in the diary first.", "info")
            return
        self.place(appointment_id, *view.cursor_slot)

    def place(self, appointment_id: str, column: int, minute: int) -> None:
        from frontdesk.services.diary.view import one_appointment

        page = self.page
        appt = one_appointment(page.ctx, appointment_id)
        if appt is None or page.layout_ is None:
            return
        lay = page.layout_
        start = lay.instant(column, minute)
        page.controller.reschedule(appt, start, start + (appt.ends_at - appt.starts_at),
                                   lay.columns[column].practitioner_id)  # fmt: skip

    def unpin_selected(self) -> None:
        appointment_id = self._current()
        if appointment_id is not None:
            self.page.controller.pin(appointment_id, False)


class AttendeesDialog(QDialog):
    def __init__(self, page: DiaryHost, appointment_id: str) -> None:
        super().__init__(page)
        self.page, self.appointment_id = page, appointment_id
        self.setWindowTitle("Class attendees")
        col = QVBoxLayout(self)
        self.list = QListWidget()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Add a patient: type a name, pick below")
        self.results = QListWidget()
        self.results.setMaximumHeight(100)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b91c1c")
        row = QHBoxLayout()
        add = QPushButton("Add")
        wait = QPushButton("Add to class waitlist")
        remove = QPushButton("Remove selected")
        for b in (add, wait, remove):
            row.addWidget(b)
        for w in (self.list, self.search, self.results, self.error):
            col.addWidget(w)
        col.addLayout(row)
        self.search.textEdited.connect(self._search)
        add.clicked.connect(lambda: self._add(False))
        wait.clicked.connect(lambda: self._add(True))
        remove.clicked.connect(self._remove)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for a in diary_groups.attendees(self.page.ctx, self.appointment_id):
            item = QListWidgetItem(a.name + ("  (waitlist)" if a.waitlisted else ""))
            item.setData(Qt.ItemDataRole.UserRole, a.patient_id)
            self.list.addItem(item)

    def _search(self, text: str) -> None:
        fill_patient_results(self.page.ctx, self.results, text)

    def _add(self, waitlist: bool) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        patient_id = item.data(Qt.ItemDataRole.UserRole)
        if run_op(
            lambda: diary_groups.add_attendee(
                self.page.ctx, self.appointment_id, patient_id, waitlist_if_full=waitlist
            ),
            in_label(self.error),
            refresh=self.reload,
        ):
            self.error.setText("")

    def _remove(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        run_op(
            lambda: diary_groups.remove_attendee(
                self.page.ctx, self.appointment_id, item.data(Qt.ItemDataRole.UserRole)
            ),
            in_label(self.error),
            refresh=self.reload,
        )
