"""The diary's first paint read with plain sqlite3 (store/first_day.py, services/early.py)
gives exactly what the services' ``load_view`` gives for the same days, on real desk files:
the demo clinic, an empty clinic, and a day with leave, closures, a cancelled appointment, a
double booking, a held time, an alert and an unpaid invoice; and it declines (so the start
goes the usual way) for a file not at the head, with no clinic, damaged, or missing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from diary_clinic import MONDAY, Clinic, make_clinic

from frontdesk.db.head import EXPECTED_HEAD
from frontdesk.db.migrate import EXPECTED_HEAD as MIGRATIONS_HEAD
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import CancellationReason
from frontdesk.models import AppointmentHold, Leave, PatientAlert, WaitlistEntry
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.services.diary.groups import pinboard, waitlist
from frontdesk.services.diary.view import catalogue, load_view
from frontdesk.services.early import EarlyContext, NotReady
from frontdesk.services.early import catalogue as early_catalogue
from frontdesk.services.early import load_view as early_load_view
from frontdesk.store.context import ServiceContext
from frontdesk.store.first_day import FirstScreen, first_screen


def screen_of(ctx: ServiceContext) -> FirstScreen:
    assert ctx.paths is not None
    found = first_screen(ctx.paths.database, EXPECTED_HEAD)
    assert found is not None
    return found


def assert_same_view(ctx: ServiceContext, days: list[date], ids: list[str]) -> None:
    assert ctx.paths is not None
    stand_in = EarlyContext(ctx.paths.database, screen_of(ctx), ctx.clock)
    first = early_load_view(stand_in, days, ids)  # type: ignore[arg-type]
    full = load_view(ctx, days, ids)
    # field by field first, so a failure names what differs
    assert first.practitioners == full.practitioners
    assert first.rules == full.rules
    assert first.leave == full.leave
    assert first.availability == full.availability
    assert len(first.appointments) == len(full.appointments)
    for mine, theirs in zip(first.appointments, full.appointments, strict=True):
        assert mine == theirs
    assert (first.room_busy, first.room_closed, first.holds) == (
        full.room_busy, full.room_closed, full.holds)  # fmt: skip
    assert first == full


def test_the_head_is_the_migrations_head() -> None:
    assert EXPECTED_HEAD == MIGRATIONS_HEAD


def test_demo_clinic_every_day_and_week_as_the_services_read_it(demo_ctx: ServiceContext) -> None:
    ctx = demo_ctx
    screen = screen_of(ctx)
    assert early_catalogue(EarlyContext(ctx.paths.database, screen, ctx.clock)) == catalogue(ctx)  # type: ignore[arg-type, union-attr]
    assert screen.clinic_name and screen.tz == ctx.tz
    ids = [p.id for p in screen.practitioners]
    today = ctx.clock.now().astimezone(ctx.tz).date()
    shown = 0
    for offset in range(-15, 9):
        day = today + timedelta(days=offset)
        assert_same_view(ctx, [day], ids)
        shown += len(load_view(ctx, [day], ids).appointments)
    assert shown > 100  # the demo's days are full: the comparison saw real rows
    monday = today - timedelta(days=today.weekday())
    for week in (-7, 0, 7):
        assert_same_view(ctx, [monday + timedelta(days=week + i) for i in range(7)], ids[:1])
    assert_same_view(ctx, [today], ids[1:3])  # some practitioners shown: the others' rooms busy
    assert (screen.waiting, screen.pinned) == (len(waitlist(ctx)), len(pinboard(ctx)))


def test_an_empty_clinic(ctx: ServiceContext) -> None:
    screen = screen_of(ctx)  # open_desk made the clinic's settings, nothing else
    assert (screen.practitioners, screen.types, screen.rooms) == catalogue(ctx)
    assert screen.practitioners == [] and (screen.waiting, screen.pinned) == (0, 0)
    assert_same_view(ctx, [MONDAY], [])
    c = make_clinic(ctx)  # practitioners and a roster, no appointments yet
    assert_same_view(ctx, [MONDAY], [c.anna, c.ben])
    assert_same_view(ctx, [MONDAY + timedelta(days=i) for i in range(7)], [c.anna])


def book(c: Clinic, hh: int, who: str, patient: str, *, clash: bool = False) -> str:
    start = c.at(MONDAY, hh)
    req = BookingRequest(who, start, start + timedelta(minutes=30), patient, c.standard,
                         room_id=c.room if who == c.anna else None)  # fmt: skip
    return diary.book(c.ctx, req, allow_clash=clash)


def test_a_day_with_leave_closures_a_cancellation_a_double_booking_and_a_hold(
    ctx: ServiceContext, clock: FakeClock
) -> None:
    c = make_clinic(ctx)
    first = book(c, 9, c.anna, c.pat)
    double = book(c, 9, c.anna, c.other, clash=True)  # the same time: a double booking
    cancelled = book(c, 10, c.anna, c.other)
    diary.cancel(ctx, cancelled, CancellationReason.OTHER, "rang to cancel")
    pinned = book(c, 11, c.ben, c.pat)
    diary.pin(ctx, pinned, True)
    book(c, 15, c.ben, c.other)  # Ben's afternoon, where his leave starts at 14:00
    with ctx.write("leave") as s:
        s.add(Leave(practitioner_id=c.ben, starts_at=c.at(MONDAY, 14), ends_at=c.at(MONDAY, 16),
                    reason="Dentist"))  # fmt: skip
        s.add(Leave(kind="meeting", starts_at=c.at(MONDAY, 16, 30), ends_at=c.at(MONDAY, 17)))
        s.add(Leave(room_id=c.room, starts_at=c.at(MONDAY, 8), ends_at=c.at(MONDAY, 8, 30),
                    reason="Cleaning"))  # fmt: skip
        s.add(AppointmentHold(practitioner_id=c.ben, starts_at=c.at(MONDAY, 13),
                              ends_at=c.at(MONDAY, 13, 30),
                              expires_at=clock.now() + timedelta(days=10)))  # fmt: skip
        s.add(PatientAlert(patient_id=c.pat, text="Latex allergy"))
        s.add(WaitlistEntry(patient_id=c.other))
    assert_same_view(ctx, [MONDAY], [c.anna, c.ben])
    assert_same_view(ctx, [MONDAY], [c.ben])  # Anna's room in use, seen from Ben's column
    view = load_view(ctx, [MONDAY], [c.anna, c.ben])
    by_id = {a.id: a for a in view.appointments}
    assert by_id[first].starts_at == by_id[double].starts_at
    assert by_id[cancelled].status == "cancelled" and by_id[first].alert == "Latex allergy"
    assert [b.label for b in view.leave[c.ben]] == ["Dentist", "Meeting"]
    assert view.holds and view.room_closed[c.room]
    screen = screen_of(ctx)
    assert (screen.waiting, screen.pinned) == (1, 1)


def copy(database: Path, to: Path) -> Path:
    """The file as the desk has it (its write-ahead log included)."""
    source, target = sqlite3.connect(database), sqlite3.connect(to)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return to


def test_the_first_read_declines_what_the_usual_start_must_handle(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    assert ctx.paths is not None
    database = ctx.paths.database
    assert first_screen(tmp_path / "none.sqlite3", EXPECTED_HEAD) is None  # a first start
    older = copy(database, tmp_path / "older.sqlite3")
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0390_inttimes'")
    assert first_screen(older, EXPECTED_HEAD) is None  # an upgrade runs first
    unset = copy(database, tmp_path / "unset.sqlite3")
    with sqlite3.connect(unset) as conn:
        conn.execute("DELETE FROM clinic_settings")
    assert first_screen(unset, EXPECTED_HEAD) is None  # no clinic yet
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    assert first_screen(damaged, EXPECTED_HEAD) is None
    assert first_screen(database, EXPECTED_HEAD) is not None


def test_the_stand_in_refuses_what_only_the_open_desk_has(ctx: ServiceContext) -> None:
    assert ctx.paths is not None
    stand_in = EarlyContext(ctx.paths.database, screen_of(ctx), ctx.clock)
    with pytest.raises(NotReady):
        stand_in.read()
    with pytest.raises(NotReady):
        stand_in.actor = ctx.actor  # nothing is set on a desk that is not open
    stand_in.attach(ctx)
    assert stand_in.ready and stand_in.tz == ctx.tz and stand_in.engine is ctx.engine


def test_reading_the_first_screen_imports_no_sqlalchemy(ctx: ServiceContext) -> None:
    assert ctx.paths is not None
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from frontdesk.db.head import EXPECTED_HEAD\n"
        "from frontdesk.domain.clock import SystemClock\n"
        "from frontdesk.services.early import EarlyContext, load_view\n"
        "from frontdesk.store.first_day import first_screen\n"
        f"path = Path({str(ctx.paths.database)!r})\n"
        "screen = first_screen(path, EXPECTED_HEAD)\n"
        "stand_in = EarlyContext(path, screen, SystemClock())\n"
        "import datetime\n"
        "load_view(stand_in, [datetime.date(2026, 11, 30)], [])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    assert done.stdout.strip() == "[]"
