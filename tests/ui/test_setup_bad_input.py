"""Bad input on the set-up screens, each typed through the widgets: a message beside the field
it is about, the dialog stays open, and nothing is saved half-way."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from frontdesk.services.setup import appointment_types, locations, practitioners, rosters
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.appointment_types import TypesPage
from frontdesk.ui.settings.practitioners import PractitionersPage
from frontdesk.ui.settings.rosters import RostersPage
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton
FRIDAY = date(2026, 11, 27)


def _refused(qtbot: Any, opener: Any, fill: Any, field: str) -> str:
    """Open the dialog, fill it, Save: return the text shown beside ``field``."""
    errors: list[BaseException] = []
    said: list[str] = []

    def act(d: Any) -> None:
        fill(d)
        qtbot.mouseClick(button(d, "Save"), LEFT)
        label = d.findChild(QLabel, f"error_{field}")
        assert d.isVisible(), "the dialog closed: it was saved"
        assert label is not None and label.isVisible(), field
        said.append(label.text())

    in_dialog(act, errors)
    qtbot.mouseClick(opener, LEFT)
    assert not errors, errors
    return said[0]


def test_a_type_of_zero_length(qtbot: Any, owner: ServiceContext, bus: ChangeBus) -> None:
    page = TypesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()

    def fill(d: Any) -> None:
        type_into(qtbot, d.name, "Quick check")
        d.length.setFocus()
        qtbot.keyClick(d.length, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(d.length, "0")

    said = _refused(qtbot, page.list.add, fill, "duration")
    assert said == "An appointment type needs a length of at least 5 minutes."
    assert appointment_types.list_types(owner) == []


def test_an_archived_practitioner_chosen_in_a_type(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    pid = practitioners.add_practitioner(
        owner, practitioners.PractitionerEntry("Tom", "Ng", "Chiropractic")
    )
    tid = appointment_types.add_type(
        owner, appointment_types.TypeEntry("Adjustment", 15, practitioner_ids=(pid,))
    )
    practitioners.archive_practitioner(owner, pid)
    page = TypesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    page.list.select_id(tid)

    def fill(d: Any) -> None:
        assert d.people.item(0).text() == "Tom Ng (archived)"
        type_into(qtbot, d.name, "Spinal adjustment")

    said = _refused(qtbot, page.list.edit, fill, "practitioners")
    assert said == "Tom Ng is archived and cannot offer appointments: untick them."
    assert [t.name for t in appointment_types.list_types(owner)] == ["Adjustment"]


def test_a_room_at_another_location(qtbot: Any, owner: ServiceContext, bus: ChangeBus) -> None:
    north = locations.add_location(owner, locations.LocationEntry("North"))
    south = locations.add_location(owner, locations.LocationEntry("South"))
    locations.add_room(owner, locations.RoomEntry("Gym", south))
    page = PractitionersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()

    def fill(d: Any) -> None:
        type_into(qtbot, d.first_name, "Priya")
        type_into(qtbot, d.last_name, "Shah")
        d.location.setCurrentIndex(d.location.findData(north))
        d.room.setCurrentIndex(d.room.findText("Gym (South)"))

    said = _refused(qtbot, page.list.add, fill, "room")
    assert said.startswith("Gym is not at North: a room belongs to one location.")
    assert practitioners.list_practitioners(owner) == []


def test_overlapping_roster_blocks(qtbot: Any, owner: ServiceContext, bus: ChangeBus) -> None:
    pid = practitioners.add_practitioner(
        owner, practitioners.PractitionerEntry("Priya", "Shah", "Physiotherapy")
    )
    page = RostersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    grid = page.view
    grid.setFocus()
    grid.setCurrentIndex(page.grid.index(1, 1))
    qtbot.keyClick(grid, Qt.Key.Key_F2)
    (editor,) = [e for e in grid.findChildren(QLineEdit) if e.isVisible()]
    qtbot.keyClicks(editor, "9-12:30, 12-17")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(1)
    qtbot.mouseClick(page.save, LEFT)
    assert page.error.text() == (
        "Tuesday hours 12:00–17:00 overlaps Tuesday hours 09:00–12:30: change one or join "
        "them into one block."
    )
    assert page.grid.error_row == 1  # the row is marked
    assert rosters.roster_for(owner, pid, FRIDAY).blocks == ()
