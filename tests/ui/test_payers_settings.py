"""Settings → Payers: a new clinic adds the NDIA (and other payers) through the page's buttons;
a missing name, a name already taken or a bad email address is refused beside its field and
nothing is saved; the payer is then offered on a plan and an appointment type's funder prices;
archiving stops offering it. (The walk in scripts/claims_walk.py found no way to add one.)"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import func, select

from frontdesk.models import AuditEvent, Funder
from frontdesk.services.funders import list_funders, list_payers
from frontdesk.services.setup import practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings import SETTINGS_PAGES
from frontdesk.ui.settings.payers import PayersPage
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton


def error(dialog: Any, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    return str(label.text()) if label.isVisible() else ""


def test_adding_the_ndia_and_what_is_refused(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus
) -> None:
    assert "Payers" in [label for label, _ in SETTINGS_PAGES]
    page = PayersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    said: dict[str, str] = {}

    def fill(d: Any) -> None:
        qtbot.mouseClick(button(d, "Save"), LEFT)
        said["empty"] = error(d, "name")
        d.kind.setFocus()
        qtbot.keyClicks(d.kind, "NDIA")  # keyboard search in the combo
        type_into(qtbot, d.name, "NDIA")
        type_into(qtbot, d.email, "claims at ndis")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        said["email"] = error(d, "email")
        assert d.isVisible()
        type_into(qtbot, d.email, "")
        qtbot.keyClick(d.email, Qt.Key.Key_Backspace)  # the selected address, deleted
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert not d.isVisible()

    in_dialog(fill, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert said == {
        "empty": "Type the payer's name.",
        "email": "claims at ndis is not an email address.",
    }
    assert page.list.model.rows == [["NDIA", "NDIA or NDIS plan manager", ""]]
    (ndia,) = list_payers(owner)
    assert ndia.kind == "ndis_plan_manager"
    with owner.read() as s:
        assert s.scalar(select(func.count()).select_from(Funder)) == 1
        assert s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "funders")
        )
    # offered where a payer is chosen: a plan's payer, an appointment type's funder prices
    assert [f.name for f in list_funders(owner)] == ["NDIA"]
    assert [c.name for c in practitioners.funders(owner)] == ["NDIA"]

    def taken(d: Any) -> None:
        type_into(qtbot, d.name, " NDIA ")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        said["taken"] = error(d, "name")

    in_dialog(taken, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert said["taken"] == "There is already a payer called NDIA."
    assert len(list_payers(owner)) == 1

    page.list.view.selectRow(0)
    qtbot.mouseClick(page.list.archive, LEFT)
    assert list_funders(owner) == [] and list_payers(owner)[0].archived
