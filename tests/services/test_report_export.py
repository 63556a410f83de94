"""Reports saved as PDF (read back with pypdf), CSV and Excel (read back with openpyxl), with a
patient-controlled name that starts like a formula staying text."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from report_clinic import make_report_clinic

from frontdesk.domain.errors import ValidationFailed
from frontdesk.services import report_charts, report_export
from frontdesk.services.documents.report import chart_drawing
from frontdesk.services.report_types import Column, Period, Report
from frontdesk.store.context import ServiceContext

PERIOD = Period(date(2026, 3, 1), date(2026, 4, 30))
EVIL = '=HYPERLINK("http://x","click")'


@pytest.fixture
def rctx(ctx: ServiceContext) -> ServiceContext:
    make_report_clinic(ctx)
    with ctx.write("name the clinic") as s:
        ctx.settings(s).name = "Harbour Physio"
    return ctx


def test_pdf_has_the_header_filter_chart_and_table(rctx: ServiceContext) -> None:
    report = report_charts.revenue_by_month(rctx, PERIOD)
    pdf = report_export.report_pdf(rctx, report, PERIOD)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Harbour Physio" in text
    assert "Revenue by month (by practitioner)" in text
    assert "01/03/2026 – 30/04/2026" in text
    assert "$170.00" in text and "$245.00" in text  # Anna's total, the grand total
    assert "Mar 2026" in text and "Anna Allen" in text  # table and the chart's axis/legend


def test_chart_axis_says_dollars(rctx: ServiceContext) -> None:
    """The value axis of a money chart reads "$0, $50, …", not bare numbers."""
    report = report_charts.revenue_by_month(rctx, PERIOD)
    pdf = report_export.report_pdf(rctx, report, PERIOD)
    words = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split()
    ticks = [w for w in words if re.fullmatch(r"\$\d[\d,]*", w)]
    assert "$0" in ticks and len(ticks) >= 3, words


def test_heat_map_pdf(rctx: ServiceContext) -> None:
    report = report_charts.occupancy_heatmap(rctx, PERIOD)
    pdf = report_export.report_pdf(rctx, report, PERIOD)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Occupancy by weekday and hour" in text and "Mon" in text


def _evil_report() -> Report:
    cols = (Column("Name"), Column("Owing", "money"), Column("Visits", "int"))
    return Report("Evil", cols, [(EVIL, 1234, 2), ("-12", -500, 1)], ("Total", 734, 3))


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    report_export.write_csv(_evil_report(), path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[1][0] == "'" + EVIL
    assert rows[1][1] == "$12.34"
    assert rows[2][0] == "-12" and rows[2][1] == "-$5.00"  # plain numbers stay numbers
    assert rows[-1] == ["Total", "$7.34", "3"]


def test_excel_keeps_numbers_as_numbers_and_formulas_as_text(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    report_export.write_xlsx(_evil_report(), path, "Clinic · 01/03/2026 – 30/04/2026")
    ws = load_workbook(path).active
    assert ws["A1"].value == "Evil" and ws["A2"].value.startswith("Clinic")
    assert [c.value for c in ws[4]] == ["Name", "Owing", "Visits"]
    name = ws["A5"]
    assert name.data_type == "s" and name.value == EVIL  # text, not a formula
    assert ws["B5"].value == pytest.approx(12.34) and ws["B5"].number_format == "#,##0.00"
    assert ws["C5"].value == 2
    assert ws["A7"].value == "Total" and ws["A7"].font.b


def test_save_by_extension_and_refuses_others(rctx: ServiceContext, tmp_path: Path) -> None:
    report = report_charts.cancellations_over_time(rctx, PERIOD)
    for kind in report_export.FORMATS:
        out = tmp_path / f"r.{kind}"
        report_export.save(rctx, report, PERIOD, out)
        assert out.stat().st_size > 100
    with pytest.raises(ValidationFailed, match=r"\.pdf, \.csv or \.xlsx"):
        report_export.save(rctx, report, PERIOD, tmp_path / "r.doc")


def test_a_wide_table_continues_below_with_its_first_column(rctx: ServiceContext) -> None:
    """Twenty practitioners' revenue by month on A4: seen as overprinted figures and headers
    broken a letter a line; now the columns go in tables one below the other."""
    from frontdesk.services.documents.report import _column_groups

    names = [f"Practitioner Number{i:02d}" for i in range(20)]
    cols = (Column("Month"), *(Column(n, "money") for n in names), Column("Total", "money"))
    rows = [(f"M{m:02d}", *(4_354_600 + m * 1000 + i for i in range(20)), 90_000_000 + m)
            for m in range(12)]  # fmt: skip
    report = Report("Revenue by month (by practitioner)", cols, rows, None, ())
    groups = _column_groups(report, [report.formatted(r, "$") for r in rows])
    assert len(groups) > 1 and all(g[0] == 0 for g in groups)
    assert sorted(i for g in groups for i in g[1:]) == list(range(1, 22)), "each column once"
    pdf = report_export.report_pdf(rctx, report, PERIOD)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert text.splitlines().count("Month") >= len(groups)  # and again atop a new page
    for i in range(20):
        assert f"Number{i:02d}" in text, "each header in one piece"
    assert "$43,656.19" in text and "$900,000.11" in text  # M11's last practitioner, total
    narrow = Report("Narrow", cols[:5], [r[:5] for r in rows], None, ())
    assert _column_groups(narrow, [narrow.formatted(r, "$") for r in narrow.rows]) == [
        [0, 1, 2, 3, 4]
    ]


def test_a_small_count_chart_steps_in_whole_numbers(rctx: ServiceContext) -> None:
    """Three cancellations: the axis reads 0, 1, 2 — never 0, 0, 1, 2, 2 from half steps."""
    report = report_charts.cancellations_over_time(rctx, PERIOD)
    bars = chart_drawing(report.charts[0]).contents[0]
    bars.valueAxis.configure(bars.data)
    ticks = [bars.valueAxis.labelTextFormat(v) for v in bars.valueAxis._tickValues]
    assert ticks == [str(n) for n in range(len(ticks))], ticks
