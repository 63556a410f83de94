"""Lists that can grow (invoices, debtors, patients, the audit trail, reports, conflicts): a
``RowModel`` over plain service rows, shown in a ``QTableView`` through a
``QSortFilterProxyModel``.

A list is filled once (``reset``) when it opens or its filter changes; after that a change
notice updates it row by row (``upsert`` / ``remove``), never by refilling every cell. Column
widths are set once from the header and a sample of rows (never ``ResizeToContents``, which
measures every row of a big list on every change). After Qt's model/view guide.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from frontdesk.domain.money import format_money

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its title, the words shown, and (optionally) what it sorts by."""

    title: str
    text: Callable[[R], str]
    sort: Callable[[R], Any] | None = None
    right: bool = False
    stretch: bool = False
    colour: Callable[[R], str | None] | None = None  # text colour, e.g. archived rows grey
    tip: Callable[[R], str] | None = None
    # The widest text it usually shows ("0455 617 695"): the column is made that wide rather
    # than the default, so a narrow column (an age, a mark) leaves the room to the stretch one.
    sample: str = ""


def money_column(title: str, cents: Callable[[R], int]) -> Column[R]:
    return Column(title, lambda r: format_money(cents(r)), cents, right=True)


class RowModel(QAbstractTableModel, Generic[R]):
    """Rows kept in ``order`` (an ascending sort key), found by ``key`` (the row's id)."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        key: Callable[[R], Hashable],
        order: Callable[[R], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.key = key
        self.order = order
        self.rows: list[R] = []
        self.bold: Callable[[R], bool] | None = None  # e.g. a report's totals line
        self._texts: list[list[str]] = []
        self._where: dict[Hashable, int] = {}

    # -- Qt's side ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[r][c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if self.columns[c].right else LEFT
        column = self.columns[c]
        if role == Qt.ItemDataRole.FontRole and self.bold is not None and self.bold(self.rows[r]):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            colour = column.colour(self.rows[r])
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(self.rows[r]) or None
        if role == SORT_ROLE:
            sort = self.columns[c].sort
            return sort(self.rows[r]) if sort is not None else self._texts[r][c].casefold()
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    # -- the list's side ---------------------------------------------------------------------
    def row(self, r: int) -> R:
        return self.rows[r]

    def find(self, key: Hashable) -> int | None:
        return self._where.get(key)

    def reset(self, rows: Iterable[R], columns: Sequence[Column[R]] | None = None) -> None:
        """Fill the whole list (it opened, or its filter changed; a report may bring its own
        columns)."""
        self.beginResetModel()
        if columns is not None:
            self.columns = list(columns)
        self.rows = list(rows)
        if self.order is not None:
            self.rows.sort(key=self.order)
        self._texts = [self._cells(r) for r in self.rows]
        self._reindex(0)
        self.endResetModel()

    def upsert(self, rows: Iterable[R]) -> None:
        """Rows that changed or are new: each replaced where it is (one ``dataChanged``), or
        moved or inserted where its order puts it."""
        for row in rows:
            at = self._where.get(self.key(row))
            if at is not None and self.rows[at] == row:
                continue  # unchanged: nothing to repaint
            if at is not None and (self.order is None or self._fits(at, row)):
                self.rows[at] = row
                self._texts[at] = self._cells(row)
                last = len(self.columns) - 1
                self.dataChanged.emit(self.index(at, 0), self.index(at, last))
                continue
            if at is not None:
                self._remove_at(at)
            self._insert(row)

    def replace_all(self, rows: Iterable[R]) -> None:
        """A fresh read of the whole list (computed off the GUI thread): only the rows that
        differ are touched; the others, and the selection, stay."""
        fresh = list(rows)
        keep = {self.key(r) for r in fresh}
        self.remove([k for k in list(self._where) if k not in keep])
        self.upsert(fresh)

    def remove(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            at = self._where.get(key)
            if at is not None:
                self._remove_at(at)

    # -- inside ------------------------------------------------------------------------------
    def _cells(self, row: R) -> list[str]:
        return [c.text(row) for c in self.columns]

    def _fits(self, at: int, row: R) -> bool:
        assert self.order is not None
        mine = self.order(row)
        before = at == 0 or self.order(self.rows[at - 1]) <= mine
        after = at == len(self.rows) - 1 or mine <= self.order(self.rows[at + 1])
        return before and after

    def _insert(self, row: R) -> None:
        if self.order is None:
            at = len(self.rows)
        else:
            at = bisect.bisect_right(self.rows, self.order(row), key=self.order)
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, row)
        self._texts.insert(at, self._cells(row))
        self._reindex(at)
        self.endInsertRows()

    def _remove_at(self, at: int) -> None:
        self.beginRemoveRows(QModelIndex(), at, at)
        self._where.pop(self.key(self.rows[at]), None)
        del self.rows[at]
        del self._texts[at]
        self._reindex(at)
        self.endRemoveRows()

    def _reindex(self, start: int) -> None:
        if start == 0:
            self._where = {}
        key = self.key
        for i in range(start, len(self.rows)):
            self._where[key(self.rows[i])] = i


def row_table(model: RowModel[Any], name: str, *, sortable: bool = True) -> QTableView:
    """A read-only table over ``model`` (through a sort/filter proxy): rows selected whole,
    column widths fixed from the header, the stretch column taking the rest. The model must
    have a parent widget (the page), so it outlives the view."""
    view = QTableView()
    proxy = QSortFilterProxyModel(view)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    view.setObjectName(name)
    view.setModel(proxy)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(not any(c.stretch for c in model.columns))
    metrics = view.fontMetrics()
    for i, column in enumerate(model.columns):
        if column.stretch:
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
        elif column.sample:
            words = max(metrics.horizontalAdvance(t) for t in (column.sample, column.title))
            header.resizeSection(i, words + 24)
        else:
            header.resizeSection(i, max(90, metrics.horizontalAdvance(column.title) + 36))
    if sortable:
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the service's order
        view.setSortingEnabled(True)
    return view


def fit_columns(view: QTableView, sample: int = 50) -> None:
    """Widen the non-stretch columns to fit the header and the first ``sample`` rows (a fixed
    cost, whatever the size of the list)."""
    model = view.model()
    header = view.horizontalHeader()
    metrics = view.fontMetrics()
    rows = min(sample, model.rowCount())
    for c in range(model.columnCount()):
        if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch:
            continue
        title = str(model.headerData(c, Qt.Orientation.Horizontal))
        widest = metrics.horizontalAdvance(title) + 36
        for r in range(rows):
            text = str(model.data(model.index(r, c)) or "")
            widest = max(widest, metrics.horizontalAdvance(text) + 20)
        header.resizeSection(c, min(widest, 360))


def source_row(view: QTableView) -> int | None:
    """The model row of the view's current row (through the proxy), or None."""
    index = view.currentIndex()
    if not index.isValid():
        return None
    proxy = view.model()
    assert isinstance(proxy, QSortFilterProxyModel)
    return proxy.mapToSource(index).row()
