"""A report as a printed page: the clinic's header, the filter used, its charts (drawn with
ReportLab's own graphics from the same numbers as the table) and the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from frontdesk.services.billing.views import ClinicInfo
from frontdesk.services.documents.layout import BOLD, FONT, MUTED, WIDTH, build, grid, header, p
from frontdesk.services.report_types import PALETTE, Chart, Report

CHART_H = 70 * mm


def _number(value: float | int | None, unit: str) -> float:
    if value is None:
        return 0
    return value // 100 if unit == "money" else value  # whole dollars: a chart needs no cents


def axis_label(unit: str, symbol: str = "$") -> Callable[[float], str]:
    """How the value axis writes its numbers: dollars with the clinic's symbol and thousands
    separators, percentages with a sign, hours with "h" (a bare 1200 could be anything)."""

    def number(v: float) -> str:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"

    if unit == "money":
        return lambda v: f"{symbol}{number(v)}"
    if unit == "percent":
        return lambda v: f"{number(v)} %"
    if unit == "hours":
        return lambda v: f"{number(v)} h"
    return number


def _bars(chart: Chart, symbol: str = "$") -> Drawing:
    d = Drawing(WIDTH, CHART_H)
    bc = VerticalBarChart()
    bc.x, bc.y = 12 * mm, 14 * mm
    bc.width = WIDTH - (62 * mm if len(chart.series) > 1 else 16 * mm)
    bc.height = CHART_H - 22 * mm
    bc.data = [[_number(v, chart.unit) for v in s.values] for s in chart.series] or [[0]]
    bc.categoryAxis.categoryNames = list(chart.categories) or [""]
    if chart.kind == "stacked_bar":
        bc.categoryAxis.style = "stacked"
    bc.valueAxis.valueMin = 0
    bc.categoryAxis.labels.fontName = FONT
    bc.categoryAxis.labels.fontSize = 6.5
    many = len(chart.categories) > 8
    bc.categoryAxis.labels.angle = 45 if many else 0
    bc.categoryAxis.labels.boxAnchor = "ne" if many else "n"
    bc.valueAxis.labels.fontName = FONT
    bc.valueAxis.labels.fontSize = 6.5
    bc.valueAxis.labelTextFormat = axis_label(chart.unit, symbol)
    if chart.unit == "int":  # counts: whole steps (no "0.5 cancellations")
        stacked = chart.kind == "stacked_bar"
        columns = list(zip(*bc.data, strict=False))
        top = max((sum(c) if stacked else max(c)) for c in columns) if columns else 0
        if top <= 12:
            bc.valueAxis.valueStep = 1 if top <= 6 else 2
            bc.valueAxis.valueMax = max(1, top + top % (1 if top <= 6 else 2))
    bc.bars.strokeWidth = 0
    for i in range(len(chart.series)):
        bc.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
    d.add(bc)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = WIDTH - 42 * mm, CHART_H - 4 * mm
        legend.columnMaximum = len(chart.series)
        legend.deltay = 9
        legend.fontName, legend.fontSize = FONT, 6.5
        legend.alignment = "right"
        legend.colorNamePairs = [
            (colors.HexColor(PALETTE[i % len(PALETTE)]), s.name[:26])
            for i, s in enumerate(chart.series)
        ]
        d.add(legend)
    return d


def _heat(chart: Chart) -> Drawing:
    rows = len(chart.series)
    cols = max(1, len(chart.categories))
    cell_w = min(12 * mm, (WIDTH - 14 * mm) / cols)
    cell_h = 7 * mm
    d = Drawing(WIDTH, rows * cell_h + 8 * mm)
    top = rows * cell_h + 4 * mm
    base = colors.HexColor(PALETTE[0])
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 100.0)
    lo = lo - 1 if hi - lo < 1 else lo - (hi - lo) * 0.15
    for c, label in enumerate(chart.categories):
        d.add(String(14 * mm + c * cell_w + cell_w / 2, top, label, fontName=FONT,
                     fontSize=6.5, textAnchor="middle", fillColor=MUTED))  # fmt: skip
    for r, series in enumerate(chart.series):
        y = top - (r + 1) * cell_h - 1 * mm
        d.add(String(0, y + cell_h / 3, series.name, fontName=FONT, fontSize=7))
        for c, value in enumerate(series.values):
            x = 14 * mm + c * cell_w
            if value is None:
                fill = colors.HexColor("#f3f4f6")
            else:
                share = (float(value) - lo) / (hi - lo)
                fill = colors.linearlyInterpolatedColor(colors.white, base, 0, 1, share)
            d.add(Rect(x, y, cell_w - 1, cell_h - 1, fillColor=fill, strokeColor=None))
            if value is not None:
                ink = colors.white if share > 0.55 else colors.black
                label = f"{float(value):.0f}"
                d.add(String(x + cell_w / 2, y + cell_h / 3, label, fontName=FONT, fontSize=6,
                             textAnchor="middle", fillColor=ink))  # fmt: skip
    return d


def chart_drawing(chart: Chart, symbol: str = "$") -> Drawing:
    return _heat(chart) if chart.kind == "heatmap" else _bars(chart, symbol)


def _column_groups(report: Report, rows: list[list[str]]) -> list[list[int]]:
    """Which columns go in each table: all of them when they fit the page, else the first
    column and as many more as fit, then the first column again with the next ones below (twenty
    practitioners' revenue by month was a row of overprinted figures and one-letter lines)."""
    n = len(report.columns)
    if n <= 9:
        return [list(range(n))]

    def needed(i: int) -> float:
        words = [w for w in report.columns[i].title.split() if w]
        head = max((stringWidth(w, BOLD, 7.5) for w in words), default=0)
        body = max((stringWidth(str(r[i]), BOLD, 7.5) for r in rows), default=0)  # totals: bold
        return max(head, body) + 6

    first = min(WIDTH * 0.3, 45 * mm)  # as _table lays a table of up to nine columns
    room = WIDTH - first
    widths = [needed(i) for i in range(1, n)]
    if sum(widths) <= room:
        return [list(range(n))]
    groups: list[list[int]] = [[0]]
    used = 0.0
    for i, w in enumerate(widths, 1):
        if len(groups[-1]) > 1 and used + w > room:
            groups.append([0])
            used = 0.0
        groups[-1].append(i)
        used += w
    return groups


def _table(head: list[Paragraph], rows: list[list[str]], has_totals: bool) -> Table:
    n = len(head)
    first = (18 * mm if n > 9 else min(WIDTH * 0.3, 45 * mm)) if n > 2 else WIDTH * 0.6
    widths = [first] + [(WIDTH - first) / max(1, n - 1)] * (n - 1)
    table = grid(head, rows, widths, right_from=1)
    if has_totals:
        last = len(rows)
        table.setStyle([("FONTNAME", (0, last), (-1, last), BOLD),
                        ("LINEABOVE", (0, last), (-1, last), 0.8, colors.black)])  # fmt: skip
    if n > 5:
        table.setStyle([("FONTSIZE", (0, 1), (-1, -1), 6.5 if n > 9 else 7.5),
                        ("LEFTPADDING", (0, 0), (-1, -1), 2),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 2)])  # fmt: skip
    return table


def render_report(
    report: Report,
    clinic: ClinicInfo,
    filter_text: str,
    symbol: str = "$",
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    facts = [("Period", filter_text), ("Rows", f"{len(report.rows):,}")]
    story: list[Any] = [header(clinic, "Report", facts), Spacer(1, 4 * mm),
                        p(report.title, "clinic"), Spacer(1, 3 * mm)]  # fmt: skip
    for chart in report.charts:
        block = [
            p(chart.title or report.title, "label"),
            Spacer(1, 1 * mm),
            chart_drawing(chart, symbol),
        ]
        story += [KeepTogether(block), Spacer(1, 4 * mm)]
    head_style = ParagraphStyle("rhead", fontName=BOLD, fontSize=7.5, leading=9)
    right_head = ParagraphStyle("rheadr", parent=head_style, alignment=TA_RIGHT)
    head = [
        Paragraph(escape(c.title), head_style if i == 0 else right_head)
        for i, c in enumerate(report.columns)
    ]
    rows = [report.formatted(r, symbol) for r in report.rows]
    if report.totals:
        rows.append(report.formatted(report.totals, symbol))
    if not rows:
        rows = [["Nothing in this period", *[""] * (len(head) - 1)]]
    for part in _column_groups(report, rows):
        cells = [[row[i] for i in part] for row in rows]
        story += [_table([head[i] for i in part], cells, bool(report.totals)), Spacer(1, 3 * mm)]
    if report.note:
        story += [Spacer(1, 3 * mm), p(report.note, "small")]
    return build(story, f"{report.title} {filter_text}", clinic.legal_name or clinic.name,
                 progress=progress)  # fmt: skip
