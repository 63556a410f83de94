"""A few rows of "funder → value" inside a form: a practitioner's provider number with each
funder (DVA, a health fund, WorkCover…), or an appointment type's item number and price with
each funder. Add a row, choose the funder, type; Remove takes a row out. A handful of rows at
most, so plain widgets rather than a table view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.services.setup.practitioners import Choice


@dataclass(frozen=True)
class FunderValues:
    funder_id: str
    values: tuple[str, ...]  # one per column, as typed


class FunderRows(QWidget):
    def __init__(
        self, funders: Sequence[Choice], placeholders: Sequence[str], name: str,
        parent: QWidget | None = None, *, widest: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """``widest``: per column, the longest value it should show whole (e.g. an NDIS support
        item number, ``15_055_0128_1_3``); the placeholder otherwise."""
        super().__init__(parent)
        self.widest = tuple(widest)
        self.setObjectName(name)
        self.funders = list(funders)
        self.placeholders = tuple(placeholders)
        self.rows: list[tuple[QWidget, QComboBox, tuple[QLineEdit, ...]]] = []
        self.lines = QVBoxLayout()
        self.lines.setContentsMargins(0, 0, 0, 0)
        self.add = QPushButton("Add a funder")
        self.add.setObjectName(f"{name}_add")
        self.add.setEnabled(bool(self.funders))
        self.add.clicked.connect(self._add_blank)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(self.lines)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addStretch(1)
        col.addLayout(buttons)

    def _add_blank(self) -> None:
        self.add_row()

    def add_row(self, funder_id: str | None = None, values: Sequence[str] = ()) -> None:
        line = QWidget()
        row = QHBoxLayout(line)
        row.setContentsMargins(0, 0, 0, 0)
        box = QComboBox()
        for f in self.funders:
            box.addItem(f.name, f.id)
        taken = {b.currentData() for _w, b, _e in self.rows}
        free = next((i for i, f in enumerate(self.funders) if f.id not in taken), 0)
        box.setCurrentIndex(box.findData(funder_id) if funder_id else free)
        edits = []
        for i, hint in enumerate(self.placeholders):
            edit = QLineEdit(values[i] if i < len(values) else "")
            edit.setPlaceholderText(hint)
            sample = max(hint, self.widest[i] if i < len(self.widest) else "", key=len)
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(sample + "MM") + 12)
            edits.append(edit)
        remove = QPushButton("Remove")
        row.addWidget(box, 2)
        for edit in edits:
            row.addWidget(edit, 1)
        row.addWidget(remove)
        entry = (line, box, tuple(edits))
        self.rows.append(entry)
        self.lines.addWidget(line)
        remove.clicked.connect(lambda: self._remove(entry))

    def _remove(self, entry: tuple[QWidget, QComboBox, tuple[QLineEdit, ...]]) -> None:
        self.rows.remove(entry)
        entry[0].setParent(None)
        entry[0].deleteLater()

    def values(self) -> list[FunderValues]:
        return [
            FunderValues(str(box.currentData()), tuple(e.text() for e in edits))
            for _w, box, edits in self.rows
        ]
