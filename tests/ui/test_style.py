"""The stylesheet (issue 14 item 9): a combo box's popup draws its current item readably (it was
drawn blank, white on white: Day/Week, cancellation reasons, the report list)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QVBoxLayout, QWidget

# an offscreen popup: the platform cannot raise it or grab the keyboard, and says so
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def _dark_pixels(image, rect) -> int:  # type: ignore[no-untyped-def]
    rect = rect.intersected(image.rect())
    return sum(
        1
        for x in range(rect.left(), rect.right())
        for y in range(rect.top(), rect.bottom())
        if image.pixelColor(x, y).lightness() < 110
    )


def test_the_current_item_of_a_combo_popup_is_drawn(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    combo = QComboBox()
    combo.addItems(["Day", "Week", "Month"])
    combo.setCurrentIndex(1)
    QVBoxLayout(host).addWidget(combo)
    host.show()
    qtbot.waitExposed(host)
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)  # opens the popup
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    qtbot.wait(50)
    popup = view.window()
    image = popup.grab().toImage()

    def on_popup(row: int):  # type: ignore[no-untyped-def]
        rect = view.visualRect(combo.model().index(row, 0))
        return rect.translated(view.viewport().mapTo(popup, rect.topLeft()) - rect.topLeft())

    current, other = on_popup(1), on_popup(0)
    assert _dark_pixels(image, current) > 20  # "Week" is there
    assert _dark_pixels(image, other) > 20
    combo.hidePopup()
