"""Reports on the 10-year clinic: a year of revenue by practitioner, a month of occupancy.

Baseline: the same aggregate written by hand in raw sqlite3 on the same file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import sqlite_utc_value
from frontdesk.paths import DeskPaths
from frontdesk.services import reports
from frontdesk.services.desk import open_desk


def run(bench: Bench) -> None:
    folder = bench.scale_dir()
    ctx = open_desk(DeskPaths(folder), clock=demo_clock())
    raw = sqlite3.connect(folder / "frontdesk.sqlite3")
    # the benchmark clinic stands at harness.DEMO_TODAY (2026-11-27): these periods lie in its past
    year = reports.Period(date(2025, 7, 1), date(2026, 6, 30))

    def ours() -> None:
        reports.revenue_by_practitioner(ctx, year)

    def plain() -> list[tuple[object, ...]]:
        return raw.execute(
            "SELECT p.display_name, count(i.id), sum(i.total_cents), sum(i.tax_cents) "
            "FROM invoices i LEFT JOIN practitioners p ON p.id = i.practitioner_id "
            "WHERE i.status = 'issued' AND i.issue_date BETWEEN '2025-07-01' AND '2026-06-30' "
            "GROUP BY p.display_name ORDER BY 3 DESC"
        ).fetchall()

    # the same practitioners and invoice counts as the report's
    counts = sorted(int(r[1]) for r in plain())
    assert counts == sorted(int(r[1]) for r in reports.revenue_by_practitioner(ctx, year).rows)

    a, b = time_ms(ours, 10), time_ms(plain, 10)
    bench.record("report: revenue by practitioner, 1 year", "p95", percentile(a, 95), "ms",
                 percentile(b, 95), "vs the same GROUP BY in raw sqlite3")  # fmt: skip

    month = reports.Period(date(2026, 10, 1), date(2026, 10, 31))

    def occ() -> None:
        reports.occupancy(ctx, month)

    def occ_plain() -> None:
        raw.execute(
            "SELECT practitioner_id, sum((ends_at - starts_at) / 60000000.0) "
            "FROM appointments WHERE starts_at >= ? AND starts_at < ? AND status != 'cancelled' "
            "GROUP BY practitioner_id",
            (
                sqlite_utc_value(datetime(2026, 9, 30, 14, tzinfo=UTC)),
                sqlite_utc_value(datetime(2026, 10, 31, 13, tzinfo=UTC)),
            ),
        ).fetchall()

    a, b = time_ms(occ, 10), time_ms(occ_plain, 10)
    bench.record("report: occupancy, 1 month", "p95", percentile(a, 95), "ms", percentile(b, 95),
                 "includes roster expansion; baseline booked minutes only")  # fmt: skip
    raw.close()
    ctx.engine.dispose()
