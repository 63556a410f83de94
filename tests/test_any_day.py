"""Whatever the date, the hour and the computer's own time zone, a clinic works: the demo built on
the real clock has days to print, nothing issued in the clinic's future, and today's diary shows.

These tests read the real clock on purpose. ``make test`` runs them at today's date;
``scripts/clock_matrix.py`` (in CI) runs them, and every other test marked ``dates``, at awkward
moments (a Sunday, Christmas Day, 29 February, New Year's Eve 23:59, both daylight-saving change
days in Sydney, a UTC machine for a clinic in Perth) with the clock moved by ``faketime``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from frontdesk.db.types import sqlite_utc_value
from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.clock import SystemClock
from frontdesk.paths import DeskPaths
from frontdesk.services.billing.views import invoice_issue_days
from frontdesk.services.desk import open_desk
from frontdesk.services.diary.view import catalogue, load_view
from frontdesk.services.documents import print_invoices_for_day
from frontdesk.store.context import ServiceContext

pytestmark = pytest.mark.dates

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["Australia/Sydney", "Australia/Perth"])
def real_clock_demo(request: pytest.FixtureRequest, tmp_path: Path) -> ServiceContext:
    """A small demo clinic in the given zone, built at the real (or faked) current moment."""
    ctx = open_desk(DeskPaths(tmp_path / "desk"), clock=SystemClock())
    spec = DemoSpec(practitioners=4, weeks_past=2, weeks_future=1, patients=200)
    build_demo(ctx, replace(spec, time_zone=request.param))
    assert ctx.tz == ZoneInfo(request.param)
    return ctx


def test_nothing_is_dated_in_the_clinics_future(real_clock_demo: ServiceContext) -> None:
    ctx = real_clock_demo
    now = ctx.clock.now()
    clinic_today = now.astimezone(ctx.tz).date()
    days = invoice_issue_days(ctx, limit=30)
    assert days, "two weeks of demo history issue invoices on some day"
    assert all(day <= clinic_today for day, _ in days), (clinic_today, days[:3])
    path = ctx.engine.url.database
    assert path
    db = sqlite3.connect(path)
    started_later = db.execute(
        "SELECT count(*) FROM appointments WHERE starts_at > ? AND status IN "
        "('completed', 'did_not_arrive', 'arrived', 'in_session')",
        (sqlite_utc_value(now),),
    ).fetchone()[0]
    assert started_later == 0, "no appointment that has not started yet is completed or a DNA"


def test_the_latest_day_with_invoices_prints(
    real_clock_demo: ServiceContext, tmp_path: Path
) -> None:
    ctx = real_clock_demo
    day, count = invoice_issue_days(ctx, limit=1)[0]
    written = print_invoices_for_day(ctx, day, tmp_path / "pdfs")
    assert len(written) == count
    for pdf in written[:5]:
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "invoice" in text.lower() and pdf.stem in text
        assert f"{day:%d/%m/%Y}" in text, "the date of issue printed is the day asked for"


def test_todays_diary_shows_in_the_clinics_zone(real_clock_demo: ServiceContext) -> None:
    ctx = real_clock_demo
    today = ctx.clock.now().astimezone(ctx.tz).date()
    practitioners, _types, _rooms = catalogue(ctx)
    days = [today - timedelta(days=1), today, today + timedelta(days=1)]
    data = load_view(ctx, days, [p.id for p in practitioners], practitioners=practitioners)
    start, _ = day_bounds_utc(days[0], ctx.tz)
    _, end = day_bounds_utc(days[-1], ctx.tz)
    assert all(start <= a.starts_at < end for a in data.appointments)
    for a in data.appointments:
        assert a.starts_at.astimezone(ctx.tz).date() in days
    assert {(p.id, d) for p in practitioners for d in days} == set(data.availability)


def _local_day_hours(day: date, zone: str) -> float:
    start, end = day_bounds_utc(day, ZoneInfo(zone))
    return (end - start) / timedelta(hours=1)


def test_day_bounds_follow_daylight_saving() -> None:
    # Sydney's clocks go forward on 4 Oct 2026 and back on 4 Apr 2027; Perth keeps no DST.
    assert _local_day_hours(date(2026, 10, 4), "Australia/Sydney") == 23
    assert _local_day_hours(date(2027, 4, 4), "Australia/Sydney") == 25
    assert _local_day_hours(date(2026, 10, 4), "Australia/Perth") == 24


def _clock_matrix():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import clock_matrix
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return clock_matrix


def test_clock_matrix_puts_every_python_process_at_each_moment() -> None:
    matrix = _clock_matrix()
    code = (
        "import datetime, time, subprocess, sys; "
        "print(datetime.datetime.now(datetime.UTC).isoformat(), time.strftime('%Z')); "
        "subprocess.run([sys.executable, '-c', 'import datetime; "
        "print(datetime.datetime.now(datetime.UTC).isoformat())'], check=True)"
    )
    for moment in matrix.MOMENTS:
        out = subprocess.run(
            [sys.executable, "-c", code], env=matrix.moment_env(moment),
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        parent, zone, child = datetime.fromisoformat(out[0]), out[1], datetime.fromisoformat(out[2])
        for seen in (parent, child):  # a process the test starts is at the moment too
            assert abs(seen - moment.instant()) < timedelta(minutes=5), (moment.name, seen)
        assert zone == parent.astimezone(ZoneInfo(moment.machine_zone)).strftime("%Z")
    # the repeated hour when daylight saving ends: 02:30 the first time is still AEDT (+11)
    dst_ends = next(m for m in matrix.MOMENTS if m.name == "dst-ends")
    assert dst_ends.instant() == datetime(2027, 4, 3, 15, 30, tzinfo=UTC)


def _faketime_available() -> bool:
    if shutil.which("faketime"):
        return True
    if os.environ.get("CI") == "true":
        pytest.fail("faketime is missing: .ci/run installs it (apt-get install faketime)")
    return False


@pytest.mark.skipif(not _faketime_available(), reason="faketime not installed (apt: faketime)")
def test_faketime_moves_a_non_python_process_by_the_offset() -> None:
    """The packaged app is moved with faketime by the same offset the matrix computes."""
    matrix = _clock_matrix()
    moment = next(m for m in matrix.MOMENTS if m.name == "leap-day")
    env = matrix.moment_env(moment)
    out = subprocess.run(
        ["faketime", "-f", f"{int(env['CLOCK_MATRIX_OFFSET']):+d}", "date", "-u", "+%s"],
        env=dict(os.environ), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert abs(int(out) - moment.instant().timestamp()) < 300


@pytest.mark.dates
def test_the_test_processes_themselves_are_at_the_matrix_moment() -> None:
    """Under scripts/clock_matrix.py the suite runs in parallel worker processes: each of them,
    not only the process the matrix started, must be at the moment (in a plain run: no shift)."""
    name = os.environ.get("CLOCK_MATRIX_MOMENT")
    if name is None:
        assert "CLOCK_MATRIX_OFFSET" not in os.environ
        return
    moment = next(m for m in _clock_matrix().MOMENTS if m.name == name)
    # the matrix moved the clock when this moment's run began; the run itself takes minutes
    assert -timedelta(minutes=1) < datetime.now(UTC) - moment.instant() < timedelta(minutes=30)
