"""The set-up's "Start from a demo clinic instead": the demo is built through the set-up services
(as the signed-in owner, off the GUI thread), the set-up closes and the diary shows the demo's
practitioners."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from frontdesk.services.setup import clinic as setup
from frontdesk.services.setup import practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.setup_wizard import SetupWizard

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_start_from_the_demo_clinic(qtbot: Any, owner: ServiceContext, bus: ChangeBus) -> None:
    wizard = SetupWizard(owner, bus)
    qtbot.addWidget(wizard)
    wizard.show()
    asked: list[tuple[str, object]] = []
    bus.navigate.connect(lambda area, payload: asked.append((area, payload)))
    qtbot.mouseClick(wizard.clinic.demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=60_000)
    assert asked == [("diary", {})]
    assert setup.progress(owner).completed
    assert len(practitioners.list_practitioners(owner)) == 4
    assert setup.load_profile(owner).business_number == "53 004 085 616"
