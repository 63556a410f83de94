"""Dialogs: a new patient, the list of possible duplicates, and merging two cards."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FieldProblems, FrontdeskError, ValidationFailed
from frontdesk.domain.patient_rules import SEX_CHOICES, clean_dob, label
from frontdesk.services import patients as svc
from frontdesk.services.patients import Created, DuplicatePair
from frontdesk.services.patients.merge import merge_patients
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.patients.card_form import ERROR_STYLE, with_problem_line
from frontdesk.ui.patients.card_tabs import row, table

NEW_FIELDS = ("title", "first_name", "last_name", "preferred_name", "date_of_birth", "sex",
              "mobile_phone", "email")  # fmt: skip


class NewPatientDialog(QDialog):
    """A new card: every problem shown at once beside its field (the first one focused), Sex
    chosen from a list, and possible duplicates shown before the card is created."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.created: Created | None = None
        self.setWindowTitle("New patient")
        self.setMinimumWidth(460)
        self.form = form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        self.problems: dict[str, QLabel] = {}
        self.sex = QComboBox()
        self.sex.setObjectName("new_sex")
        self.sex.addItem("—", "")
        for choice in SEX_CHOICES:
            self.sex.addItem(choice, choice)
        for field in NEW_FIELDS:
            widget: QWidget
            if field == "sex":
                widget = self.sex
            else:
                edit = QLineEdit()
                edit.setObjectName(f"new_{field}")
                if field == "date_of_birth":
                    edit.setPlaceholderText("dd/mm/yyyy")
                self.edits[field] = edit
                widget = edit
            box, self.problems[field] = with_problem_line(widget, field)
            form.addRow(label(field), box)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c; font-weight: bold;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _fields(self) -> dict[str, object]:
        fields: dict[str, object] = {f: e.text() for f, e in self.edits.items()}
        fields["sex"] = self.sex.currentData()
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        # Left as typed when it is not a date: the service names the problem with the others.
        with contextlib.suppress(ValidationFailed):
            fields["date_of_birth"] = clean_dob(str(fields["date_of_birth"]), today)
        return fields

    def _clear_problems(self) -> None:
        self.error.setText("")
        for field, problem in self.problems.items():
            problem.hide()
            if field in self.edits:
                self.edits[field].setStyleSheet("")

    def _show(self, exc: FrontdeskError) -> None:
        problems = exc.problems if isinstance(exc, FieldProblems) else {}
        if not problems and isinstance(exc, ValidationFailed) and exc.field in self.problems:
            problems = {exc.field: exc.user_message}
        if not problems:
            self.error.setText(exc.user_message)
            return
        first: QWidget | None = None
        for field, message in problems.items():
            if field not in self.problems:
                self.error.setText(message)
                continue
            self.problems[field].setText(message)
            self.problems[field].show()
            widget = self.edits.get(field, self.sex)
            if field in self.edits:
                widget.setStyleSheet(ERROR_STYLE)
            first = first or widget
        self.error.setText(f"{len(problems)} to fix before saving." if len(problems) > 1 else "")
        self.form.activate()
        self.resize(self.width(), self.sizeHint().height())  # room for every message, unclipped
        if first is not None:
            first.setFocus()

    def save(self) -> None:
        self._clear_problems()
        fields = self._fields()
        found = run_op(lambda: svc.possible_duplicates(self.ctx, fields), self._show)
        if not found:
            return
        twins = found.get()
        if twins and not self._create_anyway(twins):
            return
        created = run_op(lambda: svc.create_patient(self.ctx, fields), self._show)
        if created:
            self.created = created.get()
            self.accept()

    def _create_anyway(self, twins: list[svc.DuplicateCandidate]) -> bool:
        names = "\n".join(f"• {t.name} ({t.patient_number}): {t.reason}" for t in twins[:5])
        answer = QMessageBox.question(
            self, "Possible duplicate",
            f"This patient may already have a card:\n{names}\n\nCreate a new card anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes


class DuplicatesDialog(QDialog):
    """Possible duplicates waiting for a person: open either card, merge, or dismiss."""

    def __init__(
        self, ctx: ServiceContext, parent: QWidget | None = None,
        on_open: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx, self.on_open = ctx, on_open
        self.pairs: list[DuplicatePair] = []
        self.setWindowTitle("Possible duplicates")
        self.resize(820, 420)
        self.list = table(("Patient", "Number", "Possible duplicate", "Number", "Why"),
                          "duplicateList")  # fmt: skip
        self.merge = QPushButton("Merge…")
        self.merge.setProperty("primary", True)
        self.merge.clicked.connect(self.merge_selected)
        self.dismiss = QPushButton("Not a duplicate")
        self.dismiss.clicked.connect(self.dismiss_selected)
        self.open_button = QPushButton("Open card")
        self.open_button.clicked.connect(self.open_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.merge, self.dismiss, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        self.empty = QLabel("No possible duplicates are waiting for review.")
        self.empty.setObjectName("muted")
        col = QVBoxLayout(self)
        col.addWidget(self.list, 1)
        col.addWidget(self.empty)
        col.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        self.pairs = svc.duplicates_to_review(self.ctx)
        self.list.clear()
        for i, p in enumerate(self.pairs):
            row(self.list, (p.patient_name, p.patient_number, p.other_name, p.other_number,
                            p.reason), str(i))  # fmt: skip
        first = self.list.topLevelItem(0)
        if first is not None:
            self.list.setCurrentItem(first)
        self.empty.setVisible(not self.pairs)
        for b in (self.merge, self.dismiss, self.open_button):
            b.setEnabled(bool(self.pairs))

    def _selected(self) -> DuplicatePair | None:
        item = self.list.currentItem()
        if item is None:
            return None
        return self.pairs[int(item.data(0, Qt.ItemDataRole.UserRole))]

    def merge_selected(self) -> None:
        pair = self._selected()
        if pair is not None and MergeDialog(self.ctx, pair, self).exec():
            self.reload()

    def dismiss_selected(self) -> None:
        pair = self._selected()
        if pair is not None:
            svc.dismiss_duplicate(self.ctx, pair.flag_id)
            self.reload()

    def open_selected(self) -> None:
        pair = self._selected()
        if pair is not None and self.on_open is not None:
            self.on_open(pair.patient_id)
            self.accept()


class MergeDialog(QDialog):
    """Choose the card to keep; everything of the other moves to it. An admin can undo it."""

    def __init__(self, ctx: ServiceContext, pair: DuplicatePair, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.pair = ctx, pair
        self.setWindowTitle("Merge patients")
        col = QVBoxLayout(self)
        col.addWidget(QLabel("<b>Which card should stay?</b>"))
        self.keep_first = QRadioButton(f"{pair.patient_name} ({pair.patient_number})")
        self.keep_other = QRadioButton(f"{pair.other_name} ({pair.other_number})")
        self.keep_other.setChecked(True)  # usually the older card has the history
        col.addWidget(self.keep_other)
        col.addWidget(self.keep_first)
        text = QLabel(
            "Appointments, group classes, invoices, payments, funding, alerts and notes of the "
            "other card move to the card that stays; its empty fields are filled in. The other "
            "card is archived. A practice manager can undo the merge from the card."
        )
        text.setWordWrap(True)
        text.setObjectName("muted")
        col.addWidget(text)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Merge")
        buttons.accepted.connect(self.do_merge)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)

    def do_merge(self) -> None:
        keep, drop = (self.pair.other_id, self.pair.patient_id)
        if self.keep_first.isChecked():
            keep, drop = drop, keep
        if run_op(lambda: merge_patients(self.ctx, keep, drop), in_box(self, "Merge patients")):
            self.accept()
