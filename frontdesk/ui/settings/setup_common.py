"""What the set-up screens share: a table model of plain rows, a list with Add / Edit / Archive,
a form that shows each error beside its field, and asking about the appointments a change
affects (the list itself is ui/settings/affected.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.services.setup.common import AppointmentsAffected
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.settings.affected import AffectedDialog

Index = QModelIndex | QPersistentModelIndex
ERROR_STYLE = "color: #b91c1c;"


class RowsModel(QAbstractTableModel):
    """Read-only rows of text; ``ids`` keeps each row's record id. A cell whose text starts with
    ``#`` and is a colour is drawn as a swatch."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[list[str]] = []
        self.ids: list[str] = []
        self.archived: list[bool] = []

    def set_rows(self, rows: Sequence[tuple[str, Sequence[str], bool]]) -> None:
        self.beginResetModel()
        self.ids = [r[0] for r in rows]
        self.rows = [list(r[1]) for r in rows]
        self.archived = [r[2] for r in rows]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        text = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.DecorationRole and text.startswith("#") and len(text) == 7:
            return QColor(text)
        if role == Qt.ItemDataRole.ForegroundRole and self.archived[index.row()]:
            return QColor("#94a3b8")
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None


class ListPanel(QWidget):
    """A titled list with Add, Edit and Archive buttons; double-click edits."""

    def __init__(self, title: str, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RowsModel(headers, self)
        self.view = QTableView()
        self.view.setObjectName(title.lower().replace(" ", "_") + "_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.add = QPushButton(f"Add {title.rstrip('s').lower()}…")
        self.edit = QPushButton("Edit…")
        self.archive = QPushButton("Archive")
        heading = QLabel(title)
        heading.setObjectName("sectionTitle")
        self.buttons = buttons = QHBoxLayout()
        for b in (self.add, self.edit, self.archive):
            buttons.addWidget(b)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(heading)
        col.addWidget(self.view, 1)
        col.addLayout(buttons)
        self.view.doubleClicked.connect(lambda _i: self.edit.click())

    def current_id(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.ids[rows[0].row()] if rows else None

    def select_id(self, row_id: str) -> None:
        if row_id in self.model.ids:
            self.view.selectRow(self.model.ids.index(row_id))


class FieldForm(QFormLayout):
    """A form whose rows each carry an error line under the field, filled from
    ValidationFailed.field; errors with no known field show at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.errors: dict[str, QLabel] = {}
        self.general = QLabel("")
        self.general.setWordWrap(True)
        self.general.setStyleSheet(ERROR_STYLE)
        self.general.setObjectName("error_general")

    def field(self, label: str, widget: QWidget | Any, key: str) -> None:
        error = QLabel("")
        error.setObjectName(f"error_{key}")
        error.setWordWrap(True)
        error.setStyleSheet(ERROR_STYLE)
        error.hide()
        box = QVBoxLayout()
        box.setSpacing(2)
        if isinstance(widget, QWidget):
            box.addWidget(widget)
        else:
            box.addLayout(widget)
        box.addWidget(error)
        self.addRow(label, box)
        self.errors[key] = error
        # The refusal goes once the person changes what it was about: a corrected field must
        # not go on saying "Type the payer's name." beside the name just typed.
        for signal in ("textChanged", "currentIndexChanged", "valueChanged", "dateChanged"):
            changed = getattr(widget, signal, None)
            if changed is not None:
                changed.connect(lambda *_a, e=error: (e.setText(""), e.hide()))
                break

    def finish(self) -> None:
        self.addRow(self.general)

    def clear_errors(self) -> None:
        for label in (*self.errors.values(), self.general):
            label.setText("")
            label.hide()

    def show_error(self, exc: FrontdeskError) -> None:
        self.clear_errors()
        key = exc.field if isinstance(exc, ValidationFailed) else None
        label = self.errors.get(key or "") or self.errors.get((key or "").split(".")[0])
        target = label or self.general
        target.setText(exc.user_message)
        target.show()


class ShowsErrors(Protocol):
    def show_error(self, exc: FrontdeskError) -> None: ...


def run_with_confirm(
    ctx: ServiceContext, parent: QWidget, call: Callable[[bool], object], form: ShowsErrors | None
) -> bool:
    """Call a service (``call(confirm)``); if bookings are affected, list them and call again
    with confirm=True when the person says so. Errors go beside their field (or a box)."""

    def attempt() -> bool:
        try:
            call(False)
        except AppointmentsAffected as affected:
            dialog = AffectedDialog(ctx, affected, parent)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            call(True)
        return True

    show = form.show_error if form is not None else in_box(parent, "Not saved")
    done = run_op(attempt, show)
    return bool(done and done.get())


def watch(bus: ChangeBus, owner: QWidget, tables: set[str], reload: Callable[[], None]) -> None:
    """Reload a list when a change (here or from another desk) touches its tables, for as long
    as ``owner`` lives."""

    def on_changed(notice: object) -> None:
        if not shiboken6.isValid(owner):
            bus.changed.disconnect(on_changed)
        elif isinstance(notice, ChangeNotice) and notice.touches(*tables):
            reload()

    bus.changed.connect(on_changed)


def dialog_buttons(dialog: QDialog, save: Callable[[], None]) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(save)
    buttons.rejected.connect(dialog.reject)
    return buttons
