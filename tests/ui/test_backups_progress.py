"""Settings → Backups (issue 21): "Back up now" runs off the GUI thread, shows its progress
through copying, compressing and checking, and ends with a compressed, checked backup listed."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt

from frontdesk.services import backups
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.backups import BackupsPanel


def test_back_up_now_shows_progress_and_lists_a_compressed_backup(
    qtbot, owner: ServiceContext, bus: ChangeBus
) -> None:  # type: ignore[no-untyped-def]
    panel = BackupsPanel(owner, bus)
    qtbot.addWidget(panel)
    panel.resize(760, 320)
    panel.show()
    seen: list[float] = []
    panel._progress.changed.connect(lambda _what, f: seen.append(f))
    qtbot.mouseClick(panel.backup_button, Qt.MouseButton.LeftButton)
    assert not panel.backup_button.isEnabled()  # the click returned at once: work is elsewhere
    assert panel.progress.isVisible()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=20_000)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    assert panel.message.text().startswith("Backed up and checked")
    assert not panel.progress.isVisible() and panel.backup_button.isEnabled()
    (made,) = backups.list_backups(owner.paths.backups)  # type: ignore[union-attr]
    assert made.path.name.endswith(".fdbackup")  # in the deduplicating store
    assert panel.table.item(0, 1).text() == "Back up now"
    if os.environ.get("FRONTDESK_SCREENSHOTS"):
        panel.grab().save(str(Path(os.environ["FRONTDESK_SCREENSHOTS"]) / "backups.png"))
