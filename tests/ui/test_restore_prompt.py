"""Issue 15, item 5, on screen: a damaged database at start-up offers the newest good backup in a
message box; Yes restores it (the damaged file kept beside the backups), No leaves all as it was."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from frontdesk import app
from frontdesk.domain.errors import DamagedDatabase
from frontdesk.paths import DeskPaths
from frontdesk.services import backups
from frontdesk.services.desk import open_desk

# backups are named and stamped by the real clock
pytestmark = pytest.mark.dates


def _damaged_desk(tmp_path) -> tuple[DeskPaths, DamagedDatabase]:  # type: ignore[no-untyped-def]
    paths = DeskPaths(tmp_path / "desk")
    ctx = open_desk(paths)
    backups.backup_now(ctx)
    ctx.engine.dispose()
    for extra in ("-wal", "-shm"):
        paths.database.with_name(paths.database.name + extra).unlink(missing_ok=True)
    data = paths.database.read_bytes()
    paths.database.write_bytes(data[: len(data) // 2 + 100])
    with pytest.raises(DamagedDatabase) as raised:
        open_desk(paths)
    return paths, raised.value


def _answer(qtbot, button: QMessageBox.StandardButton, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Click a button of the message box once it is up, as a person would."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_yes_restores_the_newest_good_backup_and_keeps_the_damaged_file(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths, damaged = _damaged_desk(tmp_path)
    cut = paths.database.read_bytes()
    seen: list[str] = []
    _answer(qtbot, QMessageBox.StandardButton.Yes, seen)
    assert app._restore_offered(paths, damaged) is True
    assert "cut short" in seen[0] and "Restore" in seen[0]
    ctx = open_desk(paths)  # opens: the restored clinic
    ctx.engine.dispose()
    kept = [p for p in paths.backups.rglob("*") if p.is_file() and p.read_bytes() == cut]
    assert kept, "the damaged file is kept beside the backups"


def test_no_leaves_the_damaged_file_alone(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths, damaged = _damaged_desk(tmp_path)
    cut = paths.database.read_bytes()
    _answer(qtbot, QMessageBox.StandardButton.No, [])
    assert app._restore_offered(paths, damaged) is False
    assert paths.database.read_bytes() == cut
