"""The diary toolbar and its menus (dates, day/week, slot size, who is shown, print, panels),
kept apart from the page's loading and navigation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
)

if TYPE_CHECKING:
    from frontdesk.ui.diary.page import DiaryPage


# -- building -------------------------------------------------------------------------------
def build(page: DiaryPage) -> None:
    col = QVBoxLayout(page)
    col.setContentsMargins(10, 8, 10, 6)
    col.setSpacing(6)
    bar = QHBoxLayout()
    page.today_button = QPushButton("Today")
    page.today_button.setToolTip("Go to today (Ctrl+T)")
    page.prev_button = QPushButton("◀")
    page.next_button = QPushButton("▶")
    page.prev_button.setToolTip("Previous day or week (Ctrl+PgUp)")
    page.next_button.setToolTip("Next day or week (Ctrl+PgDown)")
    page.title = QLabel()
    page.title.setObjectName("pageTitle")
    page.title.setMinimumWidth(250)
    page.date_edit = QDateEdit()
    page.date_edit.setCalendarPopup(True)
    page.date_edit.setDisplayFormat("dd/MM/yyyy")
    page.date_edit.setToolTip("Go to a date (Ctrl+G)")
    page.mode_box = QComboBox()
    page.mode_box.addItem("Day", "day")
    page.mode_box.addItem("Week", "week")
    page.mode_box.setCurrentIndex(0 if page.mode == "day" else 1)
    page.slot_box = QComboBox()
    for s in (5, 10, 15, 30):
        page.slot_box.addItem(f"{s} min", s)
    page.slot_box.setCurrentIndex(page.slot_box.findData(page.slot))
    page.slot_box.setToolTip("Slot size")
    page.who = QToolButton()
    page.who.setText("Show ▾")
    page.who.setToolTip("Which practitioners this desk shows; cancelled appointments")
    page.who.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    page.who_menu = QMenu(page.who)
    page.who.setMenu(page.who_menu)
    page.cancelled_action = QAction("Show cancelled appointments (faded)", page)
    page.cancelled_action.setCheckable(True)
    page.cancelled_action.setChecked(page.scene.show_cancelled)
    page.find_button = QPushButton("Next free slot…")
    page.find_button.setToolTip("Find the next free slot (Ctrl+Shift+F)")
    page.print_button = QToolButton()
    page.print_button.setText("Print ▾")
    page.print_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    page.print_menu = QMenu(page.print_button)
    page.print_button.setMenu(page.print_menu)
    page.print_button.setToolTip("Print the day sheet, or save it as PDF (Ctrl+P)")
    page.panels_button = QPushButton("Waitlist ▸")
    page.title.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
    page.panels_button.setCheckable(True)
    page.panels_button.setToolTip("Show the waitlist and the pinboard")
    for w in (page.today_button, page.prev_button, page.next_button, page.title,
              page.date_edit, page.mode_box, page.slot_box, page.who):  # fmt: skip
        bar.addWidget(w)
    bar.addStretch(1)
    bar.addWidget(page.find_button)
    bar.addWidget(page.print_button)
    bar.addWidget(page.panels_button)
    col.addLayout(bar)
    page.banner = QLabel()
    page.banner.setWordWrap(True)
    page.banner.setVisible(False)
    col.addWidget(page.banner)
    page._banner_timer = QTimer(page)
    page._banner_timer.setSingleShot(True)
    page._banner_timer.timeout.connect(lambda: page.banner.setVisible(False))
    page.splitter = QSplitter(Qt.Orientation.Horizontal)
    page.splitter.addWidget(page.view)
    page.side = QTabWidget()
    from frontdesk.ui.diary.panels import PinboardPanel, WaitlistPanel

    page.waitlist_panel = WaitlistPanel(page)
    page.pinboard_panel = PinboardPanel(page)
    page.side.addTab(page.waitlist_panel, "Waitlist")
    page.side.addTab(page.pinboard_panel, "Pinboard")
    page.splitter.addWidget(page.side)
    page.splitter.setStretchFactor(0, 1)
    page.splitter.setSizes([1100, 230])
    shown = page.prefs.value("diary/panels", "false") == "true"
    page.side.setVisible(shown)
    page.panels_button.setChecked(shown)
    page.panels_button.toggled.connect(lambda on: toggle_panels(page, on))
    col.addWidget(page.splitter, 1)

    page.today_button.clicked.connect(page.go_today)
    page.prev_button.clicked.connect(lambda: page.step(-1))
    page.next_button.clicked.connect(lambda: page.step(1))
    page.date_edit.dateChanged.connect(page._date_edited)
    page.mode_box.currentIndexChanged.connect(page._mode_changed)
    page.slot_box.currentIndexChanged.connect(page._slot_changed)
    page.cancelled_action.toggled.connect(page._cancelled_toggled)

    def find_slot() -> None:  # the menus are built after the toolbar
        page.menus.find_next_available()

    def print_sheet() -> None:
        page.menus.print_day_sheet()

    page.find_button.clicked.connect(find_slot)
    page.print_menu.aboutToShow.connect(lambda: fill_print_menu(page))
    page.who_menu.aboutToShow.connect(lambda: fill_who_menu(page))
    for keys, fn in (
        ("Ctrl+T", page.go_today),
        ("Ctrl+PgUp", lambda: page.step(-1)),
        ("Ctrl+PgDown", lambda: page.step(1)),
        ("Ctrl+G", page.date_edit.setFocus),
        ("Ctrl+Shift+F", find_slot),  # Ctrl+F is the global patient search
        ("Ctrl+P", print_sheet),
    ):
        action = QAction(page)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(fn)
        page.addAction(action)
    undo = page.controller.undo_stack.createUndoAction(page, "Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = page.controller.undo_stack.createRedoAction(page, "Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for action in (undo, redo):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        page.addAction(action)
    page.undo_action, page.redo_action = undo, redo


def toggle_panels(page: DiaryPage, on: bool) -> None:
    page.side.setVisible(on)
    page.panels_button.setText(page.panels_button.text()[:-1] + ("◂" if on else "▸"))
    page.prefs.setValue("diary/panels", "true" if on else "false")


def fill_print_menu(page: DiaryPage) -> None:
    from frontdesk.ui.diary.day_sheet import save_pdf

    menu = page.print_menu
    menu.clear()
    everyone = menu.addAction("Day sheet, everyone shown…")
    everyone.triggered.connect(lambda _checked=False: page.menus.print_day_sheet())
    pdf = menu.addAction("Save day sheet as PDF…")
    pdf.triggered.connect(lambda: save_pdf(page, page.shown_ids()))
    menu.addSeparator()
    for p in page.practitioners:
        if p.id in page.shown_ids():
            one = menu.addAction(f"Day sheet for {p.name}…")
            one.triggered.connect(lambda _c=False, pid=p.id: page.menus.print_day_sheet([pid]))


def fill_who_menu(page: DiaryPage) -> None:
    page.who_menu.clear()
    shown = set(page.shown_ids())
    all_action = page.who_menu.addAction("Show all")
    all_action.triggered.connect(lambda: page.set_shown([p.id for p in page.practitioners]))
    page.who_menu.addSeparator()
    for p in page.practitioners:
        action = page.who_menu.addAction(f"{p.name} — {p.profession}")
        action.setCheckable(True)
        action.setChecked(p.id in shown)
        action.toggled.connect(lambda on, pid=p.id: toggle_who(page, pid, on))
    page.who_menu.addSeparator()
    rooms = page.who_menu.addAction("Columns by room (day view)")
    rooms.setCheckable(True)
    rooms.setChecked(page.by_room())
    rooms.toggled.connect(page.set_by_room)
    page.who_menu.addAction(page.cancelled_action)


def toggle_who(page: DiaryPage, pid: str, on: bool) -> None:
    ids = set(page.shown_ids())
    (ids.add if on else ids.discard)(pid)
    if ids:
        page.set_shown([p.id for p in page.practitioners if p.id in ids])
