"""The diary area: a drag-and-drop, multi-practitioner appointment book.

scene.py mirrors a loaded DiaryData; interactions.py turns mouse drags into targets with a ghost
preview; controller.py turns finished drags and menu choices into undoable service calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from frontdesk.ui.bus import ChangeBus

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    from frontdesk.ui.diary.page import DiaryPage

    return DiaryPage(ctx, bus, desk_prefs(ctx, parent), parent)


def desk_prefs(ctx: ServiceContext, parent: QWidget | None) -> QSettings:
    """This desk's preferences: the main window's (per machine), or the data folder's file."""
    window = parent.window() if parent is not None else None
    prefs = getattr(window, "prefs", None)
    if isinstance(prefs, QSettings):
        return prefs
    if ctx.paths is not None:
        return QSettings(str(ctx.paths.config_file), QSettings.Format.IniFormat)
    return QSettings()
