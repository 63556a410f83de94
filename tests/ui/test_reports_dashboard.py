"""The Reports area driven as a person would: the dashboard comes first, a click on a figure
opens its report for the same period, Stop abandons a run, a change refreshes what is shown,
and the report saves as a PDF that reads back."""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QFileDialog
from report_clinic import make_report_clinic, payment

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import Role
from frontdesk.services import report_export, reports
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.reports import ReportsPage


@pytest.fixture
def page(qtbot, ctx: ServiceContext, clock: FakeClock, bus: ChangeBus) -> ReportsPage:  # type: ignore[no-untyped-def]
    rc = make_report_clinic(ctx)
    ctx.rc = rc  # type: ignore[attr-defined]
    clock.set(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))  # Monday 6 April 2026, 17:00 AEST
    p = ReportsPage(ctx, bus)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    qtbot.waitUntil(lambda: p.dashboard is not None, timeout=20000)
    return p


def test_dashboard_first_then_a_click_opens_the_report(qtbot, page: ReportsPage) -> None:  # type: ignore[no-untyped-def]
    assert page.kind.currentText() == "Dashboard" and page.stack.currentIndex() == 0
    tile = page.dashboard_view.tiles["new_patients"]
    assert tile.value.text() == "1"
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.report is not None and page.progress.isHidden(), timeout=20000)
    assert page.kind.currentText() == "New patients"
    assert page.report is not None and page.report.title == "New patients"
    assert page.period() == reports.Period(date(2026, 4, 1), date(2026, 4, 6))
    assert page.stack.currentIndex() == 1
    last = page.table.model().rowCount() - 1
    assert page.table.model().index(last, 1).data() == "1"


def test_takings_tile_opens_takings_with_its_chart(qtbot, page: ReportsPage) -> None:  # type: ignore[no-untyped-def]
    tile = page.dashboard_view.tiles["takings"]
    assert tile.value.text() == "$110.00"
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.report is not None and page.report.title == "Takings by method",
        timeout=20000,
    )
    assert page.charts_row.count() == 1
    model = page.table.model()
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["Cash", "EFTPOS",
                                                                           "Total"]  # fmt: skip


def test_stop_abandons_the_run(qtbot, page: ReportsPage) -> None:  # type: ignore[no-untyped-def]
    before = page.dashboard
    page.run_dashboard()
    assert page.stop_button.isVisible()
    qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    assert page.status.text() == "Stopped." and not page.stop_button.isVisible()
    QThreadPool.globalInstance().waitForDone()
    qtbot.wait(50)
    assert page.dashboard is before, "a stopped run never replaces what is shown"


def test_a_new_payment_refreshes_the_dashboard(
    qtbot, page: ReportsPage, ctx: ServiceContext
) -> None:  # type: ignore[no-untyped-def]
    first = page.dashboard
    with ctx.write("take a payment") as s:
        s.add(payment(ctx.rc.clinic, date(2026, 4, 6), "cash", 5_000))  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: page.dashboard is not first, timeout=20000)
    assert page.dashboard_view.tiles["takings"].value.text() == "$160.00"


def test_save_pdf_reads_back(qtbot, page: ReportsPage, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    page.kind.setCurrentText("Revenue by month (by practitioner)")
    page.first.setDate(date(2026, 3, 1))
    page.last.setDate(date(2026, 4, 30))
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.report is not None and page.report.title.startswith("Revenue by month")
        and page.pdf_button.isEnabled(),
        timeout=20000,
    )  # fmt: skip
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "revenue"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    steps: list[int] = []
    page.progress.valueChanged.connect(steps.append)
    qtbot.mouseClick(page.pdf_button, Qt.MouseButton.LeftButton)
    # laid out on a worker thread: the screen answers while the bar counts the parts
    assert not page.pdf_button.isEnabled() and page.stop_button.isVisible()
    qtbot.waitUntil(lambda: page.status.text().startswith("Saved "), timeout=20000)
    assert steps and steps == sorted(steps) and max(steps) == page.progress.maximum()
    assert page.pdf_button.isEnabled() and not page.progress.isVisible()
    assert [p.name for p in out.parent.iterdir()] == ["revenue.pdf"]  # no .partial left
    pdf = (out.parent / "revenue.pdf").read_bytes()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Revenue by month" in text and "01/03/2026 – 30/04/2026" in text
    assert "$245.00" in text


def test_reception_sees_no_money_when_hidden(
    qtbot, ctx: ServiceContext, clock: FakeClock, bus: ChangeBus
) -> None:  # type: ignore[no-untyped-def]
    make_report_clinic(ctx)
    clock.set(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))
    with ctx.write("hide revenue") as s:
        ctx.settings(s).hide_revenue_from_reception = True
    ctx.actor = Actor("u1", "Front desk", Role.RECEPTION)
    p = ReportsPage(ctx, bus)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.dashboard is not None, timeout=20000)
    kinds = [p.kind.itemText(i) for i in range(p.kind.count())]
    assert not set(kinds) & reports.MONEY_REPORTS
    assert "Occupancy" in kinds
    assert "takings" not in p.dashboard_view.tiles


def test_stop_while_saving_a_pdf_leaves_no_file(
    qtbot, page: ReportsPage, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    page.kind.setCurrentText("Revenue by month (by practitioner)")
    qtbot.waitUntil(lambda: page.report is not None and page.pdf_button.isEnabled(),
                    timeout=20000)  # fmt: skip
    # the layout waits at its first step until Stop is pressed (a slow report, made certain)
    gate = threading.Event()
    real = report_export.render_report

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        told = kwargs.pop("progress", None) or args[4]

        def progress(n: int, of: int) -> None:
            gate.wait(20)
            told(n, of)

        return real(*args[:4], progress)

    monkeypatch.setattr(report_export, "render_report", slow)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "stopped.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(page.pdf_button, Qt.MouseButton.LeftButton)
    assert page.stop_button.isVisible() and page.status.text() == "Saving stopped.pdf…"
    qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    gate.set()
    QThreadPool.globalInstance().waitForDone(20000)
    qtbot.wait(50)
    assert page.status.text() == "Stopped."
    assert list(out.parent.iterdir()) == []  # neither the file nor a half of it
    assert page.pdf_button.isEnabled()


def test_a_report_fits_a_1280_window(qtbot, page: ReportsPage) -> None:  # type: ignore[no-untyped-def]
    """Seen under Xvfb: beside the report list the period bar's buttons were slivers ("ɔo",
    "P", "SV"), and of two charts the second got 40 px."""
    page.resize(1280 - 200, 760)  # the window less the area list
    page.kind.setCurrentText("Practitioners compared")
    qtbot.waitUntil(lambda: page.report is not None and page.progress.isHidden(), timeout=20000)
    qtbot.wait(20)
    for widget in (page.preset, page.first, page.last, page.run_button, page.pdf_button,
                   page.export_button, page.excel_button, page.print_button):  # fmt: skip
        assert widget.width() >= widget.sizeHint().width(), widget
    views = [page.charts_row.itemAt(i).widget() for i in range(page.charts_row.count())]
    assert len(views) == 2
    assert abs(views[0].width() - views[1].width()) <= 2


def test_names_are_drawn_in_full_on_their_side(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCharts import QBarCategoryAxis, QHorizontalBarSeries

    from frontdesk.services.report_types import Chart, Series
    from frontdesk.ui.chart_views import chart_view

    names = ("Chloe Johnson", "Chloé Wilson", "Chloé Walker")
    view = chart_view(Chart("bar", names, (Series("Visits", (3, 2, 1)),), "count", "Visits"))
    qtbot.addWidget(view)
    chart = view.chart()  # type: ignore[attr-defined]
    assert isinstance(chart.series()[0], QHorizontalBarSeries)
    axis = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    assert not axis.truncateLabels()
    assert axis.categories() == list(reversed(names)), "the first name is drawn at the top"
    assert [chart.series()[0].barSets()[0].at(i) for i in range(3)] == [1.0, 2.0, 3.0]
    short = chart_view(Chart("bar", ("Cash", "Card"), (Series("Net", (5, 6)),), "money", "T"))
    qtbot.addWidget(short)
    assert not isinstance(short.chart().series()[0], QHorizontalBarSeries)  # type: ignore[attr-defined]


def test_small_rates_get_decimals_on_the_axis(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCharts import QValueAxis

    from frontdesk.services.report_types import Chart, Series
    from frontdesk.ui.chart_views import chart_view

    names = tuple(f"Practitioner {i}" for i in range(20))
    rates = Chart("bar", names, (Series("Rebooking rate", tuple(0.1 * i for i in range(20))),),
                  "percent", "Rebooking rate")  # fmt: skip
    view = chart_view(rates)
    qtbot.addWidget(view)
    axis = next(a for a in view.chart().axes() if isinstance(a, QValueAxis))  # type: ignore[attr-defined]
    assert axis.labelFormat() == "%.1f %%", "under 5 %: one decimal, not '0 %' at every tick"
    assert view.minimumHeight() >= 20 * 15, "a line per name"
