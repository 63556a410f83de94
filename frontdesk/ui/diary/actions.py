"""The diary's action registry: every keyboard action of the diary (page and grid) is listed
here once, by key, with its text and shortcuts; widgets ask ``build_actions`` for QActions wired
to their handlers. (After Picard's actions registry.)"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from frontdesk.domain.vocab import AppointmentStatus


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcuts: tuple[str | QKeySequence.StandardKey, ...]


# Page-wide (work while focus is anywhere in the diary).
PAGE_ACTIONS = (
    ActionSpec("today", "Go to today", ("Ctrl+T",)),
    ActionSpec("previous", "Previous day or week", ("Ctrl+PgUp",)),
    ActionSpec("next", "Next day or week", ("Ctrl+PgDown",)),
    ActionSpec("go_to_date", "Go to a date", ("Ctrl+G",)),
    ActionSpec("find_slot", "Next free slot", ("Ctrl+Shift+F",)),  # Ctrl+F: patient search
    ActionSpec("print", "Print the day sheet", ("Ctrl+P",)),
)

STATUS_KEYS = (
    (AppointmentStatus.BOOKED, "B"),
    (AppointmentStatus.ARRIVED, "A"),
    (AppointmentStatus.IN_SESSION, "S"),
    (AppointmentStatus.COMPLETED, "C"),
    (AppointmentStatus.DID_NOT_ARRIVE, "D"),
)

# On the grid (work while the diary view has the focus).
GRID_ACTIONS = (
    *(ActionSpec(f"status:{s.value}", f"Mark {s.label.lower()}", (k,)) for s, k in STATUS_KEYS),
    ActionSpec("cancel", "Cancel appointment…", (QKeySequence.StandardKey.Delete, "X")),
    ActionSpec("pin", "Put on / take off the pinboard", ("P",)),
    ActionSpec("book", "Book here…", ("Ctrl+B",)),
)


def build_actions(
    owner: QWidget,
    specs: tuple[ActionSpec, ...],
    handlers: Mapping[str, Callable[[], object]],
    context: Qt.ShortcutContext,
) -> dict[str, QAction]:
    """A QAction per spec on ``owner``, triggering its handler; every spec needs one."""
    actions = {}
    for spec in specs:
        action = QAction(spec.text, owner)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setShortcutContext(context)
        handler = handlers[spec.key]
        action.triggered.connect(lambda _checked=False, h=handler: h())
        owner.addAction(action)
        actions[spec.key] = action
    return actions
