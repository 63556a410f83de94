"""Small pieces the billing screens share: money cells, error boxes, printing and saving PDFs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QDate, QIODevice, Qt
from PySide6.QtGui import QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableWidgetItem, QWidget

from frontdesk.domain.money import format_money


def money_item(cents: int) -> QTableWidgetItem:
    item = QTableWidgetItem(format_money(cents))
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setData(Qt.ItemDataRole.UserRole + 1, cents)
    return item


def text_item(text: str, data: object = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


def paint_pdf(data: bytes, printer: QPrinter) -> int:
    """Draw every page of a PDF onto a printer (safe on a worker thread). Returns pages."""
    from PySide6.QtPdf import QPdfDocument

    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    try:
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            rect = painter.viewport()
            image = document.render(page, rect.size())
            painter.drawImage(rect, image)
    finally:
        painter.end()
    return document.pageCount()


def print_pdf(parent: QWidget | None, data: bytes, title: str) -> bool:
    """Ask for a printer with the system's print dialog, then print the PDF."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print {title}")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    paint_pdf(data, printer)
    return True


def save_pdf(parent: QWidget | None, data: bytes, suggested: str) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(
        parent, "Save as PDF", str(Path.home() / suggested), "PDF files (*.pdf)"
    )
    if not name:
        return None
    path = Path(name if name.lower().endswith(".pdf") else f"{name}.pdf")
    try:
        path.write_bytes(data)
    except OSError as exc:
        QMessageBox.warning(parent, "Save as PDF", f"Could not save {path}: {exc.strerror}.")
        return None
    return path


def py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())
