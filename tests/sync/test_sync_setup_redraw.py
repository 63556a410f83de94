"""A roster change, a public-holiday closure and a practitioner's leave made on another desk
arrive by sync, and the diary open on this desk redraws from the change notice (origin "sync")
without being asked."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QSettings

from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.services.setup import leave, practitioners, rosters
from frontdesk.store.changes import ChangeNotice
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage
from tests.sync.clinic import Clinic

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
SYDNEY = ZoneInfo("Australia/Sydney")
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def _hours(page: DiaryPage, pid: str, day: date) -> list[tuple[str, str]]:
    assert page.data is not None
    avail = page.data.availability.get((pid, day))
    if avail is None:
        return []
    return [(f"{b.start.astimezone(SYDNEY):%H:%M}", f"{b.end.astimezone(SYDNEY):%H:%M}")
            for b in avail.work]  # fmt: skip


def test_a_roster_and_a_closure_from_another_desk_redraw_the_diary(
    qtbot: Any, clinic: Clinic, tmp_path: Path
) -> None:
    front, back = clinic.add_desk("front"), clinic.add_desk("back")
    pid = practitioners.add_practitioner(
        back.ctx, practitioners.PractitionerEntry("Priya", "Shah", "Physiotherapy")
    )
    weekdays = tuple(RosterBlock(d, 540, 1020) for d in range(5))
    rosters.save_roster(back.ctx, pid, rosters.RosterPlan(1, MONDAY, weekdays))
    clinic.settle()

    bus = ChangeBus()
    front.ctx.listeners.append(bus.publish)
    notices: list[ChangeNotice] = []
    bus.changed.connect(notices.append)
    page = DiaryPage(front.ctx, bus, QSettings(str(tmp_path / "d.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(page)
    page.setMinimumSize(1000, 700)
    page.show()
    page.go_to(MONDAY)
    qtbot.wait(10)
    assert _hours(page, pid, MONDAY) == [("09:00", "17:00")]

    # the back office shortens Mondays from today and closes the clinic on Tuesday
    later = (RosterBlock(0, 720, 1020), *weekdays[1:])
    rosters.save_roster(back.ctx, pid, rosters.RosterPlan(1, MONDAY, later))
    start = datetime.combine(TUESDAY, time(), SYDNEY)
    closed = leave.LeaveEntry(start, start.replace(day=2), reason="Public holiday: test")
    leave.add_leave(back.ctx, closed)
    back.sync()
    front.sync()

    qtbot.waitUntil(lambda: _hours(page, pid, MONDAY) == [("12:00", "17:00")])
    assert any(n.origin == "sync" and n.touches("roster_entries") for n in notices)
    page.go_to(TUESDAY)
    qtbot.wait(10)
    assert page.data is not None
    tuesday = page.data.availability[(pid, TUESDAY)]
    assert [b.label for b in tuesday.leave] == ["Public holiday: test"]

    # then, with Wednesday open on the front desk, the practitioner's leave that day
    wednesday = date(2026, 12, 2)
    page.go_to(wednesday)
    qtbot.wait(10)
    assert page.data is not None and not page.data.availability[(pid, wednesday)].leave
    start = datetime.combine(wednesday, time(), SYDNEY)
    away = leave.LeaveEntry(start, start.replace(day=3), practitioner_id=pid, reason="Course")
    leave.add_leave(back.ctx, away)
    back.sync()
    front.sync()

    def away_on_wednesday() -> bool:
        assert page.data is not None
        got = page.data.availability.get((pid, wednesday))
        return got is not None and [b.label for b in got.leave] == ["Course"]

    qtbot.waitUntil(away_on_wednesday)
