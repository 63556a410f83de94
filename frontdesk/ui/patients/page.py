"""The Patients page: the search pane on the left, the open card on the right, and the tools
(new patient, duplicates, import, export) above."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.services.patients.importing import export_patients
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.patients.card import PatientCardView
from frontdesk.ui.patients.search_pane import SearchPane
from frontdesk.ui.workers import run_in_background


class PatientsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.bus = ctx, bus
        title = QLabel("Patients")
        title.setObjectName("pageTitle")
        self.new_button = QPushButton("New patient")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_patient)
        self.dupes_button = QPushButton("Duplicates")
        self.dupes_button.clicked.connect(self.review_duplicates)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.clicked.connect(self.import_csv)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export_csv)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        for b in (self.new_button, self.dupes_button, self.import_button, self.export_button):
            top.addWidget(b)

        self.search = SearchPane(ctx)
        self.search.open_patient.connect(self.open_patient)
        self.card = PatientCardView(ctx, bus)
        self.empty = QLabel("Search for a patient and press Enter to open their card.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("muted")
        self.right = QStackedWidget()
        self.right.addWidget(self.empty)
        self.right.addWidget(self.card)
        split = QSplitter()
        split.addWidget(self.search)
        split.addWidget(self.right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([480, 720])
        split.setChildrenCollapsible(False)

        col = QVBoxLayout(self)
        col.setContentsMargins(20, 16, 20, 12)
        col.addLayout(top)
        col.addWidget(split, 1)
        new_shortcut = QShortcut(QKeySequence("Ctrl+N"), self)
        new_shortcut.activated.connect(self.new_patient)
        bus.changed.connect(self._on_changed)

    # -- navigation ---------------------------------------------------------------------------
    def handle_navigation(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        if payload.get("open_patient"):
            self.open_patient(str(payload["open_patient"]))
        if payload.get("focus_search"):
            self.focus_search()

    def focus_search(self) -> None:
        self.search.focus_search()

    def open_patient(self, patient_id: str) -> None:
        if self.card.patient_id != patient_id and not self.settle_unsaved(
            "Save the changes to this card before opening another?"
        ):
            return
        self.card.open(patient_id)
        self.right.setCurrentWidget(self.card)

    def settle_unsaved(self, question: str) -> bool:
        """If the open card has unsaved edits, ask: Save (only if it saves), Discard, or
        Cancel. True when it is fine to go on."""
        if not self.card.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", question,
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Save:
            return self.card.save_changes()
        if answer == QMessageBox.StandardButton.Discard:
            if self.card.patient_id:
                self.card.open(self.card.patient_id)  # back to what is saved
            return True
        return False

    def may_leave(self) -> bool:
        """Asked by the main window before another area is shown."""
        return self.settle_unsaved("Save the changes to this card before leaving Patients?")

    def _on_changed(self, notice: ChangeNotice) -> None:
        if not notice.touches("patients", "patient_alerts", "funding_memberships",
                              "funding_plans", "appointments", "invoices",
                              "payments"):  # fmt: skip
            return
        if self.search.box.text().strip():
            self.search.run_search(keep_places=True)
        if self.card.patient_id and not self.card.dirty:
            self.card.reload()

    # -- tools --------------------------------------------------------------------------------
    def new_patient(self) -> None:
        from frontdesk.ui.patients.dialogs import NewPatientDialog

        dialog = NewPatientDialog(self.ctx, self)
        if dialog.exec() and dialog.created is not None:
            self.open_patient(dialog.created.patient_id)
            if dialog.created.duplicates:
                names = "\n".join(f"• {d.name} ({d.patient_number}): {d.reason}"
                                  for d in dialog.created.duplicates)  # fmt: skip
                QMessageBox.information(
                    self, "Possible duplicate",
                    f"This patient may already have a card:\n{names}\n\n"
                    "They are listed under Duplicates for review.",
                )  # fmt: skip

    def review_duplicates(self) -> None:
        from frontdesk.ui.patients.dialogs import DuplicatesDialog

        DuplicatesDialog(self.ctx, self, on_open=self.open_patient).exec()

    def import_csv(self) -> None:
        from frontdesk.ui.patients.import_dialog import ImportDialog

        ImportDialog(self.ctx, self).exec()

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export patients", "patients.csv", "CSV (*.csv)"
        )
        if not path:
            return
        self.export_button.setEnabled(False)

        def done(count: object) -> None:
            self.export_button.setEnabled(True)
            QMessageBox.information(self, "Export", f"Exported {count:,} patients to {path}.")

        def failed(exc: BaseException) -> None:
            self.export_button.setEnabled(True)
            text = exc.user_message if isinstance(exc, FrontdeskError) else str(exc)
            QMessageBox.warning(self, "Export", text)

        run_in_background(lambda: export_patients(self.ctx, Path(path)), done, failed)
