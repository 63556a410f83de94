"""Fixtures for the diary UI tests: the diary page on a tiny clinic."""

from __future__ import annotations

from pathlib import Path

import pytest
from diary_clinic import Clinic, make_clinic
from PySide6.QtCore import QSettings

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


@pytest.fixture
def page(qtbot, ctx: ServiceContext, bus: ChangeBus, clinic: Clinic, tmp_path: Path) -> DiaryPage:  # type: ignore[no-untyped-def]
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    p = DiaryPage(ctx, bus, prefs)
    qtbot.addWidget(p)
    p.setMinimumSize(1000, 700)  # an explicit minimum, as MainWindow has: no size-hint churn
    p.resize(1200, 800)
    p.show()
    qtbot.waitExposed(p)
    p.controller.confirm = lambda text: False
    p.controller.choose_scope = lambda what: "one"
    return p
