"""The set-up screens in Settings: a roster change that strands a booking lists it before
saving, archiving a practitioner lists their bookings, errors show beside the field, and the
public holidays of the clinic's state are offered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.services import diary, patients
from frontdesk.services.setup import clinic as setup
from frontdesk.services.setup import leave, locations, practitioners, rosters
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.leave import LeavePage
from frontdesk.ui.settings.places import PlacesPage
from frontdesk.ui.settings.practitioners import PractitionersPage
from frontdesk.ui.settings.rosters import RostersPage
from frontdesk.ui.settings.setup_common import AffectedDialog
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
SYDNEY = ZoneInfo("Australia/Sydney")
MONDAY = date(2026, 11, 30)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def physio(owner: ServiceContext) -> str:
    north = locations.add_location(owner, locations.LocationEntry("North"))
    pid = practitioners.add_practitioner(
        owner,
        practitioners.PractitionerEntry(
            "Priya", "Shah", "Physiotherapy", default_location_id=north
        ),
    )
    rosters.save_roster(owner, pid, rosters.RosterPlan(
        1, MONDAY, tuple(RosterBlock(d, 540, 1020) for d in range(5))))  # fmt: skip
    return pid


def _book(ctx: ServiceContext, pid: str, hh: int) -> str:
    patient = patients.create_patient(ctx, {"first_name": "Ana", "last_name": "Silva"})
    start = datetime.combine(MONDAY, time(hh), SYDNEY)
    req = diary.BookingRequest(pid, start, start + timedelta(minutes=30), patient.patient_id)
    return diary.book(ctx, req)


def test_roster_grid_lists_stranded_bookings_before_saving(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, physio: str
) -> None:
    _book(owner, physio, 16)
    page = RostersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    grid = page.view
    grid.setFocus()
    grid.setCurrentIndex(page.grid.index(0, 1))
    qtbot.keyClick(grid, Qt.Key.Key_F2)
    (editor,) = [e for e in grid.findChildren(QLineEdit) if e.isVisible()]
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, "9-15")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(1)  # the view commits a closed editor's text from the event loop
    seen: list[list[list[str]]] = []
    errors: list[BaseException] = []

    def cancel(d: Any) -> None:
        assert isinstance(d, AffectedDialog)
        seen.append(d.table.model().rows)  # type: ignore[attr-defined]

    in_dialog(cancel, errors)
    qtbot.mouseClick(page.save, LEFT)
    assert not errors, errors
    assert seen == [[["Mon 30/11/2026 16:00", "Priya Shah", "Ana Silva", ""]]]
    assert rosters.roster_for(owner, physio, MONDAY).blocks[0].end_minute == 1020  # not saved

    in_dialog(lambda d: qtbot.mouseClick(d.go_ahead, LEFT), errors)
    qtbot.mouseClick(page.save, LEFT)
    assert not errors, errors
    assert rosters.roster_for(owner, physio, MONDAY).blocks[0].end_minute == 900
    assert page.error.text().startswith("Saved")


def test_archiving_a_practitioner_lists_their_bookings(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, physio: str
) -> None:
    _book(owner, physio, 10)
    page = PractitionersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    page.list.select_id(physio)
    errors: list[BaseException] = []
    rows: list[int] = []
    in_dialog(lambda d: rows.append(d.table.model().rowCount()), errors)
    qtbot.mouseClick(page.list.archive, LEFT)
    assert not errors and rows == [1]
    assert [r[0] for r in page.list.model.rows] == ["Priya Shah"]  # cancelled: still there


def test_room_errors_show_beside_the_field(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, physio: str
) -> None:
    locations.add_room(owner, locations.RoomEntry("Gym", locations.list_locations(owner)[0].id))
    page = PlacesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    shown: list[str] = []

    def duplicate(d: Any) -> None:
        type_into(qtbot, d.name, "gym")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        label = d.findChild(QLabel, "error_name")
        assert d.isVisible() and label.isVisible()
        shown.append(label.text())

    in_dialog(duplicate, errors)
    qtbot.mouseClick(page.rooms.add, LEFT)
    assert not errors, errors
    assert shown and "already a room called Gym" in shown[0]
    assert [r[0] for r in page.rooms.model.rows] == ["Gym"]


def test_a_refusal_beside_a_field_goes_once_it_is_corrected(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, physio: str
) -> None:
    """Save with the name already taken: refused beside the name. Typing another name takes
    the refusal away (it stayed, beside the corrected name, until the next Save)."""
    locations.add_room(owner, locations.RoomEntry("Gym", locations.list_locations(owner)[0].id))
    page = PlacesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    seen: list[tuple[bool, bool]] = []

    def correct(d: Any) -> None:
        type_into(qtbot, d.name, "gym")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        label = d.findChild(QLabel, "error_name")
        refused = label.isVisible()
        qtbot.keyClick(d.name, Qt.Key.Key_Backspace)
        qtbot.keyClicks(d.name, "m 2")
        seen.append((refused, label.isVisible()))
        qtbot.mouseClick(button(d, "Save"), LEFT)

    in_dialog(correct, errors)
    qtbot.mouseClick(page.rooms.add, LEFT)
    assert not errors, errors
    assert seen == [(True, False)]
    assert sorted(r[0] for r in page.rooms.model.rows) == ["Gym", "gym 2"]


def test_public_holidays_are_offered_and_closed(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, physio: str
) -> None:
    profile = setup.load_profile(owner)
    setup.save_profile(owner, setup.ClinicProfile(**{**profile.__dict__, "state": "VIC"}))
    page = LeavePage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    offered: list[str] = []

    def holidays(d: Any) -> None:
        items = [d.list.item(i) for i in range(d.list.count())]
        offered.extend(it.text() for it in items)
        for it in items:  # close only on Christmas Day
            if "Christmas Day" not in it.text() or "observed" in it.text():
                it.setCheckState(Qt.CheckState.Unchecked)
        qtbot.mouseClick(button(d, "Save"), LEFT)

    in_dialog(holidays, errors)
    qtbot.mouseClick(page.holidays, LEFT)
    assert not errors, errors
    assert any("Melbourne Cup" in t for t in offered)  # Victoria's own
    assert [r[0] for r in page.list.model.rows] == ["Whole clinic"]
    assert page.list.model.rows[0][3] == "Public holiday: Christmas Day"
    assert [h.day for h in leave.public_holidays(owner, 2026) if h.added] == [date(2026, 12, 25)]
