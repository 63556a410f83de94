"""The card's details, edited in place: every field of the card in labelled groups, saved
together; a bad value is shown beside its field in words and nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.patient_rules import SEX_CHOICES, label

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Details", ("title", "first_name", "middle_name", "last_name", "preferred_name",
                 "pronouns", "date_of_birth", "sex")),
    ("Contact", ("mobile_phone", "home_phone", "work_phone", "email", "address_line1",
                 "address_line2", "suburb", "state", "postcode", "country")),
    ("Emergency contact", ("emergency_contact_name", "emergency_contact_phone",
                           "emergency_contact_relationship")),
    ("Referrer and GP", ("referrer_name", "referrer_provider_number", "referral_date",
                         "gp_name", "gp_practice")),
    ("Medicare, DVA and NDIS", ("medicare_number", "medicare_irn", "medicare_expiry",
                                "dva_number", "dva_card_colour", "ndis_number")),
)  # fmt: skip
DATE_FIELDS = ("date_of_birth", "referral_date")
LABEL_OVERRIDES = {"address_line1": "Address", "address_line2": "", "medicare_irn": "IRN",
                   "medicare_expiry": "Expiry (MM/YYYY)", "emergency_contact_name": "Name",
                   "emergency_contact_phone": "Phone",
                   "emergency_contact_relationship": "Relationship",
                   "referrer_provider_number": "Provider number"}  # fmt: skip
ERROR_STYLE = "border: 1px solid #dc2626; background: #fef2f2;"


def with_problem_line(widget: QWidget, field: str) -> tuple[QWidget, QLabel]:
    """The input with a line under it for its message (hidden until there is one)."""
    problem = QLabel("")
    problem.setObjectName(f"problem_{field}")
    problem.setWordWrap(True)
    problem.setStyleSheet("color: #b91c1c;")
    problem.hide()
    cell = QWidget()
    stack = QVBoxLayout(cell)
    stack.setContentsMargins(0, 0, 0, 0)
    stack.setSpacing(2)
    stack.addWidget(widget)
    stack.addWidget(problem)
    return cell, problem


def show_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


class CardForm(QWidget):
    """Fields of a card. ``values()`` returns what changed since ``load``."""

    def __init__(self, on_edit: Callable[[], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.edits: dict[str, QLineEdit] = {}
        self.problems: dict[str, QLabel] = {}  # each field's message, shown under it
        self.loaded: dict[str, Any] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        boxes: list[QGroupBox] = []
        for title, fields in GROUPS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            for field in fields:
                edit = QLineEdit()
                edit.setObjectName(f"field_{field}")
                if field in DATE_FIELDS:
                    edit.setPlaceholderText("dd/mm/yyyy")
                if field == "sex":  # one of a list: completed as typed, anything else refused
                    edit.setPlaceholderText(" / ".join(SEX_CHOICES))
                    choices = QCompleter(list(SEX_CHOICES), edit)
                    choices.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                    choices.setCompletionMode(QCompleter.CompletionMode.InlineCompletion)
                    edit.setCompleter(choices)
                if on_edit is not None:
                    edit.textEdited.connect(lambda _t: on_edit())
                self.edits[field] = edit
                cell, self.problems[field] = with_problem_line(edit, field)
                form.addRow(LABEL_OVERRIDES.get(field, label(field)), cell)
            boxes.append(box)
        notes_box = QGroupBox("Admin notes")
        notes_form = QFormLayout(notes_box)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("field_admin_notes")
        self.notes.setFixedHeight(70)
        if on_edit is not None:
            self.notes.textChanged.connect(on_edit)
        notes_form.addRow(self.notes)
        self.error = QLabel("")
        self.error.setObjectName("cardError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c; font-weight: bold;")
        self.error.hide()
        grid.addWidget(boxes[0], 0, 0)
        grid.addWidget(boxes[1], 0, 1)
        grid.addWidget(boxes[2], 1, 0)
        grid.addWidget(boxes[3], 1, 1)
        grid.addWidget(boxes[4], 2, 0)
        grid.addWidget(notes_box, 2, 1)
        grid.addWidget(self.error, 3, 0, 1, 2)

    def load(self, patient: Any) -> None:
        self.clear_error()
        self.loaded = {}
        for field, edit in self.edits.items():
            value = getattr(patient, field)
            text = show_date(value) if field in DATE_FIELDS else (value or "")
            self.loaded[field] = text
            edit.setText(text)
            edit.setCursorPosition(0)
        self.notes.blockSignals(True)
        self.notes.setPlainText(patient.admin_notes)
        self.notes.blockSignals(False)
        self.loaded["admin_notes"] = patient.admin_notes

    def values(self, *, changed_only: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, edit in self.edits.items():
            text = edit.text()
            if not changed_only or text != self.loaded.get(field):
                out[field] = text
        notes = self.notes.toPlainText()
        if not changed_only or notes != self.loaded.get("admin_notes"):
            out["admin_notes"] = notes
        return out

    def show_problems(self, problems: dict[str, str], other: str = "") -> None:
        """Each message beside its field, the first bad field focused (and scrolled to)."""
        self.clear_error()
        first: QLineEdit | None = None
        for field, message in problems.items():
            edit = self.edits.get(field)
            if edit is None:
                other = other or message
                continue
            edit.setStyleSheet(ERROR_STYLE)
            edit.setToolTip(message)
            problem = self.problems[field]
            problem.setText(message)
            # a wrapped label in a form in a scroll area is not given its height: ask for it
            problem.setMinimumHeight(problem.heightForWidth(max(edit.width(), 120)))
            problem.show()
            first = first or edit
        if other:
            self.error.setText(other)
            self.error.show()
        if first is not None:
            first.setFocus()

    def show_error(self, message: str, field: str | None) -> None:
        if field in self.edits:
            self.show_problems({field: message})
        else:
            self.show_problems({}, message)

    def clear_error(self) -> None:
        self.error.hide()
        for field, edit in self.edits.items():
            self.problems[field].hide()
            if edit.styleSheet():
                edit.setStyleSheet("")
                edit.setToolTip("")


class ConsentBoxes(QWidget):
    """SMS and email consent tick boxes with the date each was given or withdrawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.sms = QCheckBox("Agrees to SMS reminders")
        self.email = QCheckBox("Agrees to email")
        self.sms_at = QLabel("")
        self.email_at = QLabel("")
        self.privacy_at = QLabel("")
        for w in (self.sms_at, self.email_at, self.privacy_at):
            w.setObjectName("muted")
        form.addRow(self.sms, self.sms_at)
        form.addRow(self.email, self.email_at)
        form.addRow(QLabel("Privacy policy"), self.privacy_at)
