"""Qt fixtures: one QApplication for the session (pytest-qt), styled like the real app."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from frontdesk.paths import DeskPaths
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.style import apply_style


@pytest.fixture(scope="session")
def qapp_cls() -> type[QApplication]:
    return QApplication


@pytest.fixture(autouse=True)
def _styled(qapp: QApplication) -> None:
    if not qapp.property("frontdesk_styled"):
        apply_style(qapp)
        qapp.setProperty("frontdesk_styled", True)


@pytest.fixture
def bus(ctx: ServiceContext) -> ChangeBus:
    b = ChangeBus()
    ctx.listeners.append(b.publish)
    return b


@pytest.fixture
def main_window(qtbot, ctx: ServiceContext, bus: ChangeBus, desk_paths: DeskPaths) -> MainWindow:  # type: ignore[no-untyped-def]
    prefs = QSettings(str(desk_paths.config_file), QSettings.Format.IniFormat)
    window = MainWindow(ctx, bus, prefs)
    qtbot.addWidget(window)
    window.show()
    return window
