"""The owner's reports on the 10-year clinic: the dashboard's figures, the dashboard painted by
the real Reports page (offscreen), a year of revenue by month, the occupancy heat map for a
year, and practitioners compared for a year.

Baselines: the same aggregates written by hand in raw sqlite3 over the raw tables on the same
file (for the dashboard, the set of queries behind its figures, with a fixed UTC offset instead
of the clinic's zone; for the paint, those queries and the figures as bare QLabels). Revenue by
month and the heat map read the report summary (db/report_summary.py), so their ratio shows
what the summary saves against scanning a year of invoices or appointments."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

from benchmarks.harness import DEMO_TODAY, Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import sqlite_utc_value
from frontdesk.paths import DeskPaths
from frontdesk.services import dashboard, report_charts
from frontdesk.services.billing.ledger import aged_sql
from frontdesk.services.desk import open_desk
from frontdesk.services.report_types import Period

YEAR = Period(date(2025, 7, 1), date(2026, 6, 30))


DAY_US = 86_400_000_000  # a day in stored microseconds


def _at(year: int, month: int, day: int, hour: int = 13) -> int:
    """A UTC instant as stored (integer microseconds, db/types.py)."""
    return sqlite_utc_value(datetime(year, month, day, hour, tzinfo=UTC))


def _dashboard_plain(raw: sqlite3.Connection) -> None:
    # this week Monday 23 – Sunday 29 Nov 2026 (AEDT, +11 h) and the same week a year before
    for a, b in (
        (_at(2026, 11, 22), _at(2026, 11, 29)),
        (_at(2025, 11, 23), _at(2025, 11, 30)),
    ):
        raw.execute(
            "SELECT practitioner_id, sum((ends_at - starts_at) / 60000000.0) "
            "FROM appointments WHERE starts_at >= ? AND starts_at < ? AND status != 'cancelled' "
            "GROUP BY practitioner_id", (a, b)).fetchall()  # fmt: skip
        raw.execute(
            "SELECT sum(status = 'did_not_arrive'), sum(status = 'cancelled' AND cancelled_at >= "
            "starts_at - 86400000000) FROM appointments WHERE starts_at >= ? "
            "AND starts_at < ?", (a, b)).fetchall()  # fmt: skip
    raw.execute("SELECT * FROM roster_entries WHERE deleted_at IS NULL").fetchall()
    for day in (DEMO_TODAY, date(2025, 11, 28)):
        raw.execute(
            "SELECT method, sum(amount_cents) FROM payments WHERE business_date = ? "
            "GROUP BY method", (day.isoformat(),)).fetchall()  # fmt: skip
        found = raw.execute(
            "SELECT practitioner_id, starts_at, ends_at FROM appointments WHERE starts_at >= ? "
            "AND starts_at < ? AND status != 'cancelled'",
            (_at(day.year, day.month, day.day, 0) - DAY_US,
             _at(day.year, day.month, day.day, 0) + 2 * DAY_US)).fetchall()  # fmt: skip
        assert found or day != DEMO_TODAY, "no appointments around today: matched nothing"
    raw.execute(aged_sql(), {"c30": "2026-10-28", "c60": "2026-09-28", "c90": "2026-08-29"})
    for a, b in (
        (_at(2026, 10, 31), _at(2026, 11, 27)),
        (_at(2025, 10, 31), _at(2025, 11, 27)),
    ):
        raw.execute(
            "SELECT count(*) FROM (SELECT patient_id, min(starts_at) f FROM appointments "
            "WHERE starts_at >= ? AND starts_at < ? AND status != 'cancelled' "
            "AND patient_id IS NOT NULL GROUP BY patient_id) s WHERE NOT EXISTS (SELECT 1 "
            "FROM appointments e WHERE e.patient_id = s.patient_id AND e.starts_at < ? "
            "AND e.status != 'cancelled')", (a, b, a)).fetchall()  # fmt: skip


def run(bench: Bench) -> None:
    folder = bench.scale_dir()
    ctx = open_desk(DeskPaths(folder), clock=demo_clock())
    raw = sqlite3.connect(folder / "frontdesk.sqlite3")

    a, b = (
        time_ms(lambda: dashboard.dashboard(ctx), 5, 1),
        time_ms(lambda: _dashboard_plain(raw), 5, 1),
    )
    bench.record("dashboard: every figure with last year's", "p50", percentile(a, 50), "ms",
                 percentile(b, 50), "vs the raw queries behind the figures")  # fmt: skip

    def revenue() -> None:
        report_charts.revenue_by_month(ctx, YEAR)

    def revenue_plain() -> None:
        raw.execute(
            "SELECT substr(i.issue_date, 1, 7), p.display_name, sum(i.total_cents) FROM invoices i "
            "LEFT JOIN practitioners p ON p.id = i.practitioner_id WHERE i.status = 'issued' "
            "AND i.issue_date BETWEEN '2025-07-01' AND '2026-06-30' GROUP BY 1, 2"
        ).fetchall()

    a, b = time_ms(revenue, 10), time_ms(revenue_plain, 10)
    bench.record("report: revenue by month, 1 year", "p95", percentile(a, 95), "ms",
                 percentile(b, 95), "stacked by practitioner; raw GROUP BY month")  # fmt: skip

    def heat() -> None:
        report_charts.occupancy_heatmap(ctx, YEAR)

    def heat_plain() -> None:
        raw.execute(
            "SELECT strftime('%w %H', starts_at / 1000000 + 36000, 'unixepoch'), "
            "sum((ends_at - starts_at) / 60000000.0) FROM appointments "
            "WHERE starts_at >= ? AND starts_at < ? AND status != 'cancelled' GROUP BY 1",
            (_at(2025, 6, 30, 14), _at(2026, 6, 30, 14)),
        ).fetchall()

    a, b = time_ms(heat, 5, 1), time_ms(heat_plain, 5, 1)
    for stat in (50, 95):
        bench.record("report: occupancy heat map, 1 year", f"p{stat}", percentile(a, stat),
                     "ms", percentile(b, stat),
                     "incl. roster expansion + DST; raw: booked only")  # fmt: skip

    def compared() -> None:
        report_charts.practitioner_comparison(ctx, YEAR)

    def compared_plain() -> None:
        raw.execute(
            "SELECT practitioner_id, count(*), count(DISTINCT patient_id) FROM appointments "
            "WHERE starts_at >= ? AND starts_at < ? "
            "AND status NOT IN ('cancelled', 'did_not_arrive') GROUP BY practitioner_id",
            (_at(2025, 6, 30, 14), _at(2026, 6, 30, 14)),
        ).fetchall()

    a, b = time_ms(compared, 3, 1), time_ms(compared_plain, 3, 1)
    bench.record("report: practitioners compared, 1 year", "p95", percentile(a, 95), "ms",
                 percentile(b, 95), "rebooking via LEAD(); raw: counts only")  # fmt: skip

    _paint(bench, ctx, raw)
    raw.close()
    ctx.engine.dispose()


def _paint(bench: Bench, ctx: object, raw: sqlite3.Connection) -> None:
    """From asking to the dashboard painted: the real Reports page (its figures computed on
    its worker thread, tiles and charts drawn, grabbed) against the raw queries behind the
    figures plus the same figures as bare QLabels grabbed."""
    import time

    from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QWidget

    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.reports import ReportsPage

    app = QApplication.instance() or QApplication([])
    page = ReportsPage(ctx, ChangeBus())  # type: ignore[arg-type]
    page.resize(1400, 800)
    page.show()

    def ours() -> None:
        page.dashboard = None
        page.refresh()
        while page.dashboard is None:
            app.processEvents()
            time.sleep(0.0005)
        page.grab()
        app.processEvents()

    dash = dashboard.dashboard(ctx)  # type: ignore[arg-type]
    plain_widget = QWidget()
    plain_widget.resize(1400, 800)
    grid = QGridLayout(plain_widget)
    for i, f in enumerate(dash.figures):
        grid.addWidget(QLabel(f"{f.title}\n{f.value}"), i // 3, i % 3)
    plain_widget.show()

    def plain() -> None:
        _dashboard_plain(raw)
        for label in plain_widget.findChildren(QLabel):
            label.setText(label.text())
        plain_widget.grab()
        app.processEvents()

    a, b = time_ms(ours, 10), time_ms(plain, 10)
    for stat in (50, 95):
        bench.record("dashboard painted (Reports page, offscreen)", f"p{stat}",
                     percentile(a, stat), "ms", percentile(b, stat),
                     "raw queries + bare QLabels")  # fmt: skip
    page.close()
    plain_widget.close()
