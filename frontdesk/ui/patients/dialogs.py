"""Dialogs: a new patient, the list of possible duplicates, and merging two cards."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.domain.patient_rules import clean_dob, label
from frontdesk.services import patients as svc
from frontdesk.services.patients import Created, DuplicatePair
from frontdesk.services.patients.merge import merge_patients
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.patients.card_form import ERROR_STYLE
from frontdesk.ui.patients.card_tabs import row, table

NEW_FIELDS = ("title", "first_name", "last_name", "preferred_name", "date_of_birth", "sex",
              "mobile_phone", "email")  # fmt: skip


class NewPatientDialog(QDialog):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.created: Created | None = None
        self.setWindowTitle("New patient")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for field in NEW_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"new_{field}")
            if field == "date_of_birth":
                edit.setPlaceholderText("dd/mm/yyyy")
            self.edits[field] = edit
            form.addRow(label(field), edit)
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

    def save(self) -> None:
        for edit in self.edits.values():
            edit.setStyleSheet("")
        fields: dict[str, object] = {f: e.text() for f, e in self.edits.items()}
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()

        def create() -> svc.Created:
            fields["date_of_birth"] = clean_dob(str(fields["date_of_birth"]), today)
            return svc.create_patient(self.ctx, fields)

        def show(exc: FrontdeskError) -> None:
            self.error.setText(exc.user_message)
            edit = self.edits.get(getattr(exc, "field", None) or "")
            if isinstance(exc, ValidationFailed) and edit is not None:
                edit.setStyleSheet(ERROR_STYLE)
                edit.setFocus()

        created = run_op(create, show)
        if created:
            self.created = created.get()
            self.accept()


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
