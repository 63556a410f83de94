"""The roster as bars you drag: a row per day of the cycle (the grid's rows), time across.
Drag with the left button to add hours, with the right button (or Shift) to add a break;
double-click a bar to remove it. It edits the same cells the grid is typed into, so dragging
and typing are one roster and Save checks both the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from frontdesk.domain.clinic_setup import WEEKDAYS, format_spans, hhmm, parse_spans
from frontdesk.domain.errors import ValidationFailed

if TYPE_CHECKING:
    from frontdesk.ui.settings.rosters import WeekGrid

HOURS_COL, BREAKS_COL = 1, 2
WORK = QColor("#34d399")
BREAK = QColor("#fbbf24")
DRAG = QColor(79, 134, 198, 120)
BAD = QColor("#fee2e2")


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans joined where they overlap or touch, in order."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


class WeekPainter(QWidget):
    FIRST, LAST, STEP = 6 * 60, 22 * 60, 15
    ROW, LABEL, HEADER = 24, 120, 20

    def __init__(self, grid: WeekGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        self.setObjectName("roster_painter")
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._drag: tuple[int, int, bool] | None = None  # row, anchor minute, is a break
        self._at = 0
        for signal in (grid.modelReset, grid.dataChanged):
            signal.connect(self._changed)
        self.setToolTip("Drag to add hours; right-drag (or Shift-drag) to add a break; "
                        "double-click a bar to remove it.")  # fmt: skip

    def _changed(self, *_args: object) -> None:
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(720, self.HEADER + self.ROW * len(self.grid.cells) + 2)

    # -- geometry ---------------------------------------------------------------------------
    def _scale(self) -> float:
        return max(1.0, self.width() - self.LABEL - 24) / (self.LAST - self.FIRST)

    def x_of(self, minute: int) -> float:
        return self.LABEL + (minute - self.FIRST) * self._scale()

    def minute_at(self, x: float) -> int:
        raw = self.FIRST + (x - self.LABEL) / self._scale()
        snapped = round(raw / self.STEP) * self.STEP
        return max(self.FIRST, min(self.LAST, int(snapped)))

    def row_at(self, y: float) -> int | None:
        row = int((y - self.HEADER) // self.ROW)
        return row if 0 <= row < len(self.grid.cells) and y >= self.HEADER else None

    def point(self, row: int, minute: int) -> QPoint:
        """Where a minute of a row is drawn (tests drag between these)."""
        return QPoint(round(self.x_of(minute)), self.HEADER + row * self.ROW + self.ROW // 2)

    def _spans(self, row: int, col: int) -> list[tuple[int, int]] | None:
        try:
            return parse_spans(self.grid.cells[row][col - 1], field="row")
        except ValidationFailed:
            return None  # typed wrongly: the grid shows the text, Save says what is wrong

    # -- drawing ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        p.setPen(QPen(QColor("#64748b")))
        for hour in range(self.FIRST // 60, self.LAST // 60 + 1, 2):
            x = self.x_of(hour * 60)
            p.drawText(QRectF(x - 20, 0, 40, self.HEADER), Qt.AlignmentFlag.AlignCenter,
                       f"{hour}:00")  # fmt: skip
        for row in range(len(self.grid.cells)):
            top = self.HEADER + row * self.ROW
            week, day = divmod(row, 7)
            label = WEEKDAYS[day] + (f" (wk {week + 1})" if self.grid.weeks > 1 else "")
            p.setPen(QPen(QColor("#334155")))
            p.drawText(QRectF(4, top, self.LABEL - 8, self.ROW),
                       Qt.AlignmentFlag.AlignVCenter, label)  # fmt: skip
            p.setPen(QPen(QColor("#e2e8f0")))
            p.drawLine(self.LABEL, top + self.ROW, self.width(), top + self.ROW)
            for col, colour, inset in ((HOURS_COL, WORK, 3), (BREAKS_COL, BREAK, 7)):
                spans = self._spans(row, col)
                if spans is None:
                    p.fillRect(QRectF(self.LABEL, top, self.width(), self.ROW), BAD)
                    continue
                for start, end in spans:
                    rect = QRectF(self.x_of(start), top + inset, self.x_of(end) - self.x_of(start),
                                  self.ROW - 2 * inset)  # fmt: skip
                    p.fillRect(rect, colour)
        if self._drag is not None:
            row, anchor, _ = self._drag
            lo, hi = sorted((anchor, self._at))
            top = self.HEADER + row * self.ROW
            p.fillRect(QRectF(self.x_of(lo), top + 2, self.x_of(hi) - self.x_of(lo),
                              self.ROW - 4), DRAG)  # fmt: skip
            p.setPen(QPen(QColor("#1e3a8a")))
            p.drawText(QRectF(self.x_of(lo), top, 120, self.ROW), Qt.AlignmentFlag.AlignVCenter,
                       f" {hhmm(lo)}–{hhmm(hi)}")  # fmt: skip
        p.end()

    # -- mouse ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.row_at(event.position().y())
        if row is None or event.position().x() < self.LABEL:
            return
        is_break = (event.button() == Qt.MouseButton.RightButton
                    or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))  # fmt: skip
        self._at = self.minute_at(event.position().x())
        self._drag = (row, self._at, is_break)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            self._at = self.minute_at(event.position().x())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        row, anchor, is_break = self._drag
        self._drag = None
        lo, hi = sorted((anchor, self.minute_at(event.position().x())))
        if hi > lo:
            col = BREAKS_COL if is_break else HOURS_COL
            spans = self._spans(row, col) or []
            text = format_spans(merged([*spans, (lo, hi)]))
            self.grid.setData(self.grid.index(row, col), text)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        row = self.row_at(event.position().y())
        if row is None:
            return
        minute = self.FIRST + (event.position().x() - self.LABEL) / self._scale()
        for col in (BREAKS_COL, HOURS_COL):  # the break drawn on top goes first
            spans = self._spans(row, col) or []
            kept = [(s, e) for s, e in spans if not s <= minute < e]
            if len(kept) != len(spans):
                self.grid.setData(self.grid.index(row, col),
                                  format_spans(kept))  # fmt: skip
                return
