"""The one patient picker of the app: wherever reception chooses a patient (booking, waitlist,
class attendees, a new invoice) they type part of a name, phone or number, move the highlight
with ↓/↑ without leaving the search box, and press Enter to pick the highlighted patient.

Picking never confirms the dialog it sits in: Enter is used up by the picker, so aiming for one
Smith can never book another. The picked patient is shown in full (name, date of birth, phone,
patient number) under the list, and editing the search again drops the pick.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.services.patients.search import PatientHit, patient_hit, search
from frontdesk.store.context import ServiceContext

ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
MOVES = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}
NONE_CHOSEN = "No patient chosen: type a name, ↓ ↑ to highlight, Enter to pick."
PICKED_STYLE = (
    "QLabel { border: 2px solid #15803d; border-radius: 6px; padding: 6px;"
    " background: #f0fdf4; color: #14532d; }"
)
EMPTY_STYLE = (
    "QLabel { border: 1px dashed #94a3b8; border-radius: 6px; padding: 6px; color: #475569; }"
)


def details(hit: PatientHit) -> str:
    """What a receptionist reads back to the caller after the name: birth date and age, phone,
    patient number."""
    born = f"born {hit.date_of_birth:%d/%m/%Y}" if hit.date_of_birth else "birth date not recorded"
    if hit.age is not None:
        born += f" ({hit.age})"
    phone = hit.mobile_phone or "no phone"
    alert = "  ⚠ alert" if hit.has_alert else ""
    archived = "  (archived)" if hit.archived else ""
    return f"{born} · {phone} · #{hit.patient_number}{alert}{archived}"


class _Results(QListWidget):
    """The hits. Enter picks the current row and goes no further (the dialog's default button
    never sees it)."""

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.key() in ENTER and plain:
            self.enter_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class PatientPicker(QWidget):
    """Search box, hits, and the picked patient. ``picked`` carries the ``PatientHit`` (or None
    when the pick is dropped)."""

    picked = Signal(object)

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        limit: int = 20,
        include_archived: bool = False,
        list_height: int = 150,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.limit = limit
        self.include_archived = include_archived
        self.hit: PatientHit | None = None
        self._hits: list[PatientHit] = []
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a name, phone or patient number…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find the patient")
        self.results = _Results()
        self.results.setMaximumHeight(list_height)
        self.results.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.chosen = QLabel()
        self.chosen.setObjectName("pickedPatient")
        self.chosen.setWordWrap(True)
        self.chosen.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.search)
        col.addWidget(self.results)
        col.addWidget(self.chosen)
        self._show_pick()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.run_search)
        self.search.textEdited.connect(self._edited)
        self.search.installEventFilter(self)
        self.results.enter_pressed.connect(self.pick_highlighted)
        self.results.itemClicked.connect(lambda _item: self.pick_highlighted())

    @property
    def patient_id(self) -> str | None:
        return self.hit.id if self.hit is not None else None

    def set_patient(self, patient_id: str) -> None:
        """Open with this patient already picked (a card's "Book appointment")."""
        hit = patient_hit(self.ctx, patient_id)
        if hit is not None:
            self.search.setText(hit.display_name)
            self._choose(hit)

    def clear_pick(self) -> None:
        """Drop the picked patient (the search text and hits stay)."""
        if self.hit is not None:
            self._choose(None)

    def clear(self) -> None:
        self.search.clear()
        self.results.clear()
        self._hits = []
        self.clear_pick()

    def run_search(self) -> None:
        self._timer.stop()
        self._hits = search(
            self.ctx, self.search.text(), limit=self.limit, include_archived=self.include_archived
        )
        self.results.clear()
        for hit in self._hits:
            born = f"  b. {hit.date_of_birth:%d/%m/%Y}" if hit.date_of_birth else ""
            alert = "  ⚠" if hit.has_alert else ""
            self.results.addItem(
                QListWidgetItem(
                    f"{hit.display_name}{born}  {hit.mobile_phone}  #{hit.patient_number}{alert}"
                )
            )
        if self._hits:
            self.results.setCurrentRow(0)

    def pick_highlighted(self) -> None:
        if self._timer.isActive():
            self.run_search()
        row = self.results.currentRow()
        if 0 <= row < len(self._hits):
            self._choose(self._hits[row])

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in MOVES:
                if self._timer.isActive():
                    self.run_search()
                self._move(MOVES[Qt.Key(key)])
                return True
            if key in ENTER and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.pick_highlighted()
                return True  # Enter picks; it never reaches the dialog's default button
        return super().eventFilter(obj, event)

    def _move(self, step: int) -> None:
        count = self.results.count()
        if not count:
            return
        row = self.results.currentRow()
        self.results.setCurrentRow(max(0, min(count - 1, (row if row >= 0 else -1) + step)))

    def _edited(self, _text: str) -> None:
        if self.hit is not None:
            self._choose(None)
        self._timer.start()

    def _choose(self, hit: PatientHit | None) -> None:
        self.hit = hit
        self._show_pick()
        self.picked.emit(hit)

    def _show_pick(self) -> None:
        if self.hit is None:
            self.chosen.setText(NONE_CHOSEN)
            self.chosen.setStyleSheet(EMPTY_STYLE)
        else:
            name, rest = html.escape(self.hit.display_name), html.escape(details(self.hit))
            self.chosen.setText(f"<b style='font-size:11pt'>✓ {name}</b><br>{rest}")
            self.chosen.setStyleSheet(PICKED_STYLE)


class ChoosePatientDialog(QDialog):
    """A picker on its own (a new invoice): Enter picks, then Enter on OK confirms."""

    def __init__(self, ctx: ServiceContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        col = QVBoxLayout(self)
        self.picker = PatientPicker(ctx, list_height=220)
        col.addWidget(self.picker)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b91c1c;")
        col.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
        self.picker.picked.connect(lambda hit: hit is not None and self.ok_button.setFocus())
        self.picker.search.setFocus()

    def _accept(self) -> None:
        if self.picker.patient_id is None:
            self.error.setText("Choose the patient: type part of their name, then press Enter.")
            self.picker.search.setFocus()
            return
        self.accept()


def choose_patient(ctx: ServiceContext, title: str, parent: QWidget | None = None) -> str | None:
    dialog = ChoosePatientDialog(ctx, title, parent)
    return dialog.picker.patient_id if dialog.exec() == QDialog.DialogCode.Accepted else None
