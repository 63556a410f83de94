"""The main window: a sidebar of areas, the current area, and a status bar with sync state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QSize, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.services import early
from frontdesk.ui import start_page
from frontdesk.ui.areas import AREAS, AreaSpec
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.icons import area_icon

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext


class MainWindow(QMainWindow):
    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        prefs: QSettings,
        areas: tuple[AreaSpec, ...] = AREAS,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.prefs = prefs
        self.areas = areas
        self.pages: dict[str, QWidget] = {}
        self.setWindowTitle("frontdesk")
        self.setMinimumSize(1000, 640)

        root = QWidget()
        layout = QHBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_sidebar())
        self.stack = QStackedWidget()
        self.stack.setObjectName("page")
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self._build_status_bar()

        for index, area in enumerate(areas):
            shortcut = QShortcut(QKeySequence(area.shortcut), self)
            shortcut.activated.connect(lambda i=index: self.nav.setCurrentRow(i))
        # Find a patient from anywhere: show the Patients area with its search box focused.
        for keys in ("Ctrl+F", "F3"):
            find = QShortcut(QKeySequence(keys), self)
            find.activated.connect(lambda: self._on_navigate("patients", {"focus_search": True}))

        self.bus.changed.connect(self._on_changed)
        self.bus.navigate.connect(self._on_navigate)
        self._restore_layout()
        self.refresh_clinic_name()

    # -- building -----------------------------------------------------------------------------
    def _build_sidebar(self) -> QWidget:
        side = QWidget()
        side.setObjectName("sidebar")
        side.setFixedWidth(200)
        col = QVBoxLayout(side)
        col.setContentsMargins(0, 0, 0, 8)
        col.setSpacing(0)
        brand = QLabel("frontdesk")
        brand.setObjectName("brand")
        self.clinic_label = QLabel("")
        self.clinic_label.setObjectName("clinicName")
        self.clinic_label.setWordWrap(True)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(18, 18))
        for area in self.areas:
            item = QListWidgetItem(area_icon(area.key), f"{area.title}")
            item.setToolTip(f"{area.blurb}  ({area.shortcut})")
            item.setSizeHint(QSize(180, 40))
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self.show_area_index)
        col.addWidget(brand)
        col.addWidget(self.clinic_label)
        col.addWidget(self.nav, 1)
        return side

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.sync_label = QLabel("Sync: working offline (no clinic server set up)")
        self.sync_label.setObjectName("syncStatus")
        self.user_label = QLabel("")
        self.clock_label = QLabel("")
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.sync_label)
        bar.addPermanentWidget(self.clock_label)
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick_clock)
        self._clock_timer.start(1000)  # shows the minute as it turns, with the diary's now-line
        self._tick_clock()
        self.set_user(self.ctx.actor.name if self.ctx.actor.staff_user_id else "")

    def hand_over(self, ctx: ServiceContext) -> None:
        """The desk is open: the window and the area it shows work through the services from
        now on (the diary was painted from a plain read before: services/early.py)."""
        self.ctx = ctx
        for page in self.pages.values():
            handler = getattr(page, "hand_over", None)
            if handler is not None:
                handler(ctx)
        self.refresh_clinic_name()

    # -- areas --------------------------------------------------------------------------------
    def show_area(self, key: str) -> QWidget:
        index = next(i for i, a in enumerate(self.areas) if a.key == key)
        self.nav.setCurrentRow(index)
        return self.pages[key]

    def show_area_index(self, index: int) -> None:
        if index < 0:
            return
        leaving = self.stack.currentWidget()
        may_leave = getattr(leaving, "may_leave", None)
        if leaving is not self.pages.get(self.areas[index].key) and may_leave and not may_leave():
            # Unsaved edits kept: the sidebar goes back to the area still shown.
            back = next(i for i, a in enumerate(self.areas) if self.pages.get(a.key) is leaving)
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(back)
            self.nav.blockSignals(False)
            return
        area = self.areas[index]
        page = self.pages.get(area.key)
        if page is None:
            page = area.load()(self.ctx, self.bus, self.stack)
            page.setObjectName(f"area_{area.key}")
            self.pages[area.key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.prefs.setValue("window/area", area.key)

    def _on_navigate(self, key: str, payload: object) -> None:
        page = self.show_area(key)
        if self.stack.currentWidget() is not page:
            return  # the area left had unsaved edits, and the person stayed
        handler = getattr(page, "handle_navigation", None)
        if handler is not None:
            handler(payload)

    def current_area(self) -> str:
        return self.areas[self.nav.currentRow()].key

    # -- status -------------------------------------------------------------------------------
    def set_sync_status(self, text: str, *, problem: bool = False) -> None:
        self.sync_label.setText(text)
        self.sync_label.setStyleSheet("color: #b91c1c;" if problem else "")

    def set_user(self, name: str) -> None:
        self.user_label.setText(f"Signed in: {name}" if name else "")

    def refresh_clinic_name(self) -> None:
        name = early.clinic_name(self.ctx)
        self.clinic_label.setText(name)
        self.setWindowTitle(f"{name} — frontdesk")

    def _tick_clock(self) -> None:
        now = self.ctx.clock.now().astimezone(self.ctx.tz)
        text = now.strftime("%a %d %b  %H:%M")
        if text != self.clock_label.text():
            self.clock_label.setText(text)

    def _on_changed(self, notice: object) -> None:
        from frontdesk.store.changes import ChangeNotice

        if isinstance(notice, ChangeNotice) and notice.touches("clinic_settings"):
            self.refresh_clinic_name()

    # -- per-machine layout ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.prefs.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        state = self.prefs.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        key = self.prefs.value("window/area", "diary")
        keys = [a.key for a in self.areas]
        if start_page.opens_on_dashboard(self.prefs, self.ctx.actor) and "reports" in keys:
            key = "reports"  # the Reports area opens on its dashboard
        self.nav.setCurrentRow(keys.index(str(key)) if key in keys else 0)

    def save_layout(self) -> None:
        self.prefs.setValue("window/geometry", self.saveGeometry())
        self.prefs.setValue("window/state", self.saveState())
        self.prefs.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
