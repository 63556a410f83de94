"""The look: a bundled font and one stylesheet, so every machine shows the same clean window."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

ACCENT = "#2563eb"
SIDEBAR = "#1e293b"

STYLESHEET = f"""
QMainWindow, QWidget#page {{ background: #f8fafc; }}
QWidget#sidebar {{ background: {SIDEBAR}; }}
QLabel#brand {{ color: white; font-size: 17px; font-weight: bold; padding: 16px 14px 6px 14px; }}
QLabel#clinicName {{ color: #94a3b8; padding: 0 14px 14px 14px; }}
QListWidget#nav {{ background: {SIDEBAR}; border: none; color: #cbd5e1; outline: 0; }}
QListWidget#nav::item {{ padding: 10px 14px; border-radius: 6px; margin: 2px 8px; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; }}
QListWidget#nav::item:hover:!selected {{ background: #334155; }}
QLabel#pageTitle {{ font-size: 20px; font-weight: bold; color: #0f172a; }}
QLabel#muted {{ color: #64748b; }}
QStatusBar {{ background: #e2e8f0; color: #334155; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QPushButton {{ padding: 6px 14px; border-radius: 6px; border: 1px solid #cbd5e1;
    background: white; }}
QPushButton:hover {{ background: #f1f5f9; }}
QPushButton[primary="true"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; }}
QLineEdit, QComboBox, QDateEdit, QSpinBox, QPlainTextEdit, QTextEdit {{
    padding: 5px; border: 1px solid #cbd5e1; border-radius: 6px; background: white; }}
QLineEdit:focus, QComboBox:focus {{ border: 1px solid {ACCENT}; }}
QComboBox QAbstractItemView {{ background: white; color: #0f172a; outline: 0;
    selection-background-color: #dbeafe; selection-color: #0f172a; }}
QTableView, QTreeView {{ background: white; border: 1px solid #e2e8f0; gridline-color: #eef2f7;
    selection-background-color: #dbeafe; selection-color: #0f172a; }}
QHeaderView::section {{ background: #f1f5f9; border: none; border-bottom: 1px solid #e2e8f0;
    padding: 6px; font-weight: bold; color: #334155; }}
"""


def load_fonts() -> str:
    """Register the bundled DejaVu fonts and return the family name."""
    family = "DejaVu Sans"
    fonts = resources.files("frontdesk.resources") / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        data = (fonts / name).read_bytes()
        font_id = QFontDatabase.addApplicationFontFromData(data)
        if font_id >= 0:
            families = QFontDatabase.applicationFontFamilies(font_id)
            if families:
                family = families[0]
    return family


def apply_style(app: QApplication) -> None:
    family = load_fonts()
    font = QFont(family, 10)
    app.setFont(font)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLESHEET)
