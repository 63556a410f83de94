"""Settings → Online booking, typed through the widgets: a type's notice and reach, a
practitioner's own notice and "takes no online bookings", the calendar feeds' detail. Bad
input gets a message beside its field, the dialog stays open and nothing is saved."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget

from frontdesk.services.setup import appointment_types, online, practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.online_booking import OnlineBookingPage
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton


def _cells(panel: Any) -> list[tuple[str, ...]]:
    m = panel.model
    return [
        tuple(str(m.index(r, c).data()) for c in range(m.columnCount()))
        for r in range(m.rowCount())
    ]


def _error(d: Any, field: str) -> str:
    label = d.findChild(QLabel, f"error_{field}")
    return str(label.text()) if label is not None and label.isVisible() else ""


def test_rules_typed_with_bad_input_first(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    pid = practitioners.add_practitioner(
        owner, practitioners.PractitionerEntry("Priya", "Shah", "Physiotherapy")
    )
    tid = appointment_types.add_type(
        owner, appointment_types.TypeEntry("Initial consult", 45, profession="Physiotherapy")
    )
    page = OnlineBookingPage(owner, bus)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    assert _cells(page.types) == [("Initial consult", "No", "none", "no limit")]
    assert _cells(page.people) == [("Priya Shah", "Yes", "as the type", "as the type")]
    errors: list[BaseException] = []

    def type_rules(d: Any) -> None:
        d.online.click()
        type_into(qtbot, d.notice, "a day")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert _error(d, "notice") == "Type the notice in hours, e.g. 24 (not “a day”)."
        type_into(qtbot, d.notice, "24")
        type_into(qtbot, d.ahead, "0")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert _error(d, "ahead") == (
            "Online bookings reach between 1 and 730 days ahead (leave it empty for no limit)."
        )
        assert d.isVisible()
        assert online.type_rules(owner)[0].notice_minutes == 0  # nothing saved yet
        type_into(qtbot, d.ahead, "28")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert not d.isVisible()

    page.types.select_id(tid)
    in_dialog(type_rules, errors)
    qtbot.mouseClick(page.types.edit, LEFT)
    assert not errors, errors
    assert online.type_rules(owner)[0] == online.TypeRules(
        tid, "Initial consult", True, 24 * 60, 28
    )
    assert _cells(page.types) == [("Initial consult", "Yes", "24 h", "28 days")]

    def person_rules(d: Any) -> None:
        type_into(qtbot, d.notice, "-3")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert _error(d, "notice") == "Minimum notice cannot be negative."
        type_into(qtbot, d.notice, "4000")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert _error(d, "notice") == ("Minimum notice is between 0 and 90 days (129,600 minutes).")
        type_into(qtbot, d.notice, "1.5")
        d.online.click()  # takes no online bookings
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert not d.isVisible()

    page.people.select_id(pid)
    in_dialog(person_rules, errors)
    qtbot.mouseClick(page.people.edit, LEFT)
    assert not errors, errors
    assert online.practitioner_rules(owner)[0] == online.PractitionerRules(
        pid, "Priya Shah", False, 90, None
    )
    assert _cells(page.people) == [("Priya Shah", "No", "1.5 h", "as the type")]
    # the calendar feeds: initials, chosen from the list
    page.ical.setFocus()
    qtbot.keyClick(page.ical, Qt.Key.Key_Down)
    assert online.ical_detail(owner) == "initials"
    if shots := os.environ.get("FRONTDESK_SHOTS"):
        page.grab().save(str(Path(shots) / "online-booking.png"))


def test_the_tab_is_in_settings(main_window: Any) -> None:
    page = main_window.show_area("settings")
    tabs = page.findChild(QTabWidget, "settingsTabs")
    names = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Online booking" in names and "Integrations" in names


def test_long_type_names_are_shown_whole(qtbot: Any, owner: ServiceContext, bus: ChangeBus) -> None:
    """Three types that differ only at the end of their names (as a clinic's physiotherapy
    types do) are told apart at the usual window width: the name column is not elided."""
    names = ["Physiotherapist initial", "Physiotherapist standard", "Physiotherapist review"]
    for name in names:
        appointment_types.add_type(
            owner, appointment_types.TypeEntry(name, 30, profession="Physiotherapy")
        )
    page = OnlineBookingPage(owner, bus)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    qtbot.waitExposed(page)
    view = page.types.view
    metrics = view.fontMetrics()
    for row in range(page.types.model.rowCount()):
        text = str(page.types.model.index(row, 0).data())
        assert view.columnWidth(0) >= metrics.horizontalAdvance(text) + 8, text
    if shots := os.environ.get("FRONTDESK_SHOTS"):
        page.grab().save(str(Path(shots) / "online-booking-names.png"))
