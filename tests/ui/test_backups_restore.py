"""Settings → Backups with the deduplicating store (issue 21): each backup listed with its date,
the bytes only it holds and those it shares; a backup picked in the list is restored with the
mouse, through the confirmation, and the desk holds what the backup held."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from frontdesk.models.clinic import ClinicSettings
from frontdesk.services import backups
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.backups import BackupsPanel

# backups are named by the clinic's clock, the restore's set-aside copy by the real one
pytestmark = pytest.mark.dates


def _name_clinic(ctx: ServiceContext, name: str) -> None:
    with ctx.write("rename the clinic") as s:
        clinic = s.scalars(select(ClinicSettings)).first()
        assert clinic is not None
        clinic.name = name


def _answer_boxes(qtbot, seen: list[str], wanted: int) -> None:  # type: ignore[no-untyped-def]
    """Click Yes (or OK) on each message box as it comes up, as a person would."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            button = box.button(QMessageBox.StandardButton.Yes) or box.button(
                QMessageBox.StandardButton.Ok
            )
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        if len(seen) < wanted:
            QTimer.singleShot(20, click)

    QTimer.singleShot(0, click)


def test_pick_a_backup_in_the_list_and_restore_it(
    qtbot, owner: ServiceContext, bus: ChangeBus
) -> None:  # type: ignore[no-untyped-def]
    paths = owner.paths
    assert paths is not None
    _name_clinic(owner, "Harbour Physio")
    older = backups.backup_now(owner)
    _name_clinic(owner, "Renamed Later")
    backups.backup_now(owner)

    panel = BackupsPanel(owner, bus)
    qtbot.addWidget(panel)
    panel.resize(900, 340)
    panel.show()
    table = panel.table
    qtbot.waitUntil(lambda: table.rowCount() == 2)  # listed off the GUI thread
    assert [table.horizontalHeaderItem(c).text() for c in range(4)] == [
        "Made", "Kind", "Own", "Shared",
    ]  # fmt: skip
    assert table.item(1, 3).text().endswith(("KB", "MB")), "the older one shares its chunks"
    assert not panel.restore_selected_button.isEnabled(), "nothing picked yet"
    if os.environ.get("FRONTDESK_SCREENSHOTS"):
        panel.grab().save(str(Path(os.environ["FRONTDESK_SCREENSHOTS"]) / "backups-store.png"))

    row = 1 if panel._found[1].path == older else 0
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualItemRect(table.item(row, 0)).center(),
    )
    assert panel.restore_selected_button.isEnabled()
    seen: list[str] = []
    _answer_boxes(qtbot, seen, wanted=2)  # "Replace everything …?" then "Restored …"
    qtbot.mouseClick(panel.restore_selected_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=30_000)
    assert older.name in seen[0] and "Harbour Physio" in seen[0]
    assert seen[1].startswith("Restored “Harbour Physio”")

    conn = sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True)
    try:
        (name,) = conn.execute(
            "SELECT name FROM clinic_settings WHERE deleted_at IS NULL"
        ).fetchone()
    finally:
        conn.close()
    assert name == "Harbour Physio"
    assert any(b.kind == "before-restore" for b in backups.list_backups(paths.backups))
