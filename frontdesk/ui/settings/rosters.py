"""Settings → Rosters: a practitioner's week as bars you drag (roster_painter.py) over a grid you
type into (``9:00-17:00``; several spans with commas), breaks, location per day, every N weeks,
from a date. A change that leaves booked appointments outside the new hours lists them before
it is saved."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.clinic_setup import WEEKDAYS, RosterBlock, format_spans, parse_spans
from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.services.setup import locations, practitioners, rosters
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.roster_painter import WeekPainter
from frontdesk.ui.settings.setup_common import ERROR_STYLE, Index, run_with_confirm, watch

COLUMNS = ("Day", "Hours", "Breaks", "Location")
HOURS, BREAKS, LOCATION = 1, 2, 3


class WeekGrid(QAbstractTableModel):
    """One row per day of each week in the cycle; Hours, Breaks and Location are editable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weeks = 1
        self.cells: list[list[str]] = []  # per row: hours, breaks, location id ("" none)
        self.location_names: dict[str, str] = {}
        self.error_row: int | None = None
        self.edited = False  # typed into since loaded: a refresh must not throw it away
        self.resize(1)

    def resize(self, weeks: int) -> None:
        self.beginResetModel()
        self.weeks = weeks
        self.cells = (self.cells + [["", "", ""] for _ in range(7 * weeks)])[: 7 * weeks]
        self.error_row = None
        self.endResetModel()

    def load(self, plan: rosters.RosterPlan) -> None:
        self.beginResetModel()
        self.weeks = plan.every_weeks
        self.cells = [["", "", ""] for _ in range(7 * plan.every_weeks)]
        work: dict[int, list[tuple[int, int]]] = {}
        breaks: dict[int, list[tuple[int, int]]] = {}
        for b in plan.blocks:
            row = b.week * 7 + b.weekday
            (breaks if b.is_break else work).setdefault(row, []).append(
                (b.start_minute, b.end_minute)
            )
            if b.location_id and not b.is_break:
                self.cells[row][2] = b.location_id
        for row, spans in work.items():
            self.cells[row][0] = format_spans(spans)
        for row, spans in breaks.items():
            self.cells[row][1] = format_spans(spans)
        self.error_row = None
        self.edited = False
        self.endResetModel()

    def blocks(self) -> tuple[list[RosterBlock], list[int]]:
        """The typed week as roster blocks, and the grid row of each block."""
        out: list[RosterBlock] = []
        rows: list[int] = []
        for row, (hours, breaks, location) in enumerate(self.cells):
            week, day = divmod(row, 7)
            for text, is_break in ((hours, False), (breaks, True)):
                for start, end in parse_spans(text, field=f"row.{row}"):
                    out.append(RosterBlock(day, start, end, is_break, week, location or None))
                    rows.append(row)
        return out, rows

    # -- Qt model ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEditable if index.column() else base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                week, day = divmod(row, 7)
                return f"{WEEKDAYS[day]}" + (f" (week {week + 1})" if self.weeks > 1 else "")
            value = self.cells[row][col - 1]
            if col == LOCATION and role == Qt.ItemDataRole.DisplayRole:
                return self.location_names.get(value, "")
            return value
        if role == Qt.ItemDataRole.BackgroundRole:
            if row == self.error_row:
                return QColor("#fee2e2")
            if col == HOURS and self.cells[row][0]:
                return QColor("#ecfdf5")
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() == 0:
            return False
        self.cells[index.row()][index.column() - 1] = str(value or "").strip()
        self.edited = True
        self.dataChanged.emit(index, index)
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class LocationDelegate(QStyledItemDelegate):
    """The Location column edits with a list of the clinic's locations."""

    def __init__(self, grid: WeekGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        box = QComboBox(parent)
        box.addItem("— usual —", "")
        for lid, name in self.grid.location_names.items():
            box.addItem(name, lid)
        return box

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(max(0, editor.findData(self.grid.cells[index.row()][2])))

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData())


class RostersPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.practitioner = QComboBox()
        self.practitioner.setObjectName("roster_practitioner")
        self.practitioner.setMinimumWidth(220)
        self.every = QSpinBox()
        self.every.setObjectName("roster_every")
        self.every.setRange(1, 8)
        self.every.setSuffix(" week(s)")
        self.start = QDateEdit()
        self.start.setObjectName("roster_from")
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("dd/MM/yyyy")
        self.grid = WeekGrid(self)
        self.view = QTableView()
        self.view.setObjectName("roster_grid")
        self.view.setModel(self.grid)
        self.view.setItemDelegateForColumn(LOCATION, LocationDelegate(self.grid, self.view))
        self.view.verticalHeader().hide()
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers
            & ~QAbstractItemView.EditTrigger.CurrentChanged
        )
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.error = QLabel("")
        self.error.setObjectName("roster_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        hint = QLabel("Drag across a day to add hours (right-drag or Shift-drag: a break; "
                      "double-click a bar to remove it), or type them in the grid as 9:00-17:00 "
                      "(several with commas: 8-12, 13-18). Leave a day empty when they do not "
                      "work.")  # fmt: skip
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.save = QPushButton("Save roster")
        self.save.setObjectName("roster_save")
        self.save.setProperty("primary", True)
        top = QHBoxLayout()
        for label, widget in (("Practitioner", self.practitioner), ("Repeats every", self.every),
                              ("From", self.start)):  # fmt: skip
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(hint)
        self.painter = WeekPainter(self.grid, self)
        col.addWidget(self.painter)
        col.addWidget(self.view, 1)
        col.addWidget(self.error)
        col.addWidget(self.save, 0, Qt.AlignmentFlag.AlignLeft)
        self.practitioner.currentIndexChanged.connect(lambda _i: self.load())
        self.every.valueChanged.connect(self.grid.resize)
        self.save.clicked.connect(self.on_save)
        watch(bus, self, {"practitioners", "locations"}, self.reload)
        self.reload()

    def today(self) -> date:
        return self.ctx.clock.now().astimezone(self.ctx.tz).date()

    def reload(self) -> None:
        current = self.practitioner.currentData()
        self.grid.location_names = {r.id: r.name for r in locations.list_locations(self.ctx)}
        self.practitioner.blockSignals(True)
        self.practitioner.clear()
        for p in practitioners.list_practitioners(self.ctx):
            self.practitioner.addItem(p.display_name, p.id)
        self.practitioner.setCurrentIndex(max(0, self.practitioner.findData(current)))
        self.practitioner.blockSignals(False)
        if self.practitioner.currentData() == current and (
            self.grid.edited or self.view.state() == QAbstractItemView.State.EditingState
        ):
            return  # a change elsewhere (another desk, another tab) keeps what is being typed
        self.load()

    def load(self) -> None:
        pid = self.practitioner.currentData()
        self.error.setText("")
        self.save.setEnabled(pid is not None)
        if pid is None:
            self.grid.resize(1)
            return
        plan = rosters.roster_for(self.ctx, pid, self.today())
        self.every.blockSignals(True)
        self.every.setValue(plan.every_weeks)
        self.every.blockSignals(False)
        self.start.setDate(QDate(plan.effective_from.year, plan.effective_from.month,
                                 plan.effective_from.day))  # fmt: skip
        self.grid.load(plan)

    def on_save(self) -> None:
        pid = self.practitioner.currentData()
        if pid is None:
            return
        self.error.setText("")
        self.grid.error_row = None
        try:
            blocks, rows = self.grid.blocks()
        except ValidationFailed as exc:
            return self._show(exc, int((exc.field or "row.0").split(".")[1]))
        d = self.start.date()
        plan = rosters.RosterPlan(self.every.value(), date(d.year(), d.month(), d.day()),
                                  tuple(blocks))  # fmt: skip

        def call(confirm: bool) -> None:
            rosters.save_roster(self.ctx, pid, plan, confirm=confirm)

        if run_with_confirm(self.ctx, self, call, _GridForm(self, rows)):
            self.error.setStyleSheet("color: #047857;")
            self.error.setText(f"Saved: these hours apply from {plan.effective_from:%d/%m/%Y}.")
        return None

    def _show(self, exc: FrontdeskError, row: int | None) -> None:
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setText(exc.user_message)
        self.grid.error_row = row
        if row is not None:
            self.view.scrollTo(self.grid.index(row, 1))
        last = self.grid.index(len(self.grid.cells) - 1, len(COLUMNS) - 1)
        self.grid.dataChanged.emit(self.grid.index(0, 0), last)


class _GridForm:
    """Shows a service error under the grid, on the row of the block it names."""

    def __init__(self, page: RostersPage, rows: list[int]) -> None:
        self.page, self.rows = page, rows

    def show_error(self, exc: FrontdeskError) -> None:
        field = exc.field if isinstance(exc, ValidationFailed) else None
        row = None
        if field and field.startswith("roster."):
            row = self.rows[int(field.split(".")[1])]
        self.page._show(exc, row)


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return RostersPage(ctx, bus, parent)
