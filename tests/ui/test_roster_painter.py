"""The roster grid you drag on: hours dragged with the mouse (a break with the right button),
removed with a double-click, saved like typed hours; a dragged break outside the hours is
refused beside the grid and nothing is saved."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt

from frontdesk.services.setup import practitioners, rosters
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.roster_painter import merged
from frontdesk.ui.settings.rosters import RostersPage

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
FRIDAY = date(2026, 11, 27)


def drag(qtbot: Any, painter: Any, row: int, start: int, end: int, button: Any = LEFT) -> None:
    qtbot.mousePress(painter, button, pos=painter.point(row, start))
    qtbot.mouseMove(painter, painter.point(row, (start + end) // 2))
    qtbot.mouseMove(painter, painter.point(row, end))
    qtbot.mouseRelease(painter, button, pos=painter.point(row, end))


def test_hours_and_breaks_dragged_on_the_week(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    pid = practitioners.add_practitioner(
        owner, practitioners.PractitionerEntry("Priya", "Shah", "Physiotherapy")
    )
    page = RostersPage(owner, bus)
    qtbot.addWidget(page)
    page.resize(900, 700)
    page.show()
    painter = page.painter
    assert painter.isVisible() and painter.height() >= painter.HEADER + 7 * painter.ROW
    drag(qtbot, painter, 0, 9 * 60, 17 * 60)  # Monday 9-5
    drag(qtbot, painter, 2, 8 * 60, 12 * 60)  # Wednesday 8-12 …
    drag(qtbot, painter, 2, 11 * 60, 14 * 60)  # … and 11-2 joins it
    drag(qtbot, painter, 0, 18 * 60, 18 * 60 + 30, RIGHT)  # a break after hours
    assert page.grid.cells[0][:2] == ["09:00–17:00", "18:00–18:30"]
    assert page.grid.cells[2][0] == "08:00–14:00"
    qtbot.mouseClick(page.save, LEFT)
    assert "outside the hours" in page.error.text() and page.grid.error_row == 0
    assert rosters.roster_for(owner, pid, FRIDAY).blocks == ()  # nothing saved half-way
    qtbot.mouseDClick(painter, LEFT, pos=painter.point(0, 18 * 60 + 15))  # remove the break
    drag(qtbot, painter, 0, 12 * 60 + 30, 13 * 60, RIGHT)  # lunch
    qtbot.mouseDClick(painter, LEFT, pos=painter.point(4, 10 * 60))  # nothing there: no change
    qtbot.mouseClick(page.save, LEFT)
    assert page.error.text().startswith("Saved"), page.error.text()
    plan = rosters.roster_for(owner, pid, FRIDAY)
    assert [(b.weekday, b.start_minute, b.end_minute, b.is_break) for b in plan.blocks] == [
        (0, 540, 1020, False), (0, 750, 780, True), (2, 480, 840, False),
    ]  # fmt: skip
    grab = painter.grab()
    assert not grab.isNull() and grab.width() > 500


def test_merging_spans() -> None:
    assert merged([(600, 700), (540, 600), (800, 900)]) == [(540, 700), (800, 900)]
