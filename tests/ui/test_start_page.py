"""The owner's start page (issue 20): an owner or practice manager ticks "Open frontdesk on this
dashboard when I sign in" on the Reports dashboard, and the next start opens there; the choice
is theirs alone (another person on the same desk opens where the desk was left), and
reception is never offered it."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QPoint, QSettings, Qt
from report_clinic import make_report_clinic

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import Role
from frontdesk.paths import DeskPaths
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.reports import ReportsPage

OWNER = Actor("owner-1", "Olivia Owner", Role.OWNER)
MANAGER = Actor("manager-1", "Max Manager", Role.PRACTICE_MANAGER)
RECEPTION = Actor("reception-1", "Front desk", Role.RECEPTION)


def _start(
    qtbot, ctx: ServiceContext, bus: ChangeBus, paths: DeskPaths, actor: Actor
) -> MainWindow:  # type: ignore[no-untyped-def]
    """A start of the app for ``actor``: signed in, then the main window from the prefs file."""
    ctx.actor = actor
    window = MainWindow(ctx, bus, QSettings(str(paths.config_file), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def _reports(window: MainWindow) -> ReportsPage:
    page = window.pages["reports"]
    assert isinstance(page, ReportsPage)
    return page


def test_the_owner_chooses_the_dashboard_and_the_next_start_opens_there(  # type: ignore[no-untyped-def]
    qtbot, ctx: ServiceContext, clock: FakeClock, bus: ChangeBus, desk_paths: DeskPaths
) -> None:
    make_report_clinic(ctx)
    clock.set(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))
    first = _start(qtbot, ctx, bus, desk_paths, OWNER)
    first.show_area("diary")
    first.show_area("reports")
    page = _reports(first)
    tick = page.start_here
    qtbot.waitUntil(lambda: page.dashboard is not None, timeout=20000)
    assert tick.isVisible() and not tick.isChecked()
    qtbot.mouseClick(tick, Qt.MouseButton.LeftButton, pos=QPoint(8, tick.height() // 2))
    assert tick.isChecked()
    first.show_area("billing")  # left somewhere else
    first.close()

    again = _start(qtbot, ctx, bus, desk_paths, OWNER)
    assert again.current_area() == "reports"
    page = _reports(again)
    assert page.kind.currentText() == "Dashboard" and page.stack.currentIndex() == 0
    qtbot.waitUntil(lambda: page.dashboard is not None, timeout=20000)
    assert page.start_here.isChecked()
    again.show_area("billing")  # and leaves the desk on Billing
    again.close()

    # another person at the same desk opens where the desk was left
    manager = _start(qtbot, ctx, bus, desk_paths, MANAGER)
    assert manager.current_area() == "billing"
    manager.show_area("reports")
    qtbot.waitUntil(lambda: _reports(manager).dashboard is not None, timeout=20000)
    assert _reports(manager).start_here.isVisible()
    assert not _reports(manager).start_here.isChecked()
    manager.close()

    # the owner unticks it: the next start opens where the desk was left again
    owner = _start(qtbot, ctx, bus, desk_paths, OWNER)
    qtbot.waitUntil(lambda: _reports(owner).dashboard is not None, timeout=20000)
    tick = _reports(owner).start_here
    qtbot.mouseClick(tick, Qt.MouseButton.LeftButton, pos=QPoint(8, tick.height() // 2))
    assert not tick.isChecked()
    owner.show_area("patients")
    owner.close()
    assert _start(qtbot, ctx, bus, desk_paths, OWNER).current_area() == "patients"


def test_reception_is_not_offered_the_dashboard_start(  # type: ignore[no-untyped-def]
    qtbot, ctx: ServiceContext, clock: FakeClock, bus: ChangeBus, desk_paths: DeskPaths
) -> None:
    make_report_clinic(ctx)
    clock.set(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))
    prefs = QSettings(str(desk_paths.config_file), QSettings.Format.IniFormat)
    prefs.setValue(f"users/{RECEPTION.staff_user_id}/open_on_dashboard", True)  # a stale file
    prefs.sync()
    window = _start(qtbot, ctx, bus, desk_paths, RECEPTION)
    assert window.current_area() == "diary"
    window.show_area("reports")
    qtbot.waitUntil(lambda: _reports(window).dashboard is not None, timeout=20000)
    assert not _reports(window).start_here.isVisible()
