"""The look: a bundled font, one icon set (``ui/icons.py``) and one stylesheet (a resource,
``resources/style/frontdesk.qss``), so every machine shows the same clean window."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QStyleFactory

from frontdesk.ui.icons import IconStyle, icons_dir

ACCENT = "#2563eb"
SIDEBAR = "#1e293b"


def stylesheet() -> str:
    """The app's one stylesheet (``resources/style/frontdesk.qss``), its colours and the icon
    folder filled in."""
    base = resources.files("frontdesk.resources")
    text = (base / "style" / "frontdesk.qss").read_text(encoding="utf-8")
    return (
        text.replace("@accent", ACCENT)
        .replace("@sidebar", SIDEBAR)
        .replace("@icons", icons_dir().as_posix())
    )


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
    app.setStyle(IconStyle(QStyleFactory.create("Fusion")))
    app.setStyleSheet(stylesheet())
