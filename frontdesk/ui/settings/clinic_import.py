"""Import a clinic from another system: practitioners, appointment types or future appointments
from a CSV export (Cliniko's, or any file mapped by hand). The patient import's dialog (file,
encoding, column mapping over a preview, dry run listing rejected lines, all or nothing) with
a choice of what the file holds. Reached from Settings → Set-up and the first-run set-up."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from frontdesk.domain.clinic_csv import LABELS, ClinicImport, fields_of, guess_mapping
from frontdesk.domain.patient_csv import CsvTable
from frontdesk.services.patients.importing import ImportReport
from frontdesk.services.setup.importing import check_clinic_import, import_clinic
from frontdesk.store.context import ServiceContext
from frontdesk.ui.patients.import_dialog import ImportDialog


class ClinicImportDialog(ImportDialog):
    title = "Import from another system"

    def __init__(
        self, ctx: ServiceContext, parent: QWidget | None = None,
        kind: ClinicImport = ClinicImport.PRACTITIONERS,
    ) -> None:  # fmt: skip
        self._kind = kind  # read by the check running off the GUI thread: not the combo itself
        super().__init__(ctx, parent)
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("import_kind")
        for k in ClinicImport:
            self.kind_box.addItem(k.label, k)
        self.kind_box.setCurrentIndex(list(ClinicImport).index(kind))
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        row = QHBoxLayout()
        row.addWidget(QLabel("The file holds"))
        row.addWidget(self.kind_box)
        row.addWidget(QLabel("Import practitioners and types first, then patients, then "
                             "future appointments (matched to them by name)."), 1)  # fmt: skip
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(0, row)
        self.file_label.setText("No file chosen. Cliniko's data export and most spreadsheets "
                                "work.")  # fmt: skip

    @property
    def kind(self) -> ClinicImport:
        return self._kind

    @property
    def noun(self) -> str:  # type: ignore[override]
        return self.kind.label.lower()

    def _kind_changed(self, _index: int) -> None:
        self._kind = ClinicImport(self.kind_box.currentData())
        if self.table is not None:
            self.show_table(self.table)

    def importable(self) -> tuple[str, ...]:
        return fields_of(self.kind)

    def field_label(self, field: str) -> str:
        return LABELS[field]

    def guess(self, headers: list[str]) -> dict[str, int]:
        return guess_mapping(self.kind, headers)

    def check(self, table: CsvTable, mapping: dict[str, int], emit: Any, stop: Any) -> Any:
        report = check_clinic_import(self.ctx, self.kind, table, mapping, stop)
        emit(report.rows, report.rows)
        return report

    def do_import(self, table: CsvTable, mapping: dict[str, int], emit: Any, stop: Any) -> Any:
        report = import_clinic(self.ctx, self.kind, table, mapping, stop)
        emit(report.rows, report.rows)
        return report

    def imported_text(self, report: ImportReport) -> str:
        return f"Imported {report.imported:,} {self.noun}."
