"""The "these appointments are affected" list: each booking a change strands can be moved (to
another time or practitioner) or cancelled from the list, through its buttons, before the change
is saved; a move the diary refuses says why beside it and moves nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, Qt
from sqlalchemy import select

from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.domain.errors import RuleViolation
from frontdesk.models import Appointment
from frontdesk.services import diary, patients
from frontdesk.services.diary.view import check_in_view, load_view
from frontdesk.services.setup import leave, locations, practitioners, rosters
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.affected import AffectedDialog, MoveDialog
from frontdesk.ui.settings.leave import LeavePage
from frontdesk.ui.settings.practitioners import PractitionersPage
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
SYDNEY = ZoneInfo("Australia/Sydney")
MONDAY = date(2026, 11, 30)
LEFT = Qt.MouseButton.LeftButton


def _person(ctx: ServiceContext, first: str, last: str) -> str:
    pid = practitioners.add_practitioner(
        ctx, practitioners.PractitionerEntry(first, last, "Physiotherapy")
    )
    rosters.save_roster(ctx, pid, rosters.RosterPlan(
        1, MONDAY, tuple(RosterBlock(d, 540, 1020) for d in range(5))))  # fmt: skip
    return pid


def _book(ctx: ServiceContext, pid: str, day: date, hh: int, last: str) -> str:
    patient = patients.create_patient(ctx, {"first_name": "Ana", "last_name": last})
    start = datetime.combine(day, time(hh), SYDNEY)
    req = diary.BookingRequest(pid, start, start + timedelta(minutes=30), patient.patient_id)
    return diary.book(ctx, req)


def _status(ctx: ServiceContext, appt_id: str) -> tuple[str, str, datetime]:
    with ctx.read() as s:
        a = s.get(Appointment, appt_id)
        assert a is not None
        return a.status, a.practitioner_id, a.starts_at


def test_archiving_moves_one_booking_and_cancels_another_from_the_list(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    priya, tom = _person(owner, "Priya", "Shah"), _person(owner, "Tom", "Ng")
    first = _book(owner, priya, MONDAY, 10, "Silva")
    second = _book(owner, priya, MONDAY + timedelta(days=1), 11, "Lee")
    page = PractitionersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    page.list.select_id(priya)
    errors: list[BaseException] = []
    seen: dict[str, Any] = {}

    def move_there(m: Any) -> None:
        assert isinstance(m, MoveDialog)
        m.practitioner.setCurrentIndex(m.practitioner.findText("Tom Ng"))
        m.day.setDate(QDate(2026, 12, 1))
        type_into(qtbot, m.time, "14:30")
        qtbot.mouseClick(m.move_button, LEFT)
        assert not m.isVisible(), m.error.text()

    def deal_with(d: Any) -> None:
        assert isinstance(d, AffectedDialog)
        seen["before"] = [r[:3] for r in d.model.rows]
        assert d.go_ahead.text() == "Save anyway"
        d.table.selectRow(0)
        in_dialog(move_there, errors)
        qtbot.mouseClick(d.move_button, LEFT)
        # the next one still to do is chosen: cancel it
        qtbot.mouseClick(d.cancel_button, LEFT)
        seen["after"] = [r[3] for r in d.model.rows]
        seen["button"] = d.go_ahead.text()
        qtbot.mouseClick(d.go_ahead, LEFT)

    in_dialog(deal_with, errors)
    qtbot.mouseClick(page.list.archive, LEFT)
    assert not errors, errors
    assert seen["before"] == [
        ["Mon 30/11/2026 10:00", "Priya Shah", "Ana Silva"],
        ["Tue 01/12/2026 11:00", "Priya Shah", "Ana Lee"],
    ]
    assert seen["after"] == ["Moved to Tom Ng, Tue 01/12 14:30", "Cancelled"]
    assert seen["button"] == "Save"
    assert _status(owner, first) == (
        "booked",
        tom,
        datetime(2026, 12, 1, 14, 30, tzinfo=SYDNEY).astimezone(SYDNEY),
    )
    assert _status(owner, second)[0] == "cancelled"
    assert [r.display_name for r in practitioners.list_practitioners(owner)] == ["Tom Ng"]


def test_a_move_the_diary_refuses_says_why_and_moves_nothing(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    priya = _person(owner, "Priya", "Shah")
    appt = _book(owner, priya, MONDAY, 10, "Silva")
    page = LeavePage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    said: list[str] = []

    def refused(m: Any) -> None:
        type_into(qtbot, m.time, "19:00")  # after hours
        qtbot.mouseClick(m.move_button, LEFT)
        said.append(m.error.text())
        assert m.isVisible()

    def in_list(d: Any) -> None:
        in_dialog(refused, errors)
        qtbot.mouseClick(d.move_button, LEFT)
        said.append(d.model.rows[0][3])
        qtbot.mouseClick(d.go_ahead, LEFT)  # save anyway: the booking stays

    # the leave form, filled and saved through its widgets
    def leave_form(f: Any) -> None:
        f.who.setCurrentIndex(f.who.findText("Priya Shah"))
        f.first.setDate(QDate(2026, 11, 30))
        f.last.setDate(QDate(2026, 11, 30))
        type_into(qtbot, f.reason, "Conference")
        in_dialog(in_list, errors)
        qtbot.mouseClick(button(f, "Save"), LEFT)

    in_dialog(leave_form, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert "outside" in said[0].lower() or "roster" in said[0].lower(), said
    assert said[1] == ""  # nothing moved
    assert _status(owner, appt)[0] == "booked"
    assert len(leave.list_leave(owner, datetime(2026, 11, 1, tzinfo=SYDNEY))) == 1
    assert page.list.model.rows[0][0] == "Priya Shah"


def test_a_closed_room_is_refused_when_booking_and_shaded_in_the_diary(
    owner: ServiceContext,
) -> None:
    north = locations.add_location(owner, locations.LocationEntry("North"))
    room = locations.add_room(owner, locations.RoomEntry("Gym", north))
    priya = _person(owner, "Priya", "Shah")
    start, end = leave.whole_days(owner, MONDAY, MONDAY)
    leave.add_leave(owner, leave.LeaveEntry(start, end, room_id=room, reason="Painting"))
    patient = patients.create_patient(owner, {"first_name": "Ana", "last_name": "Silva"})
    at = datetime.combine(MONDAY, time(10), SYDNEY)
    req = diary.BookingRequest(priya, at, at + timedelta(minutes=30), patient.patient_id,
                               room_id=room)  # fmt: skip
    with pytest.raises(RuleViolation, match="Gym is closed then \\(Painting\\)"):
        diary.book(owner, req)
    with owner.read() as s:
        assert s.scalars(select(Appointment)).all() == []
    # the next day it is open again
    later = at + timedelta(days=1)
    diary.book(owner, diary.BookingRequest(priya, later, later + timedelta(minutes=30),
                                           patient.patient_id, room_id=room))  # fmt: skip
    data = load_view(owner, [MONDAY], [priya])
    assert [b.label for b in data.room_closed[room]] == ["Painting"]
    check = check_in_view(data, SYDNEY, owner.clock.now(), priya, room, at.astimezone(),
                                (at + timedelta(minutes=30)).astimezone())  # fmt: skip
    assert any("closed" in p.message for p in check.refusals)
