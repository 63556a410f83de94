"""One icon set for the whole app: Lucide line icons (ISC licence; the SVGs and the licence are
in ``frontdesk/resources/icons``), drawn in the app's colours, sharp at any size and scale.

``icon("printer")`` wherever a QIcon is wanted (a name below, or any file name in the folder);
``IconStyle`` puts the same set where Qt would otherwise draw its own old standard icons (the
message boxes' coloured balls, the dialog buttons' green tick and red cross)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleOption, QWidget

INK = "#334155"  # slate 700: the colour of an ordinary icon
DISABLED = "#cbd5e1"
INFO = "#2563eb"
WARNING = "#d97706"
ERROR = "#dc2626"
SUCCESS = "#16a34a"
NAV = "#e2e8f0"  # on the dark sidebar

# What the app calls an icon -> the Lucide file it draws, and its colour (None: INK).
NAMES: dict[str, tuple[str, str | None]] = {
    "info": ("info", INFO),
    "warning": ("triangle-alert", WARNING),
    "error": ("circle-x", ERROR),
    "question": ("circle-help", INFO),
    "success": ("circle-check", SUCCESS),
    "ok": ("check", None),
    "cancel": ("x", None),
    "close": ("x", None),
    "diary": ("calendar", None),
    "patients": ("users", None),
    "patient": ("user", None),
    "new-patient": ("user-plus", None),
    "billing": ("receipt", None),
    "reports": ("chart-column", None),
    "settings": ("settings", None),
    "conflicts": ("git-compare-arrows", None),
    "claims": ("file-text", None),
    "previous": ("chevron-left", None),
    "next": ("chevron-right", None),
    "print": ("printer", None),
    "pdf": ("file-down", None),
    "payment": ("credit-card", None),
    "book": ("calendar-plus", None),
    "sync": ("refresh-cw", None),
    "online": ("cloud", None),
    "offline": ("cloud-off", None),
    "lock": ("lock", None),
    "delete": ("trash-2", None),
    "message": ("message-square", None),
    "reminder": ("bell", None),
}


def icons_dir() -> Path:
    """The folder of SVGs (a real folder: an installed package or the PyInstaller bundle)."""
    return Path(str(resources.files("frontdesk.resources") / "icons"))


def _svg_bytes(file: str, color: str) -> QByteArray:
    path = icons_dir() / f"{file}.svg"
    if not path.is_file():
        raise KeyError(f"no icon called {file!r} in {icons_dir()}")
    return QByteArray(path.read_text(encoding="utf-8").replace("currentColor", color).encode())


class _SvgEngine(QIconEngine):
    """Draws the SVG at exactly the size asked for (any scaling stays sharp; nothing is drawn
    before it is shown), faded when the widget is disabled."""

    def __init__(self, normal: QByteArray, faded: QByteArray) -> None:
        super().__init__()
        self._data = (normal, faded)
        self._renderers: dict[bool, QSvgRenderer] = {}

    def _renderer(self, disabled: bool) -> QSvgRenderer:
        if disabled not in self._renderers:
            self._renderers[disabled] = QSvgRenderer(self._data[1 if disabled else 0])
        return self._renderers[disabled]

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._renderer(mode == QIcon.Mode.Disabled).render(painter, QRectF(rect))
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pm

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        pm = self.pixmap(size * scale, mode, state)
        pm.setDevicePixelRatio(scale)
        return pm

    def clone(self) -> QIconEngine:
        return _SvgEngine(*self._data)


@functools.cache
def icon(name: str, color: str | None = None) -> QIcon:
    """The icon ``name`` (see NAMES, or a Lucide file name) in ``color`` (default: its own)."""
    file, own = NAMES.get(name, (name, None))
    return QIcon(_SvgEngine(_svg_bytes(file, color or own or INK), _svg_bytes(file, DISABLED)))


def area_icon(key: str) -> QIcon:
    """The sidebar's icon for an area (light, on the dark sidebar); none for an unknown area."""
    return icon(key, NAV) if key in NAMES else QIcon()


# Qt's standard icons -> ours. What is not listed keeps the style's own (file dialogs' folders).
_STANDARD = {
    QStyle.StandardPixmap.SP_MessageBoxInformation: "info",
    QStyle.StandardPixmap.SP_MessageBoxWarning: "warning",
    QStyle.StandardPixmap.SP_MessageBoxCritical: "error",
    QStyle.StandardPixmap.SP_MessageBoxQuestion: "question",
    QStyle.StandardPixmap.SP_DialogOkButton: "ok",
    QStyle.StandardPixmap.SP_DialogApplyButton: "ok",
    QStyle.StandardPixmap.SP_DialogYesButton: "ok",
    QStyle.StandardPixmap.SP_DialogSaveButton: "ok",
    QStyle.StandardPixmap.SP_DialogCancelButton: "cancel",
    QStyle.StandardPixmap.SP_DialogNoButton: "cancel",
    QStyle.StandardPixmap.SP_DialogCloseButton: "close",
    QStyle.StandardPixmap.SP_DialogDiscardButton: "delete",
    QStyle.StandardPixmap.SP_TrashIcon: "delete",
    QStyle.StandardPixmap.SP_ArrowLeft: "previous",
    QStyle.StandardPixmap.SP_ArrowRight: "next",
    QStyle.StandardPixmap.SP_ArrowBack: "previous",
    QStyle.StandardPixmap.SP_ArrowForward: "next",
    QStyle.StandardPixmap.SP_BrowserReload: "sync",
}


def standard_icon_name(which: QStyle.StandardPixmap) -> str | None:
    """Our name for one of Qt's standard icons, or None where the style's own is kept."""
    return _STANDARD.get(which)


class IconStyle(QProxyStyle):
    """Fusion, with our icons for Qt's standard ones and no icons on dialog buttons (text
    buttons, as on every current desktop)."""

    def standardIcon(
        self,
        standardIcon: QStyle.StandardPixmap,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> QIcon:
        name = _STANDARD.get(standardIcon)
        if name is not None:
            return icon(name)
        return super().standardIcon(standardIcon, option, widget)

    def styleHint(self, hint, option=None, widget=None, returnData=None):  # type: ignore[no-untyped-def]
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, returnData)

    def pixelMetric(self, metric, option=None, widget=None):  # type: ignore[no-untyped-def]
        if metric == QStyle.PixelMetric.PM_MessageBoxIconSize:
            return 40
        return super().pixelMetric(metric, option, widget)
