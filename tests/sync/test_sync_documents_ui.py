"""The card's documents, driven like a receptionist: on desk A, select the plan, Attach scan…,
pick the file; after a sync, on desk B, select the document and Open — the system viewer (Qt's
handler for file URLs) is handed a temporary copy with the same bytes. A file of another kind
is refused beside the list."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog

from frontdesk.services.claims.plans import PlanInput, save_plan
from frontdesk.ui.claims.plans_tab import PlansTab
from tests.sync.clinic import Clinic
from tests.sync.test_sync_documents import noise_png


class Viewer(QObject):
    """Stands where the operating system's viewer is: receives what openUrl opens."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[Path] = []

    @Slot(QUrl)
    def show(self, url: QUrl) -> None:
        self.opened.append(Path(url.toLocalFile()))


def test_attach_on_one_desk_open_on_the_other(
    qtbot: Any, clinic: Clinic, tmp_path: Path, monkeypatch: Any
) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient("Maria", "Santos")
    save_plan(
        a.ctx, patient,
        PlanInput(kind="dva", referrer_name="Dr Hart", referrer_provider_number="2345671A",
                  starts_on=date(2026, 6, 1)),
    )  # fmt: skip
    scan = noise_png(tmp_path / "dva referral.png", 300, 200)
    tab_a = PlansTab(a.ctx)
    qtbot.addWidget(tab_a)
    tab_a.load(patient)
    tab_a.list.setCurrentItem(tab_a.list.topLevelItem(0))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(scan), ""))
    qtbot.mouseClick(tab_a.docs.attach, Qt.MouseButton.LeftButton)
    assert tab_a.docs.message.text() == "Attached dva referral.png."
    item = tab_a.docs.list.topLevelItem(0)
    assert (item.text(0), item.text(1)) == ("dva referral.png", "DVA referral")
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:  # to look at by hand
        tab_a.resize(900, 520)
        tab_a.grab().save(str(Path(folder) / "card_plans_documents.png"))

    clinic.settle()
    viewer = Viewer()
    QDesktopServices.setUrlHandler("file", viewer, "show")
    try:
        tab_b = PlansTab(b.ctx)
        qtbot.addWidget(tab_b)
        tab_b.load(patient)
        docs = tab_b.docs.list
        docs.setCurrentItem(docs.topLevelItem(0))
        qtbot.mouseClick(tab_b.docs.open, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    (opened,) = viewer.opened
    assert opened.read_bytes() == scan.read_bytes()
    assert opened.stat().st_mode & 0o077 == 0  # a private copy

    letter = tmp_path / "letter.docx"
    letter.write_bytes(b"PK\x03\x04 not a scan")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(letter), ""))
    qtbot.mouseClick(tab_b.docs.attach, Qt.MouseButton.LeftButton)
    assert "letter.docx is not a PDF, JPEG or PNG file" in tab_b.docs.message.text()
    assert tab_b.docs.list.topLevelItemCount() == 1
