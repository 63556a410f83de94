"""Saving a report: PDF (clinic header, filter, charts, table), CSV and Excel. Cells a
spreadsheet would run as a formula are neutralised in both CSV and Excel."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.spreadsheet import safe_row
from frontdesk.services import clinic_settings
from frontdesk.services.documents.report import render_report
from frontdesk.services.report_types import Column, Period, Report
from frontdesk.store.context import ServiceContext

FORMATS = ("pdf", "csv", "xlsx")


def filter_text(ctx: ServiceContext, period: Period) -> str:
    fmt = clinic_settings.clinic_info(ctx).date_format
    return period.label(fmt)


def report_pdf(
    ctx: ServiceContext,
    report: Report,
    period: Period,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The report as PDF; ``progress(done, of)`` follows the layout and may raise to stop."""
    symbol = clinic_settings.currency_symbol(ctx)
    return render_report(report, clinic_settings.clinic_info(ctx), filter_text(ctx, period),
                         symbol, progress)  # fmt: skip


def write_csv(report: Report, path: Path, symbol: str = "$") -> None:
    """UTF-8 with a byte-order mark so spreadsheet programs read accents."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(safe_row([c.title for c in report.columns]))
        for row in report.rows:
            writer.writerow(safe_row(report.formatted(row, symbol)))
        if report.totals:
            writer.writerow(safe_row(report.formatted(report.totals, symbol)))


def _cell_value(col: Column, value: object) -> object:
    if value is None:
        return None
    if col.kind == "money":
        return Decimal(int(value)) / 100  # type: ignore[call-overload]
    if col.kind == "int":
        return int(value)  # type: ignore[call-overload]
    if col.kind in ("percent", "hours"):
        return Decimal(str(round(float(value), 2)))  # type: ignore[arg-type]
    return str(value)  # stored as text below (data type "s"): never run as a formula


_FORMATS = {"money": "#,##0.00", "int": "#,##0", "percent": '0.0" %"', "hours": "#,##0.0"}


def write_xlsx(report: Report, path: Path, heading: str) -> None:
    """An Excel workbook: title and filter on top, typed numbers (money as amounts with two
    places), a bold totals line. Text is stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = report.title[:31].replace("/", "-")
    ws.append([report.title])
    ws.append([heading])
    ws.append([])
    ws.append([c.title for c in report.columns])
    for cell in (ws["A1"], ws["A2"], *ws[4]):
        cell.data_type = "s"
    ws["A1"].font = Font(bold=True, size=13)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    lines = list(report.rows) + ([report.totals] if report.totals else [])
    for i, row in enumerate(lines):
        ws.append([_cell_value(c, v) for c, v in zip(report.columns, row, strict=True)])
        for j, col in enumerate(report.columns):
            cell = ws.cell(row=5 + i, column=j + 1)
            if col.kind in _FORMATS:
                cell.number_format = _FORMATS[col.kind]
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if report.totals and i == len(lines) - 1:
                cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 28
    wb.save(path)


def save(
    ctx: ServiceContext,
    report: Report,
    period: Period,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Save by the file's extension (.pdf, .csv or .xlsx). The file appears whole or not at
    all: it is written beside the name and renamed, so a stop (``progress`` raising) or a
    full disk leaves no half file and keeps an older file of that name."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValidationFailed("Save the report as a .pdf, .csv or .xlsx file.", field="path")
    partial = path.with_name(path.name + ".partial")
    try:
        if kind == "pdf":
            partial.write_bytes(report_pdf(ctx, report, period, progress))
        elif kind == "csv":
            write_csv(report, partial, clinic_settings.currency_symbol(ctx))
        else:
            clinic = clinic_settings.clinic_info(ctx).name
            write_xlsx(report, partial, f"{clinic} · {filter_text(ctx, period)}")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def default_name(report: Report, period: Period, kind: str) -> str:
    def d(x: date) -> str:
        return x.isoformat()

    return f"{report.title} {d(period.first)} to {d(period.last)}.{kind}".replace("/", "-")
