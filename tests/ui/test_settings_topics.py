"""Settings' topics are a list down the left: clicking one, or the arrow keys in the list, shows
its page; setting the page from code moves the list with it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QTabWidget

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings import SETTINGS_PAGES, create


def test_a_topic_is_chosen_by_mouse_and_by_keyboard(qtbot, owner: ServiceContext) -> None:
    page = create(owner, ChangeBus(), None)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitExposed(page)
    topics = page.findChild(QListWidget, "settingsTopics")
    tabs = page.findChild(QTabWidget, "settingsTabs")
    assert topics is not None and tabs is not None
    assert [topics.item(i).text() for i in range(topics.count())] == [
        label for label, _ in SETTINGS_PAGES
    ]
    assert not tabs.tabBar().isVisible()  # the list replaces the overflowing row of tabs
    # every topic is visible without scrolling at a laptop's window size
    last = topics.visualItemRect(topics.item(topics.count() - 1))
    assert topics.viewport().rect().contains(last)

    backups = [label for label, _ in SETTINGS_PAGES].index("Backups")
    rect = topics.visualItemRect(topics.item(backups))
    qtbot.mouseClick(topics.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tabs.currentIndex() == backups
    assert tabs.tabText(tabs.currentIndex()) == "Backups"

    qtbot.keyClick(topics, Qt.Key.Key_Down)
    assert tabs.currentIndex() == backups + 1
    qtbot.keyClick(topics, Qt.Key.Key_Home)
    assert tabs.currentIndex() == 0

    tabs.setCurrentIndex(3)  # a link from elsewhere opens a page: the list follows
    assert topics.currentRow() == 3
