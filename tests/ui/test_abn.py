"""The ABN is checked with the ATO's checksum where it is entered (issue 14 item 9)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from frontdesk.domain.clinic_setup import check_abn
from frontdesk.domain.errors import ValidationFailed
from frontdesk.services import clinic_settings
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.clinic import ClinicSettingsPage


def test_abn_checksum() -> None:
    assert check_abn("53004085616") == "53 004 085 616"
    for bad in ("53 004 085 617", "5300408561", "53-004-085-616x"):  # wrong sum, short, junk
        with pytest.raises(ValidationFailed):
            check_abn(bad)


def test_settings_refuse_an_abn_that_fails_the_check(
    qtbot, ctx: ServiceContext, bus: ChangeBus, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *_a: shown.append(text))
    page = ClinicSettingsPage(ctx, bus)
    qtbot.addWidget(page)
    page.show()
    page.business_number.clear()
    qtbot.keyClicks(page.business_number, "53 004 085 617")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert len(shown) == 1 and "not a valid ABN" in shown[0]
    assert clinic_settings.clinic_info(ctx).business_number != "53 004 085 617"
    page.business_number.clear()
    qtbot.keyClicks(page.business_number, "53 004 085 616")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert clinic_settings.clinic_info(ctx).business_number == "53 004 085 616"
