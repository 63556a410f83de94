"""Report charts on screen with Qt's own chart module (QtCharts: already in PySide6-Addons, so
the bundle pays only Qt6Charts and the OpenGL libraries it links, about 4 MB; see
docs/reports.md). A heat map is painted by hand: QtCharts has none."""

from __future__ import annotations

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from frontdesk.services.report_types import PALETTE, Chart


def _plot_value(value: float | int | None, unit: str) -> float:
    if value is None:
        return 0.0
    return float(value) / 100 if unit == "money" else float(value)  # drawing only


def _axis_format(unit: str, top: float) -> str:
    """Whole numbers, unless the axis stops short of 5: a rebooking rate under 1 % was
    labelled "0 %" at every tick."""
    places = 0 if top >= 5 or unit == "money" else 1 if top >= 0.5 else 2
    return {"money": "$%.0f", "percent": f"%.{places}f %%"}.get(unit, f"%.{places}f")


def chart_view(chart: Chart, parent: QWidget | None = None) -> QWidget:
    """A widget drawing ``chart``: a QChartView for bars and lines, a HeatMap for heat maps."""
    if chart.kind == "heatmap":
        return HeatMap(chart, parent)
    if not chart.categories or not any(v for s in chart.series for v in s.values):
        empty = QLabel(f"{chart.title}\n\nNothing to show yet.", parent)
        empty.setObjectName("muted")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return empty
    # names along the bottom are cut short ("Chloe…" for three Chloes) when there are many or
    # they are long: lay the bars on their side, the names down the left, the first on top
    sideways = chart.kind in ("bar", "grouped_bar") and (
        len(chart.categories) > 8 or max(len(c) for c in chart.categories) > 8
    )
    order = list(range(len(chart.categories)))
    if sideways:
        order.reverse()  # a horizontal bar series draws its first category at the bottom
    qchart = QChart()
    qchart.setTitle(chart.title)
    qchart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    qchart.setMargins(QMargins(4, 4, 4, 4))
    qchart.setBackgroundRoundness(0)
    qchart.legend().setVisible(len(chart.series) > 1)
    qchart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
    legend_font = QFont()
    legend_font.setPointSizeF(8.5)
    qchart.legend().setFont(legend_font)  # eight names fit beside a 220-pixel chart
    top = 0.0
    axis_x = QBarCategoryAxis()
    axis_x.append([chart.categories[x] for x in order])
    if chart.kind == "line":
        for i, s in enumerate(chart.series):
            line = QLineSeries()
            line.setName(s.name)
            for x, v in enumerate(s.values):
                y = _plot_value(v, chart.unit)
                line.append(float(x), y)
                top = max(top, y)
            line.setColor(QColor(PALETTE[i % len(PALETTE)]))
            qchart.addSeries(line)
    else:
        series: QStackedBarSeries | QHorizontalBarSeries | QBarSeries
        if chart.kind == "stacked_bar":
            series = QStackedBarSeries()
        else:
            series = QHorizontalBarSeries() if sideways else QBarSeries()
        stacks = [0.0] * len(chart.categories)
        for i, s in enumerate(chart.series):
            bar_set = QBarSet(s.name)
            bar_set.setColor(QColor(PALETTE[i % len(PALETTE)]))
            bar_set.setBorderColor(QColor(PALETTE[i % len(PALETTE)]))
            for x in order:
                y = _plot_value(s.values[x], chart.unit)
                bar_set.append(y)
                stacks[x] = stacks[x] + y if chart.kind == "stacked_bar" else max(stacks[x], y)
            series.append(bar_set)
        top = max(stacks, default=0.0)
        qchart.addSeries(series)
    axis_y = QValueAxis()
    axis_y.setRange(0, top * 1.08 if top > 0 else 1)
    axis_y.setLabelFormat(_axis_format(chart.unit, top * 1.08))
    axis_y.applyNiceNumbers()
    if len(chart.categories) > 8 and not sideways:
        axis_x.setLabelsAngle(-60)
    small = QFont()
    small.setPointSizeF(7.5)
    axis_x.setLabelsFont(small)
    axis_y.setLabelsFont(small)
    if sideways:
        axis_x.setTruncateLabels(False)  # QtCharts otherwise cuts every name to "…"
        qchart.addAxis(axis_x, Qt.AlignmentFlag.AlignLeft)
        qchart.addAxis(axis_y, Qt.AlignmentFlag.AlignBottom)
    else:
        qchart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        qchart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    for drawn in qchart.series():
        drawn.attachAxis(axis_x)
        drawn.attachAxis(axis_y)
    view = QChartView(qchart, parent)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    # on their side, every name needs a line of its own (QtCharts drops every other one)
    view.setMinimumHeight(max(220, 70 + 15 * len(chart.categories)) if sideways else 220)
    view.setObjectName("reportChart")
    return view


def shade_range(chart: Chart) -> tuple[float, float]:
    """The lowest and highest cell: the palest and darkest shade, so differences show."""
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 100.0)
    return (lo - 1, hi) if hi - lo < 1 else (lo - (hi - lo) * 0.15, hi)


class HeatMap(QWidget):
    """Rows (weekdays) by columns (hours); a cell's shade is its percentage, grey where
    nothing was rostered."""

    def __init__(self, chart: Chart, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = chart
        self.setObjectName("heatMap")
        self.setMinimumHeight(40 + 26 * len(chart.series))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def cell_text(self, row: int, col: int) -> str:
        value = self.chart.series[row].values[col]
        return "" if value is None else f"{float(value):.0f}"

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = QColor(PALETTE[0])
        left, top = 44.0, 24.0
        cols = max(1, len(self.chart.categories))
        rows = max(1, len(self.chart.series))
        cw = (self.width() - left - 8) / cols
        lo, hi = shade_range(self.chart)
        ch = min(28.0, (self.height() - top - 4) / rows)
        painter.setPen(QColor("#64748b"))
        for c, label in enumerate(self.chart.categories):
            painter.drawText(QRectF(left + c * cw, 2, cw, top - 4),
                             Qt.AlignmentFlag.AlignCenter, label)  # fmt: skip
        for r, series in enumerate(self.chart.series):
            y = top + r * ch
            painter.setPen(QColor("#0f172a"))
            painter.drawText(QRectF(0, y, left - 6, ch),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             series.name)  # fmt: skip
            for c, value in enumerate(series.values):
                rect = QRectF(left + c * cw + 1, y + 1, cw - 2, ch - 2)
                if value is None:
                    painter.fillRect(rect, QColor("#f1f5f9"))
                    continue
                share = (float(value) - lo) / (hi - lo)
                colour = QColor(
                    round(255 + (base.red() - 255) * share),
                    round(255 + (base.green() - 255) * share),
                    round(255 + (base.blue() - 255) * share),
                )
                painter.fillRect(rect, colour)
                painter.setPen(QColor("white") if share > 0.55 else QColor("#0f172a"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.cell_text(r, c))
        painter.end()
