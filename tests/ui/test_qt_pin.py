"""PySide6 6.12.0 on Python 3.11 aborts after a few thousand calls of void methods
(none_dealloc). This test makes a bad upgrade fail loudly instead of crashing later."""

from __future__ import annotations

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QGraphicsRectItem, QLabel


def test_pyside_is_pinned_below_6_12() -> None:
    major, minor = (int(x) for x in pyside_version.split(".")[:2])
    assert (major, minor) < (6, 12), "PySide6 6.12 crashes on Python 3.11; see ENV.md"


def test_many_void_calls_do_not_crash(qtbot) -> None:
    item = QGraphicsRectItem(0, 0, 10, 10)
    label = QLabel()
    qtbot.addWidget(label)
    for i in range(30_000):
        item.setZValue(i)
        label.setText("x")
    assert item.zValue() == 29_999
