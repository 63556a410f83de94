"""The diary toolbar: dates, day/week, slot size, who is shown, next free slot, print and the
panels button. A widget of its own that talks to the page only through ``ToolbarHost``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from PySide6.QtCore import QDate
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from frontdesk.domain.diary_view import PractitionerInfo
from frontdesk.ui.icons import icon


class ToolbarHost(Protocol):
    """What the toolbar asks of the diary page."""

    @property
    def practitioners(self) -> Sequence[PractitionerInfo]: ...

    def go_today(self) -> None: ...
    def step(self, direction: int) -> None: ...
    def go_to(self, day: date) -> None: ...
    def set_mode(self, mode: str) -> None: ...
    def set_slot(self, minutes: int) -> None: ...
    def set_show_cancelled(self, on: bool) -> None: ...
    def shown_ids(self) -> list[str]: ...
    def set_shown(self, ids: list[str]) -> None: ...
    def by_room(self) -> bool: ...
    def set_by_room(self, on: bool) -> None: ...
    def set_panels_shown(self, on: bool) -> None: ...
    def find_next_available(self) -> None: ...
    def print_day_sheet(self, practitioner_ids: list[str] | None = None) -> None: ...
    def save_day_sheet(self) -> None: ...


class DiaryToolbar(QWidget):
    def __init__(
        self, host: ToolbarHost, *, mode: str, slot: int, show_cancelled: bool, panels: bool
    ) -> None:
        super().__init__()
        self.host = host
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Go to today (Ctrl+T)")
        self.prev_button = QPushButton(icon("previous"), "")
        self.next_button = QPushButton(icon("next"), "")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(36)
            b.setAccessibleName("Previous" if b is self.prev_button else "Next")
        self.prev_button.setToolTip("Previous day or week (Ctrl+PgUp)")
        self.next_button.setToolTip("Next day or week (Ctrl+PgDown)")
        self.title = QLabel()
        self.title.setObjectName("diaryTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self._title_today: bool | None = None
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setToolTip("Go to a date (Ctrl+G)")
        self.mode_box = QComboBox()
        self.mode_box.addItem("Day", "day")
        self.mode_box.addItem("Week", "week")
        self.mode_box.setCurrentIndex(0 if mode == "day" else 1)
        self.slot_box = QComboBox()
        for s in (5, 10, 15, 30):
            self.slot_box.addItem(f"{s} min", s)
        self.slot_box.setCurrentIndex(self.slot_box.findData(slot))
        self.slot_box.setToolTip("Slot size")
        self.who = QToolButton()
        self.who.setText("Show ▾")
        self.who.setToolTip("Which practitioners this desk shows; cancelled appointments")
        self.who.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.who_menu = QMenu(self.who)
        self.who.setMenu(self.who_menu)
        self.cancelled_action = QAction("Show cancelled appointments (faded)", self)
        self.cancelled_action.setCheckable(True)
        self.cancelled_action.setChecked(show_cancelled)
        self.find_button = QPushButton("Next free slot…")
        self.find_button.setToolTip("Find the next free slot (Ctrl+Shift+F)")
        self.print_button = QToolButton()
        self.print_button.setText("Print ▾")
        self.print_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.print_menu = QMenu(self.print_button)
        self.print_button.setMenu(self.print_menu)
        self.print_button.setToolTip("Print the day sheet, or save it as PDF (Ctrl+P)")
        self.panels_button = QPushButton("Waitlist ▸")
        self.panels_button.setCheckable(True)
        self.panels_button.setChecked(panels)
        self.panels_button.setToolTip("Show the waitlist and the pinboard")
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(4)  # all of it fits a 1280 × 720 window (or 1920 × 1080 at 150 %)
        for w in (self.today_button, self.prev_button, self.next_button, self.title,
                  self.date_edit, self.mode_box, self.slot_box, self.who):  # fmt: skip
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.find_button)
        bar.addWidget(self.print_button)
        bar.addWidget(self.panels_button)
        self._connect()

    def _connect(self) -> None:
        host = self.host
        self.today_button.clicked.connect(host.go_today)
        self.prev_button.clicked.connect(lambda: host.step(-1))
        self.next_button.clicked.connect(lambda: host.step(1))
        self.date_edit.dateChanged.connect(lambda q: host.go_to(date(q.year(), q.month(), q.day())))
        self.mode_box.currentIndexChanged.connect(
            lambda: host.set_mode(self.mode_box.currentData())
        )
        self.slot_box.currentIndexChanged.connect(
            lambda: host.set_slot(self.slot_box.currentData())
        )
        self.cancelled_action.toggled.connect(host.set_show_cancelled)
        self.panels_button.toggled.connect(self._panels_toggled)
        self.find_button.clicked.connect(host.find_next_available)
        self.print_menu.aboutToShow.connect(self.fill_print_menu)
        self.who_menu.aboutToShow.connect(self.fill_who_menu)

    # -- what the page shows ----------------------------------------------------------------
    def show_dates(self, text: str, day: date, is_today: bool) -> None:
        self.title.setText(text)
        # As wide as the longest title of this kind ("Wed 30 Sep 2026", "28 Sep – 4 Oct 2026"),
        # so the controls beside it stay put from day to day; never wider (a 1280 px window).
        self.title.ensurePolished()
        sample = "Wed 30 Sep 2026" if text[:1].isalpha() else "28 Sep – 4 Oct 2026"
        widest = max(self.title.fontMetrics().horizontalAdvance(t) for t in (text, sample))
        self.title.setMinimumWidth(widest + 8)
        if is_today != self._title_today:  # a style change re-polishes: only when it changes
            self._title_today = is_today
            self.title.setStyleSheet("color: #1d4ed8;" if is_today else "")
            self.title.setToolTip("Today" if is_today else "")
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)

    def show_panel_counts(self, waiting: int, pinned: int, shown: bool) -> None:
        arrow = "◂" if shown else "▸"
        self.panels_button.setText(f"Waitlist {waiting} · Pins {pinned} {arrow}")

    def _panels_toggled(self, on: bool) -> None:
        self.panels_button.setText(self.panels_button.text()[:-1] + ("◂" if on else "▸"))
        self.host.set_panels_shown(on)

    # -- menus --------------------------------------------------------------------------------
    def fill_print_menu(self) -> None:
        host, menu = self.host, self.print_menu
        menu.clear()
        everyone = menu.addAction("Day sheet, everyone shown…")
        everyone.triggered.connect(lambda _checked=False: host.print_day_sheet())
        pdf = menu.addAction("Save day sheet as PDF…")
        pdf.triggered.connect(lambda _checked=False: host.save_day_sheet())
        menu.addSeparator()
        shown = set(host.shown_ids())
        for p in host.practitioners:
            if p.id in shown:
                one = menu.addAction(f"Day sheet for {p.name}…")
                one.triggered.connect(lambda _c=False, pid=p.id: host.print_day_sheet([pid]))

    def fill_who_menu(self) -> None:
        host, menu = self.host, self.who_menu
        menu.clear()
        shown = set(host.shown_ids())
        all_action = menu.addAction("Show all")
        all_action.triggered.connect(lambda: host.set_shown([p.id for p in host.practitioners]))
        menu.addSeparator()
        for p in host.practitioners:
            action = menu.addAction(f"{p.name} — {p.profession}")
            action.setCheckable(True)
            action.setChecked(p.id in shown)
            action.toggled.connect(lambda on, pid=p.id: self._toggle_who(pid, on))
        menu.addSeparator()
        rooms = menu.addAction("Columns by room (day view)")
        rooms.setCheckable(True)
        rooms.setChecked(host.by_room())
        rooms.toggled.connect(host.set_by_room)
        menu.addAction(self.cancelled_action)

    def _toggle_who(self, pid: str, on: bool) -> None:
        ids = set(self.host.shown_ids())
        (ids.add if on else ids.discard)(pid)
        if ids:
            self.host.set_shown([p.id for p in self.host.practitioners if p.id in ids])
