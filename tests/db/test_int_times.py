"""Stored times as integer microseconds (desk revision 0390_inttimes, issue 21 item 2).

A populated demo desk made at head is taken down to 0380_checks (times as the old text) and
upgraded again: every row's logical content is equal (db/digest.py), no time is left as text,
the report summary kept by the triggers equals the raw rows, and reports read the same. The
reports' clinic-time SQL is checked against Python's own zone rules across daylight-saving
changes, and the summaries' keys against the text-era expressions on the same rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from alembic import command
from sqlalchemy import text

from frontdesk.db import int_times, migrate, report_summary
from frontdesk.db.digest import table_digests
from frontdesk.db.engine import make_engine
from frontdesk.db.types import from_sqlite_utc_value, sqlite_utc_value
from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.clock import FakeClock
from frontdesk.paths import DeskPaths
from frontdesk.services import report_charts, reports
from frontdesk.services.desk import open_desk
from frontdesk.services.report_sql import local_time
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
SYDNEY = ZoneInfo("Australia/Sydney")


def _migrate(db: Path, target: str, down: bool) -> None:
    engine = make_engine(db)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)
    engine.dispose()


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo clinic of 30 weeks (both daylight-saving changes of 2026) made at head."""
    folder = tmp_path_factory.mktemp("desk")
    with time_machine.travel(NOW, tick=False):
        ctx = open_desk(DeskPaths(folder))
        build_demo(ctx, DemoSpec(practitioners=3, weeks_past=40, weeks_future=2, patients=300))
    ctx.engine.dispose()
    return folder


def _copy(source: Path, to: Path) -> DeskPaths:
    paths = DeskPaths(to)
    to.mkdir()
    paths.database.write_bytes(DeskPaths(source).database.read_bytes())
    return paths


def _context(paths: DeskPaths) -> ServiceContext:
    return open_desk(paths, clock=FakeClock(NOW))


def _some_reports(ctx: ServiceContext) -> list[str]:
    periods = [Period(date(2026, 4, 1), date(2026, 4, 30)),
               Period(date(2026, 9, 20), date(2026, 10, 20)),
               Period(date(2026, 2, 1), date(2026, 11, 27))]  # fmt: skip
    out = []
    for period in periods:
        for report in (
            reports.occupancy,
            reports.new_patients,
            reports.cancellations,
            report_charts.occupancy_heatmap,
            report_charts.cancellations_over_time,
            report_charts.new_and_returning,
            report_charts.practitioner_comparison,
        ):
            out.append(repr(report(ctx, period)))
    return out


def test_stored_values_are_exact_integers_and_text_is_refused(ctx: ServiceContext) -> None:
    at = datetime(2026, 6, 5, 2, 30, 15, 123456, tzinfo=SYDNEY)
    assert sqlite_utc_value(at) == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=1
    )
    assert from_sqlite_utc_value(sqlite_utc_value(at)) == at
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_value(datetime(2026, 1, 1))
    with ctx.write() as session:
        session.execute(text("UPDATE sync_state SET created_at = '2026-01-01 00:00:00.000000'"))
    from frontdesk.models import SyncState

    with ctx.read() as session, pytest.raises(TypeError, match="stored as text"):
        session.get(SyncState, 1)
    with ctx.write() as session:  # leave the desk as the fixture's check expects it
        session.execute(text(f"UPDATE sync_state SET created_at = {sqlite_utc_value(NOW)}"))


def test_down_to_text_and_up_again_keeps_every_row_and_every_report(
    demo_desk: Path, tmp_path: Path
) -> None:
    paths = _copy(demo_desk, tmp_path / "desk")
    db = paths.database
    ctx = _context(paths)
    reports_before = _some_reports(ctx)
    ctx.engine.dispose()
    digests = table_digests(db)

    _migrate(db, "0380_checks", down=True)
    query = lambda sql: _query(db, sql)  # noqa: E731
    # the old text form, exactly as SQLAlchemy stored it
    start = _query(db, "SELECT starts_at FROM appointments ORDER BY id LIMIT 1")[0][0]
    assert isinstance(start, str) and len(start) == 26 and start[10] == " " and start[19] == "."
    assert int_times.text_times(query), "the downgrade gives the text back"
    assert report_summary.differences(query) != [], "the integer-time check reads integers"
    text_booked = sorted(_query(db, report_summary.raw_booked(integer_times=False)))
    assert table_digests(db) == {**digests, "alembic_version": table_digests(db)["alembic_version"]}

    steps: list[tuple[str, float]] = []
    with time_machine.travel(NOW, tick=False):
        opened = open_desk(paths, progress=lambda what, f: steps.append((what, f)))
    opened.engine.dispose()
    converting = [f for what, f in steps if what == "Converting the stored times"]
    # its half of the revisions' share (0.4 to 0.5): 0400_blobkeys has the other
    assert converting and converting[-1] == pytest.approx(0.45), "its own progress, to the end"
    assert [f for _w, f in steps] == sorted(f for _w, f in steps), "progress only moves on"
    assert any(what == "Compacting the database" for what, _f in steps)

    assert table_digests(db) == digests, "every row as it was"
    assert int_times.text_times(query) == []
    assert report_summary.differences(query) == []
    assert sorted(_query(db, report_summary.RAW_BOOKED)) == text_booked
    ctx = _context(paths)
    assert _some_reports(ctx) == reports_before
    ctx.engine.dispose()


def test_a_text_value_that_is_no_time_stops_the_upgrade_and_changes_nothing(
    demo_desk: Path, tmp_path: Path
) -> None:
    paths = _copy(demo_desk, tmp_path / "desk")
    db = paths.database
    _migrate(db, "0380_checks", down=True)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE appointments SET pinned_at = 'soon' WHERE rowid = 1")
    conn.commit()
    conn.close()
    before = _query(db, "SELECT * FROM appointments ORDER BY id")
    with pytest.raises(ValueError, match=r"appointments\.pinned_at: 1 values are not times"):
        _migrate(db, "head", down=False)
    assert _query(db, "SELECT version_num FROM alembic_version") == [("0380_checks",)]
    assert _query(db, "SELECT * FROM appointments ORDER BY id") == before


def test_clinic_time_in_sql_matches_python_across_daylight_saving(demo_desk: Path) -> None:
    """``local_time`` (integer seconds plus the offset of the instant's span) against
    zoneinfo, for every appointment of a period holding both changes of 2026."""
    ctx = _context(DeskPaths(demo_desk))
    period = Period(date(2026, 3, 1), date(2026, 10, 31))
    expr = local_time(ctx, period, "starts_at")
    with ctx.read() as session:
        rows = session.execute(
            text(f"SELECT starts_at, {expr} FROM appointments "
                 "WHERE starts_at >= :a AND starts_at < :b"),
            {"a": sqlite_utc_value(datetime(2026, 3, 1, tzinfo=UTC)),
             "b": sqlite_utc_value(datetime(2026, 10, 31, tzinfo=UTC))},
        ).all()  # fmt: skip
    ctx.engine.dispose()
    assert len(rows) > 1000
    for stored, local in rows:
        want = from_sqlite_utc_value(stored).astimezone(ctx.tz).replace(tzinfo=None)
        assert local == want.isoformat(sep=" ", timespec="seconds")
