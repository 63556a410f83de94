"""Import patients from CSV: choose the file and encoding, check the column mapping against a
preview of the first rows, run a dry run that lists every rejected row and why, then import
all or nothing with a progress bar and Cancel. Reading, checking and importing run off the GUI
thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.patient_csv import (
    ENCODINGS,
    IMPORTABLE,
    CsvTable,
    ImportCancelled,
    guess_mapping,
    read_table,
)
from frontdesk.domain.patient_rules import label
from frontdesk.services.patients.importing import ImportReport, check_import, import_patients
from frontdesk.store.context import ServiceContext
from frontdesk.ui.workers import run_in_background

PREVIEW_ROWS = 5
SKIP = "— not imported —"


class _Progress(QObject):
    moved = Signal(int, int)


class ImportDialog(QDialog):
    """Patients; ``ui/settings/clinic_import.py`` reuses it for the clinic's other records
    through the hooks below (what may be imported, the guess, the check and the import)."""

    title = "Import patients from CSV"
    noun = "patients"

    def importable(self) -> tuple[str, ...]:
        return IMPORTABLE

    def field_label(self, field: str) -> str:
        return label(field)

    def guess(self, headers: list[str]) -> dict[str, int]:
        return guess_mapping(headers)

    def check(self, table: CsvTable, mapping: dict[str, int], emit: Any, stop: Any) -> Any:
        return check_import(self.ctx, table, mapping, emit, stop)

    def do_import(self, table: CsvTable, mapping: dict[str, int], emit: Any, stop: Any) -> Any:
        return import_patients(self.ctx, table, mapping, emit, stop)

    def imported_text(self, report: ImportReport) -> str:
        return (f"Imported {report.imported:,} patients ({report.first_number} to "
                f"{report.last_number}).")  # fmt: skip

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table: CsvTable | None = None
        self.path: Path | None = None
        self.cancel_flag = threading.Event()
        self.busy = False
        self.setWindowTitle(self.title)
        self.resize(980, 640)
        self.choose = QPushButton("Choose file…")
        self.choose.clicked.connect(self.choose_file)
        self.file_label = QLabel(
            "No file chosen. Cliniko's patient export and most spreadsheets work."
        )
        self.encoding = QComboBox()
        for key, text in ENCODINGS.items():
            self.encoding.addItem(text, key)
        self.encoding.currentIndexChanged.connect(lambda _i: self.load_file())
        top = QHBoxLayout()
        top.addWidget(self.choose)
        top.addWidget(self.file_label, 1)
        top.addWidget(QLabel("Encoding"))
        top.addWidget(self.encoding)
        self.preview = QTableWidget()
        self.preview.setObjectName("importPreview")
        self.report = QPlainTextEdit()
        self.report.setObjectName("importReport")
        self.report.setReadOnly(True)
        self.progress = QProgressBar()
        self.progress.setValue(0)
        self.dry_run = QPushButton("Check (dry run)")
        self.dry_run.clicked.connect(lambda: self.start(dry=True))
        self.run = QPushButton("Import")
        self.run.setProperty("primary", True)
        self.run.clicked.connect(lambda: self.start(dry=False))
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.on_cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.dry_run, self.run, self.cancel):
            buttons.addWidget(b)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(QLabel("Columns (choose where each goes) and the first rows of the file:"))
        col.addWidget(self.preview, 2)
        col.addWidget(self.report, 1)
        col.addLayout(buttons)
        self._progress = _Progress()
        self._progress.moved.connect(self._moved)
        self._enable()

    # -- file and mapping -------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"{self.noun.capitalize()} CSV", "",
                                              "CSV (*.csv *.txt)")  # fmt: skip
        if path:
            self.path = Path(path)
            self.load_file()

    def load_file(self) -> None:
        if self.path is None:
            return
        path, encoding = self.path, self.encoding.currentData()
        self.table = None
        self.report.setPlainText("Reading the file…")
        self.busy = True
        self._enable()
        run_in_background(lambda: read_table(path.name, path.read_bytes(), encoding),
                          self._loaded, self._failed)  # fmt: skip

    def _loaded(self, table: Any) -> None:
        self.busy = False
        self.show_table(table)

    def show_table(self, table: CsvTable) -> None:
        self.table = table
        self.file_label.setText(f"{table.name}: {len(table.rows):,} rows")
        mapping = self.guess(table.headers)
        importable = self.importable()
        by_column = {index: field for field, index in mapping.items()}
        self.preview.clear()
        self.preview.setColumnCount(len(table.headers))
        self.preview.setRowCount(min(PREVIEW_ROWS, len(table.rows)) + 1)
        self.preview.setHorizontalHeaderLabels(table.headers)
        self.combos: list[QComboBox] = []
        for c in range(len(table.headers)):
            combo = QComboBox()
            combo.addItem(SKIP, None)
            for field in importable:
                combo.addItem(self.field_label(field), field)
            guessed = by_column.get(c)
            if guessed in importable:
                combo.setCurrentIndex(importable.index(guessed) + 1)
            self.preview.setCellWidget(0, c, combo)
            self.combos.append(combo)
            for r, values in enumerate(table.rows[:PREVIEW_ROWS], start=1):
                self.preview.setItem(r, c, QTableWidgetItem(values[c] if c < len(values) else ""))
        self.preview.resizeColumnsToContents()
        self.report.setPlainText(
            "Check the columns, then run a dry run: it lists every row that would be rejected "
            "and why. The import brings in every row or none."
        )
        self._enable()

    def mapping(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c, combo in enumerate(getattr(self, "combos", [])):
            field = combo.currentData()
            if field and field not in out:
                out[field] = c
        return out

    # -- running ----------------------------------------------------------------------------
    def start(self, *, dry: bool) -> None:
        if self.table is None:
            return
        table, mapping = self.table, self.mapping()
        self.cancel_flag.clear()
        self.busy = True
        self._enable()
        self.progress.setValue(0)
        self.report.setPlainText("Checking…" if dry else "Importing…")
        emit = self._progress.moved.emit
        stop = self.cancel_flag.is_set
        if dry:
            work = lambda: (True, self.check(table, mapping, emit, stop))  # noqa: E731
        else:
            work = lambda: (False, self.do_import(table, mapping, emit, stop))  # noqa: E731
        run_in_background(work, self._finished, self._failed)

    def _moved(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    def _finished(self, result: Any) -> None:
        self.busy = False
        dry, report = result
        assert isinstance(report, ImportReport)
        lines = [f"line {p.line}: {p.reason}" for p in report.rejected]
        dupes = [f"line {p.line}: {p.reason}" for p in report.duplicates]
        if dry:
            head = (f"{report.accepted:,} of {report.rows:,} rows can be imported; "
                    f"{len(report.rejected):,} would be rejected.")  # fmt: skip
            if report.rejected:
                head += " Fix those rows (or leave them out of the file) before importing."
        else:
            head = self.imported_text(report)
        parts = [head]
        if lines:
            parts += ["", "Rejected:", *lines]
        if dupes:
            parts += ["", "Possible duplicates (imported and listed under Duplicates):", *dupes]
        if report.skipped:
            parts += ["", "Left out (not imported):",
                      *(f"line {p.line}: {p.reason}" for p in report.skipped)]  # fmt: skip
        self.report.setPlainText("\n".join(parts))
        self._enable()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        text = exc.user_message if isinstance(exc, FrontdeskError) else f"Import failed: {exc}"
        if isinstance(exc, ImportCancelled):
            self.progress.setValue(0)
        self.report.setPlainText(text)
        self._enable()

    def on_cancel(self) -> None:
        if self.busy:
            self.cancel_flag.set()
            self.report.appendPlainText("Cancelling…")
        else:
            self.reject()

    def _enable(self) -> None:
        ready = self.table is not None and not self.busy
        self.dry_run.setEnabled(ready)
        self.run.setEnabled(ready)
        self.choose.setEnabled(not self.busy)
        self.encoding.setEnabled(not self.busy)
        self.cancel.setText("Stop" if self.busy else "Close")

    def reject(self) -> None:
        if self.busy:
            self.cancel_flag.set()
            return
        super().reject()
