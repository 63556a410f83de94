"""Settings → Set-up → Import from another system: a Cliniko practitioners export is mapped,
dry-run (the rejected line listed), refused whole, then imported once fixed — through the
dialog's buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from frontdesk.domain.clinic_csv import ClinicImport
from frontdesk.services.setup import practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.clinic_import import ClinicImportDialog
from frontdesk.ui.setup_wizard import SetupLauncher
from tests.ui.setup_support import in_dialog

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton


def test_practitioners_from_a_cliniko_export(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, tmp_path: Path
) -> None:
    path = tmp_path / "practitioners.csv"
    path.write_text("id,first_name,last_name,designation,color\n1,Tom,Ng,Chiropractor,#f59e0b\n"
                    "2,Mia,,Dietitian,teal\n", encoding="utf-8")  # fmt: skip
    launcher = SetupLauncher(owner, bus)
    qtbot.addWidget(launcher)
    launcher.show()
    errors: list[BaseException] = []
    said: list[str] = []

    def use(d: Any) -> None:
        assert isinstance(d, ClinicImportDialog)
        assert d.kind is ClinicImport.PRACTITIONERS
        d.path = path  # the file chooser is the platform's own dialog
        d.load_file()
        qtbot.waitUntil(lambda: d.table is not None)
        assert d.mapping() == {"first_name": 1, "last_name": 2, "profession": 3, "colour": 4}
        qtbot.mouseClick(d.dry_run, LEFT)
        qtbot.waitUntil(lambda: not d.busy)
        said.append(d.report.toPlainText())
        qtbot.mouseClick(d.run, LEFT)
        qtbot.waitUntil(lambda: not d.busy)
        said.append(d.report.toPlainText())
        path.write_text("id,first_name,last_name,designation\n1,Tom,Ng,Chiropractor\n"
                        "2,Mia,Lee,Dietitian\n", encoding="utf-8")  # fmt: skip
        d.load_file()
        qtbot.waitUntil(lambda: d.table is not None and len(d.table.rows) == 2)
        qtbot.mouseClick(d.run, LEFT)
        qtbot.waitUntil(lambda: not d.busy)
        said.append(d.report.toPlainText())

    in_dialog(use, errors)
    qtbot.mouseClick(launcher.importer, LEFT)
    assert not errors, errors
    assert "1 of 2 rows can be imported; 1 would be rejected" in said[0]
    assert "line 3: Last name is empty; “teal” is not a colour" in said[0]
    assert "nothing was imported" in said[1]
    assert said[2].startswith("Imported 2 practitioners")
    names = sorted(p.display_name for p in practitioners.list_practitioners(owner))
    assert names == ["Mia Lee", "Tom Ng"]
