"""The Reports dashboard: figure tiles (each with last year's figure beside it) and two charts.
A click on a tile opens the report behind it for the same period."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from frontdesk.services.dashboard import Dashboard, Figure
from frontdesk.services.report_types import Chart, Series, format_value
from frontdesk.ui.chart_views import chart_view

TILE_STYLE = """
QFrame#figureTile { background: white; border: 1px solid #e2e8f0; border-radius: 8px; }
QFrame#figureTile:hover { border-color: #1d4e89; }
QLabel#figureValue { font-size: 26px; font-weight: bold; color: #0f172a; }
QLabel#figureTitle { color: #334155; font-weight: bold; }
QLabel#trendGood { color: #15803d; } QLabel#trendBad { color: #b91c1c; }
QLabel#trendFlat { color: #64748b; }
"""


def trend_text(figure: Figure, symbol: str = "$") -> tuple[str, str]:
    """("▲ 12 % on last year (was 40)", object name for its colour)."""
    if figure.previous is None:
        return "No figure for last year", "trendFlat"
    was = format_value(figure.kind, figure.previous, symbol)
    change = figure.change_percent
    if change is None:
        return f"Last year: {was}", "trendFlat"
    # under half a per cent either way reads as "no change", not as a red arrow
    arrow = "▲" if change >= 0.5 else "▼" if change <= -0.5 else "="
    good = change >= 0.5 if figure.up_is_good else change <= -0.5
    bad = change <= -0.5 if figure.up_is_good else change >= 0.5
    name = "trendGood" if good else "trendBad" if bad else "trendFlat"
    return f"{arrow} {abs(change):.0f} % on last year ({was})", name


class FigureTile(QFrame):
    clicked = Signal(object)

    def __init__(self, figure: Figure, symbol: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = figure
        self.setObjectName("figureTile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open {figure.report} for {figure.period.label()}")
        col = QVBoxLayout(self)
        col.setContentsMargins(14, 10, 14, 10)
        title = QLabel(figure.title)
        title.setObjectName("figureTitle")
        self.value = QLabel(format_value(figure.kind, figure.value, symbol) or "—")
        self.value.setObjectName("figureValue")
        text, name = trend_text(figure, symbol)
        self.trend = QLabel(text)
        self.trend.setObjectName(name)
        col.addWidget(title)
        col.addWidget(self.value)
        col.addWidget(self.trend)
        if figure.detail:
            detail = QLabel("  ·  ".join(f"{k} {v}" for k, v in figure.detail))
            detail.setObjectName("muted")
            detail.setWordWrap(True)
            col.addWidget(detail)
        col.addStretch(1)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit(self.figure)
        super().mouseReleaseEvent(event)


class DashboardView(QWidget):
    """Shows one ``Dashboard``; ``open_report`` carries the clicked figure."""

    open_report = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.setStyleSheet(TILE_STYLE)
        self.tiles: dict[str, FigureTile] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._content: QWidget | None = None

    def show_dashboard(self, dash: Dashboard, symbol: str = "$") -> None:
        if self._content is not None:
            self._layout.removeWidget(self._content)
            self._content.deleteLater()
        self._content = content = QWidget(self)
        col = QVBoxLayout(content)
        col.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.tiles = {}
        for i, figure in enumerate(dash.figures):
            tile = FigureTile(figure, symbol, content)
            tile.clicked.connect(self.open_report.emit)
            self.tiles[figure.key] = tile
            grid.addWidget(tile, i // 3, i % 3)
        col.addLayout(grid)
        charts = QHBoxLayout()
        hours = dash.week_hours
        week = dash.figure("occupancy")
        charts.addWidget(
            chart_view(
                Chart(
                    "bar",
                    tuple(h.name for h in hours),
                    (
                        Series("Rostered", tuple(h.rostered_hours for h in hours)),
                        Series("Booked", tuple(h.booked_hours for h in hours)),
                    ),
                    "hours",
                    f"Booked and rostered hours, week of {week.period.first:%d %b}",
                ),
                content,
            ),
            3,
        )
        if not dash.revenue_hidden and any(f.key == "takings" for f in dash.figures):
            takings = dash.figure("takings")
            charts.addWidget(
                chart_view(
                    Chart("bar", tuple(k for k, _v in takings.parts),
                          (Series("Net", tuple(v for _k, v in takings.parts)),),
                          "money", "Takings today by method"),
                    content,
                ),
                2,
            )  # fmt: skip
        col.addLayout(charts, 1)
        if dash.revenue_hidden:
            note = QLabel("Takings and revenue are hidden for reception (clinic setting).")
            note.setObjectName("muted")
            col.addWidget(note)
        self._layout.addWidget(content)
