"""The Diary area: toolbar (dates, day/week, slot, practitioners), the view, a message banner,
and the waitlist / pinboard panels. Reloads from change notices, never from other widgets.

About 400 lines: the page is the host the toolbar, menus and panels talk to (loading,
prefetching, navigation, refresh); the widgets themselves live in their own modules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from frontdesk.domain.diary_view import DiaryData
from frontdesk.services import early
from frontdesk.store.changes import ChangeNotice
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.actions import PAGE_ACTIONS, build_actions
from frontdesk.ui.diary.controller import DiaryController
from frontdesk.ui.diary.host import DiaryHost
from frontdesk.ui.diary.layout import DiaryLayout, layout_for, working_days
from frontdesk.ui.diary.scene import DiaryScene
from frontdesk.ui.diary.toolbar import DiaryToolbar
from frontdesk.ui.diary.view import DiaryView

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext

WATCHED = frozenset({
    "appointments", "appointment_attendees", "leave", "roster_entries", "practitioners",
    "appointment_types", "rooms", "patients", "patient_alerts", "invoices", "invoice_lines",
    "payment_allocations", "waitlist_entries", "clinic_settings", "appointment_holds",
})  # fmt: skip
CATALOGUE = frozenset({"practitioners", "appointment_types", "rooms", "clinic_settings"})
BANNER = {"error": "#fee2e2;color:#991b1b", "info": "#e0f2fe;color:#075985",
          "ok": "#dcfce7;color:#166534"}  # fmt: skip


class DiaryPage(DiaryHost):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, prefs: QSettings,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx, self.bus, self.prefs = ctx, bus, prefs
        self.tz = ctx.tz
        # before the desk is open (services/early.py): the first paint's plain sqlite3 read
        self.practitioners, self.types, self.rooms = early.catalogue(ctx)
        self.mode = str(prefs.value("diary/mode", "day"))
        self.slot = int(prefs.value("diary/slot", 15))  # type: ignore[call-overload]
        self.day = self.today()
        self.data: DiaryData | None = None
        self.layout_: DiaryLayout | None = None
        self.scene = DiaryScene(self)
        self.scene.show_cancelled = prefs.value("diary/show_cancelled", "false") == "true"
        self.view = DiaryView(self.scene, ctx.clock.now, self)
        self.view.server_now = ctx.server_now
        self.controller = DiaryController(ctx, self)
        self.view.controller = self.controller
        self.controller.tell = self.tell
        self.controller.open_booking = self._book_at_column
        self.controller.offer_waitlist = self._offer_waitlist
        self.controller.place_name = self._place_name
        self._dirty = False
        self._shown_key: tuple[tuple[date, ...], tuple[str, ...]] | None = None
        # the days either side, loaded in the background while the desk is idle, so flipping
        # to the next or previous day only builds and paints; dropped on any change notice
        self._prefetched: dict[tuple[tuple[date, ...], tuple[str, ...]], DiaryData] = {}
        self._generation = 0
        self._data_generation = -1
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.setInterval(250)
        self._prefetch_timer.timeout.connect(self._prefetch)
        self._rules: dict[str, list[Any]] | None = (
            None  # roster lines, kept until a notice changes them
        )
        self._build()
        from frontdesk.ui.diary.menus import DiaryMenus

        self.menus = DiaryMenus(self)
        self.view.context_requested.connect(self.menus.show_context_menu)
        self.view.activated.connect(self.menus.activate)
        self.view.dropped.connect(self._dropped)
        self.view.resized.connect(self._view_resized)
        self.view.drag_ended.connect(self._after_drag)
        bus.changed.connect(self._on_changed)
        # Checked every second, moved when the minute turns: the now-line and the status-bar
        # clock (which does the same) change together, never a minute apart.
        self._minute_shown: tuple[int, int] | None = None
        self._minute_timer = QTimer(self)
        self._minute_timer.timeout.connect(self._tick)
        self._minute_timer.start(1000)
        self.reload()
        self.reload_panels()
        self._scroll_to_now()
        if not self.practitioners:
            self.tell("No practitioners yet: add them in Settings, and their diary appears here.",
                      "info")  # fmt: skip

    def _build(self) -> None:
        """Toolbar, banner, the view beside the waitlist/pinboard panels, keyboard actions."""
        col = QVBoxLayout(self)
        col.setContentsMargins(10, 8, 10, 6)
        col.setSpacing(6)
        panels = self.prefs.value("diary/panels", "false") == "true"
        self.toolbar = DiaryToolbar(
            self, mode=self.mode, slot=self.slot, show_cancelled=self.scene.show_cancelled,
            panels=panels,
        )  # fmt: skip
        col.addWidget(self.toolbar)
        # The result line: always there at a fixed height (two lines), so a message never moves
        # the grid the receptionist is aiming at; empty and see-through between messages.
        self.banner = QLabel()
        self.banner.setObjectName("diaryBanner")
        self.banner.setWordWrap(True)
        self.banner.setFixedHeight(2 * self.banner.fontMetrics().lineSpacing() + 14)
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._banner_timer = QTimer(self)
        self._banner_timer.setSingleShot(True)
        self._banner_timer.timeout.connect(self._clear_banner)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.side = QTabWidget()
        if early.early(self.ctx) is None:  # else hidden, and added at the hand-over
            self._build_panels()
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([1100, 230])
        self.side.setVisible(panels)
        col.addWidget(self.splitter, 1)
        col.addWidget(self.banner)
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        handlers = {
            "today": self.go_today, "previous": lambda: self.step(-1),
            "next": lambda: self.step(1), "go_to_date": self.toolbar.date_edit.setFocus,
            "find_slot": self.find_next_available, "print": self.print_day_sheet,
        }  # fmt: skip
        self.page_actions = build_actions(self, PAGE_ACTIONS, handlers, context)
        self.undo_action = self.controller.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.controller.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(context)
            self.addAction(action)

    def _build_panels(self) -> None:
        from frontdesk.ui.diary.panels import PinboardPanel, WaitlistPanel

        self.waitlist_panel = WaitlistPanel(self)
        self.pinboard_panel = PinboardPanel(self)
        self.side.addTab(self.waitlist_panel, "Waitlist")
        self.side.addTab(self.pinboard_panel, "Pinboard")

    def hand_over(self, ctx: ServiceContext) -> None:
        """The desk is open (app.py): the page works through the services from now on. What
        the first paint read is what the services read (tests/services/test_early_paint.py),
        so nothing is read again or redrawn; the side panels are built now."""
        self.ctx = self.controller.ctx = ctx
        self.view.server_now = ctx.server_now
        if not hasattr(self, "waitlist_panel"):
            self._build_panels()
        self.reload_panels()

    # -- what the toolbar asks for ----------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.prefs.setValue("diary/mode", self.mode)
        self.reload()

    def set_slot(self, minutes: int) -> None:
        self.slot = minutes
        self.prefs.setValue("diary/slot", self.slot)
        self.reload()

    def set_show_cancelled(self, on: bool) -> None:
        self.scene.show_cancelled = on
        self.prefs.setValue("diary/show_cancelled", "true" if on else "false")
        self.reload()

    def set_panels_shown(self, on: bool) -> None:
        self.side.setVisible(on)
        self.prefs.setValue("diary/panels", "true" if on else "false")

    def open_booking(
        self, practitioner_id: str, start: datetime, minutes: int | None,
        patient_id: str | None = None, room_id: str | None = None,
    ) -> str | None:  # fmt: skip
        return self.menus.open_booking(practitioner_id, start, minutes, patient_id, room_id)

    def find_next_available(self) -> None:
        self.menus.find_next_available()

    def print_day_sheet(self, practitioner_ids: list[str] | None = None) -> None:
        self.menus.print_day_sheet(practitioner_ids)

    def save_day_sheet(self) -> None:
        from frontdesk.ui.diary.day_sheet import save_pdf

        save_pdf(self, self.shown_ids())

    # -- what is shown --------------------------------------------------------------------------
    def today(self) -> date:
        return self.ctx.clock.now().astimezone(self.tz).date()

    def _key(self) -> str:
        return f"diary/{self.mode}_practitioners"

    def shown_ids(self) -> list[str]:
        stored = self.prefs.value(self._key())
        known = [p.id for p in self.practitioners]
        if isinstance(stored, str):
            stored = [stored]
        if isinstance(stored, list) and stored:
            ids = [i for i in known if i in set(stored)]
            if ids:
                return ids
        return known if self.mode == "day" else known[:1]

    def set_shown(self, ids: list[str]) -> None:
        self.prefs.setValue(self._key(), ids)
        self.reload()

    def by_room(self) -> bool:
        """Day view with a column per room (Show ▾ → Columns by room)."""
        return self.mode == "day" and self.prefs.value("diary/by_room", "false") == "true"

    def loaded_ids(self) -> list[str]:
        """Whose bookings a view needs: those shown, or everyone's when columns are rooms."""
        return [p.id for p in self.practitioners] if self.by_room() else self.shown_ids()

    def set_by_room(self, on: bool) -> None:
        self.prefs.setValue("diary/by_room", "true" if on else "false")
        self.reload()

    def days(self) -> list[date]:
        if self.mode == "day":
            return [self.day]
        monday = self.day - timedelta(days=self.day.weekday())
        return [monday + timedelta(days=i) for i in range(7)]

    # -- loading --------------------------------------------------------------------------------
    def reload(self) -> None:
        days = self.days()
        ids = self.loaded_ids()
        key = (tuple(days), tuple(ids))
        same_place = self._shown_key == key
        if self.data is not None and self._shown_key and not same_place \
                and self._data_generation == self._generation:  # fmt: skip
            self._prefetched[self._shown_key] = self.data  # still fresh: going back is instant
        self._shown_key = key
        selected = self.view.selected_item()
        keep_id = selected.appt.id if selected is not None and same_place else None
        keep_slot = self.view.cursor_slot if same_place else None
        cached = self._prefetched.pop(key, None)
        self.data = cached or early.load_view(
            self.ctx, days, ids, practitioners=self.practitioners, tz=self.tz, rules=self._rules,
            rooms=self.rooms,
        )  # fmt: skip
        self._rules = self.data.rules
        self._data_generation = self._generation
        self._prefetch_timer.start()
        if self.mode == "week":
            days = working_days(self.data, days, self.tz)
        self.layout_ = layout_for(
            self.data, days, rooms=self.rooms if self.by_room() else None, mode=self.mode,
            tz=self.tz, slot=self.slot,
        )  # fmt: skip
        self.layout_.fit(self.view.viewport().width())
        self.scene.mirror(self.data, self.layout_, self.ctx.clock.now(), self.ctx.server_now())
        self.view.refresh_frame()
        self.view.cursor_slot = None
        self.scene.cursor.setVisible(False)
        if keep_slot is not None and keep_slot[0] < len(self.layout_.columns):
            self.view.set_cursor(*keep_slot, scroll=False)
        if keep_id is not None and keep_id in self.scene.items_by_id:
            self.scene.clearSelection()
            self.scene.items_by_id[keep_id].setSelected(True)
        self._update_title()

    def _prefetch(self) -> None:
        from frontdesk.ui.workers import run_in_background

        if early.early(self.ctx) is not None:
            return  # the hand-over comes first
        step = 1 if self.mode == "day" else 7
        ids = self.loaded_ids()
        generation = self._generation
        for delta in (step, -step):
            days = [d + timedelta(days=delta) for d in self.days()]
            key = (tuple(days), tuple(ids))
            if key in self._prefetched:
                continue

            def load(days: list[date] = days) -> DiaryData:
                return early.load_view(self.ctx, days, ids, practitioners=self.practitioners,
                                 tz=self.tz, rules=self._rules, rooms=self.rooms)  # fmt: skip

            def keep(data: DiaryData, key: Any = key) -> None:
                if generation == self._generation:
                    self._prefetched[key] = data
                    while len(self._prefetched) > 6:
                        self._prefetched.pop(next(iter(self._prefetched)))

            run_in_background(load, keep, lambda _exc: None)  # the click loads it instead

    def reload_panels(self) -> None:
        first = early.early(self.ctx)
        if first is not None:  # the panels are built at the hand-over; their figures now
            screen = first.screen
            self.toolbar.show_panel_counts(screen.waiting, screen.pinned, self.side.isVisible())
            return
        self.waitlist_panel.reload()
        self.pinboard_panel.reload()
        self.toolbar.show_panel_counts(
            self.waitlist_panel.list.count(), self.pinboard_panel.list.count(),
            self.side.isVisible(),
        )  # fmt: skip

    def _update_title(self) -> None:
        days = self.days()
        if self.mode == "day":
            text = f"{self.day:%a %d %b %Y}"
        else:  # short enough for the toolbar of a 1280 px window: 7–13 Dec, 30 Nov – 6 Dec
            first, last = days[0], days[-1]
            same_month = (first.year, first.month) == (last.year, last.month)
            start = f"{first.day}" if same_month else f"{first.day} {first:%b}"
            text = f"{start}{'–' if same_month else ' – '}{last.day} {last:%b %Y}"
        self.toolbar.show_dates(text, self.day, self.today() in days)

    def _view_resized(self) -> None:
        if self.layout_ is not None and self.data is not None:
            old = self.layout_.column_width
            self.layout_.fit(self.view.viewport().width())
            if abs(old - self.layout_.column_width) > 1:
                self.scene.mirror(
                    self.data, self.layout_, self.ctx.clock.now(), self.ctx.server_now()
                )
                self.view.refresh_frame()
                if self.view.cursor_slot is not None:  # the cursor follows its slot
                    self.view.set_cursor(*self.view.cursor_slot, scroll=False)

    # -- navigation -----------------------------------------------------------------------------
    def go_to(self, day: date) -> None:
        self.day = day
        self.reload()

    def go_today(self) -> None:
        self.go_to(self.today())
        self._scroll_to_now()

    def step(self, direction: int) -> None:
        self.go_to(self.day + timedelta(days=direction * (1 if self.mode == "day" else 7)))

    def _scroll_to_now(self) -> None:
        lay = self.layout_
        if lay is None:
            return
        now = self.ctx.clock.now().astimezone(self.tz)
        minute = now.hour * 60 + now.minute - 60
        self.view.verticalScrollBar().setValue(int(max(0, lay.y_of(max(lay.first_minute, minute)))))
        today = next((i for i, c in enumerate(lay.columns) if c.day == now.date()), None)
        if today is not None and self.mode == "week":
            self.view.horizontalScrollBar().setValue(int(lay.x_of(today)))

    def show_appointment(self, appointment_id: str) -> None:
        from frontdesk.services.diary.lookup import locate_appointment

        place = locate_appointment(self.ctx, appointment_id)
        if place is None:
            self.tell("That appointment no longer exists.", "error")
            return
        starts, pid = place.starts_at, place.practitioner_id
        if place.cancelled and not self.scene.show_cancelled:
            self.toolbar.cancelled_action.setChecked(True)
        day = starts.astimezone(self.tz).date()
        if pid not in self.shown_ids():
            self.prefs.setValue(self._key(), [*self.shown_ids(), pid])
        self.go_to(day)
        item = self.scene.items_by_id.get(appointment_id)
        if item is not None:
            self.scene.clearSelection()
            item.setSelected(True)
            self.view.centerOn(item)
        self.view.setFocus()

    def handle_navigation(self, payload: object) -> None:
        if not isinstance(payload, dict):
            return
        if "show_appointment" in payload:
            self.show_appointment(str(payload["show_appointment"]))
        elif "book_for_patient" in payload:
            self.menus.book_for_patient(str(payload["book_for_patient"]))

    # -- refresh --------------------------------------------------------------------------------
    def _on_changed(self, notice: object) -> None:
        if not isinstance(notice, ChangeNotice) or not (notice.kinds & WATCHED):
            return
        if notice.kinds & CATALOGUE:
            self.tz = self.ctx.tz
            self.practitioners, self.types, self.rooms = early.catalogue(self.ctx)
        self._generation += 1
        self._prefetched.clear()
        if notice.kinds & (CATALOGUE | {"roster_entries"}):
            self._rules = None
        if self.view.interaction is not None:
            self._dirty = True  # never pull the items out from under a drag: refresh after it
        elif self.isVisible():
            self.reload()
            self.reload_panels()
        else:
            self._dirty = True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.view.setFocus()  # arrows, Enter and the status keys work straight away
        if self._dirty:
            self._dirty = False
            self.reload()
            self.reload_panels()

    def _after_drag(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.reload()
            self.reload_panels()

    def _tick(self) -> None:
        now = self.ctx.clock.now()
        minute = (now.hour, now.minute)
        held_now = self.ctx.server_now()  # the server's clock decides when a hold lapses
        if self.data is not None and any(not h.active(held_now) for h in self.scene.holds_shown):
            self.scene.mirror_holds(self.data, held_now)  # a hold lapsed: it vanishes by itself
        if self.layout_ is not None and minute != self._minute_shown:
            self._minute_shown = minute
            self.scene.place_now_line(now)
            self.view.gutter.update()

    def tell(self, text: str, level: str = "info") -> None:
        """Show a result in the fixed-height line under the grid (nothing moves)."""
        self.banner.setText(text)
        self.banner.setToolTip(text)
        self.banner.setStyleSheet(
            f"background:{BANNER.get(level, BANNER['info'])};padding:4px 10px;border-radius:6px;"
            "font-weight:bold;"
        )
        self._banner_timer.start(9000 if level == "error" else 5000)

    def _place_name(self, practitioner_id: str, room_id: str | None) -> str:
        who = next((p.name for p in self.practitioners if p.id == practitioner_id), "")
        room = next((r.name for r in self.rooms if r.id == room_id), "")
        return f"{who} in {room}" if who and room else who

    def _clear_banner(self) -> None:
        self.banner.setText("")
        self.banner.setToolTip("")
        self.banner.setStyleSheet("background: transparent;")

    def _offer_waitlist(self, entry_ids: list[str]) -> None:
        """A slot has freed up: open the waitlist with the patients who suit it selected."""
        if not self.side.isVisible():
            self.toolbar.panels_button.setChecked(True)
        self.side.setCurrentWidget(self.waitlist_panel)
        self.waitlist_panel.highlight(entry_ids)

    def _dropped(self, kind: str, ident: str, column: int, minute: int) -> None:
        from frontdesk.ui.diary.mime import WAITLIST_MIME

        if kind == WAITLIST_MIME:
            self.waitlist_panel.book_entry(ident, column, minute)
        else:
            self.pinboard_panel.place(ident, column, minute)

    # -- booking from the grid ------------------------------------------------------------------
    def _book_at_column(self, column: int, start_minute: int, end_minute: int) -> None:
        self.menus.book_at(column, start_minute, end_minute - start_minute)

    def now(self) -> datetime:
        return self.ctx.clock.now()
