"""The diary scene: mirrors a loaded DiaryData through a DiaryLayout. Redrawn on every load
(a day is a few hundred items, handed to the same pooled item objects each time); never edited by
hand — edits go through services and come back as a new load."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsScene

from frontdesk.domain.diary import MINUTES_PER_DAY, local_minute
from frontdesk.domain.diary_view import DiaryData
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.ui.diary.items import (
    AppointmentItem,
    BackgroundItem,
    CursorItem,
    GhostItem,
    HoldItem,
    NowLine,
)
from frontdesk.ui.diary.layout import DiaryLayout


class DiaryScene(QGraphicsScene):
    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.layout: DiaryLayout | None = None
        self.data: DiaryData | None = None
        self.items_by_id: dict[str, AppointmentItem] = {}
        self.show_cancelled = False
        self.ghost = GhostItem()
        self.cursor = CursorItem()
        self.cursor.setVisible(False)
        self.addItem(self.ghost)
        self.addItem(self.cursor)
        self.now_line: NowLine | None = None
        self.background: BackgroundItem | None = None
        # appointment items, reused from one load to the next; the spare ones are hidden
        self._pool: list[AppointmentItem] = []
        self.hold_items: list[HoldItem] = []  # the integration API's holds, tentative

    def mirror(
        self, data: DiaryData, layout: DiaryLayout, now: datetime, held_now: datetime | None = None
    ) -> None:
        """Show the items for ``data`` in place of whatever was shown; holds still running at
        ``held_now`` (the clinic server's time: it decides when a hold lapses)."""
        self.data, self.layout = data, layout
        self.clearSelection()
        if self.background is not None:
            self.removeItem(self.background)
        rect = QRectF(0, 0, layout.width, layout.height)
        if rect != self.sceneRect():
            self.setSceneRect(rect)
        self.background = BackgroundItem(layout, data)
        self.addItem(self.background)
        self.update()  # one repaint of everything, rather than one request per item
        tz = layout.tz
        by_room = layout.by_room
        columns: dict[tuple[str, date], int] = {}
        for i, col in enumerate(layout.columns):
            owner = (col.room_id or "") if by_room else col.practitioner_id
            columns.setdefault((owner, col.day), i)
        first, ppm, column_width = layout.first_minute, layout.px_per_minute, layout.column_width
        lanes = _lanes(data, self.show_cancelled, by_room)
        pool, used = self._pool, 0
        items_by_id: dict[str, AppointmentItem] = {}
        for appt in data.appointments:
            if appt.status == AppointmentStatus.CANCELLED and not self.show_cancelled:
                continue
            s = appt.starts_at.astimezone(tz)
            column = columns.get(((appt.room_id or "") if by_room else appt.practitioner_id,
                                  s.date()))  # fmt: skip
            if column is None:
                continue
            minute = s.hour * 60 + s.minute  # as layout.place does it
            length = (appt.ends_at - appt.starts_at).total_seconds() / 60
            top = (minute - first) * ppm
            bottom = (min(MINUTES_PER_DAY, minute + length) - first) * ppm
            lane, lanes_n = lanes.get(appt.id, (0, 1))
            width = column_width / lanes_n
            x = column * column_width + lane * width
            rect = QRectF(x, top, width, max(bottom - top, 10.0))
            e = appt.ends_at.astimezone(tz)
            label = f"{s.hour:02d}:{s.minute:02d}–{e.hour:02d}:{e.minute:02d}"
            if used < len(pool):
                item = pool[used]
                item.assign(appt, rect, label)
                if not item.isVisible():
                    item.setVisible(True)
            else:
                item = AppointmentItem(appt, rect, label)
                self.addItem(item)
                pool.append(item)
            used += 1
            items_by_id[appt.id] = item
        for spare in pool[used:]:
            if spare.isVisible():
                spare.setVisible(False)
        self.items_by_id = items_by_id
        self.mirror_holds(data, held_now or now)
        self.place_now_line(now)
        self.ghost.setVisible(False)

    @property
    def holds_shown(self) -> list[Any]:
        return [item.hold for item in self.hold_items]

    def mirror_holds(self, data: DiaryData, now: datetime) -> None:
        """Draw the holds still running at ``now`` in their practitioner's column (or their
        room's, by room); a lapsed one is left out."""
        for item in self.hold_items:
            self.removeItem(item)
        self.hold_items = []
        layout = self.layout
        if layout is None:
            return
        tz = layout.tz
        columns: dict[tuple[str, date], int] = {}
        for i, col in enumerate(layout.columns):
            owner = (col.room_id or "") if layout.by_room else col.practitioner_id
            columns.setdefault((owner, col.day), i)
        ppm, width = layout.px_per_minute, layout.column_width
        for hold in data.holds:
            if not hold.active(now):
                continue
            s, e = hold.starts_at.astimezone(tz), hold.ends_at.astimezone(tz)
            owner = (hold.room_id or "") if layout.by_room else hold.practitioner_id
            column = columns.get((owner, s.date()))
            if column is None:
                continue
            top = (s.hour * 60 + s.minute - layout.first_minute) * ppm
            minutes = (hold.ends_at - hold.starts_at).total_seconds() / 60
            rect = QRectF(column * width, top, width, max(minutes * ppm, 10.0))
            item = HoldItem(hold, rect, f"{s:%H:%M}–{e:%H:%M}")
            self.addItem(item)
            self.hold_items.append(item)

    def place_now_line(self, now: datetime) -> None:
        """Draw (or move) the red line at the current time across today's columns."""
        layout = self.layout
        if self.now_line is not None:
            self.removeItem(self.now_line)
            self.now_line = None
        if layout is None:
            return
        day, minute = local_minute(now, layout.tz)
        today_columns = [i for i, c in enumerate(layout.columns) if c.day == day]
        if today_columns and layout.first_minute <= minute <= layout.last_minute:
            self.now_line = NowLine(layout, today_columns, layout.y_of(minute))
            self.addItem(self.now_line)

    def appointment_at(self, pos) -> AppointmentItem | None:  # type: ignore[no-untyped-def]
        best = None
        for item in self.items(pos):
            if (
                isinstance(item, AppointmentItem)
                and item.isVisible()
                and (best is None or item.zValue() > best.zValue())
            ):
                best = item
        return best


def _lanes(data: DiaryData, show_cancelled: bool, by_room: bool) -> dict[str, tuple[int, int]]:
    """Side-by-side lanes for overlapping appointments in one column: id → (lane, lanes)."""
    out: dict[str, tuple[int, int]] = {}
    by_column: dict[str, list] = {}  # type: ignore[type-arg]
    for a in data.appointments:
        if a.status == AppointmentStatus.CANCELLED and not show_cancelled:
            continue
        by_column.setdefault((a.room_id or "") if by_room else a.practitioner_id, []).append(a)
    for appts in by_column.values():
        appts.sort(key=lambda a: (a.starts_at, a.ends_at))
        group: list = []  # type: ignore[type-arg]
        group_end = None
        ends: list = []  # type: ignore[type-arg]
        assigned: dict[str, int] = {}

        def close(group: list, ends: list, assigned: dict[str, int]) -> None:  # type: ignore[type-arg]
            for a in group:
                out[a.id] = (assigned[a.id], len(ends))

        for a in appts:
            if group_end is not None and a.starts_at >= group_end:
                close(group, ends, assigned)
                group, ends, group_end = [], [], None
            lane = next((i for i, e in enumerate(ends) if e <= a.starts_at), None)
            if lane is None:
                ends.append(a.ends_at)
                lane = len(ends) - 1
            else:
                ends[lane] = a.ends_at
            assigned[a.id] = lane
            group.append(a)
            group_end = a.ends_at if group_end is None else max(group_end, a.ends_at)
        close(group, ends, assigned)
    return out
