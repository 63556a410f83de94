"""The diary scene: mirrors a loaded DiaryData through a DiaryLayout. Rebuilt on every load
(a day is a few hundred items); never edited by hand — edits go through services and come back
as a new load."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsScene

from frontdesk.domain.diary import local_minute
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.services.diary_view import DiaryData
from frontdesk.ui.diary.items import AppointmentItem, BackgroundItem, CursorItem, GhostItem, NowLine
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
        self.now_line: NowLine | None = None

    def mirror(self, data: DiaryData, layout: DiaryLayout, now: datetime) -> None:
        """Replace everything with the items for ``data``."""
        self.data, self.layout = data, layout
        for keep in (self.ghost, self.cursor):
            if keep.scene() is self:
                self.removeItem(keep)
        self.clear()
        self.items_by_id = {}
        self.now_line = None
        self.setSceneRect(QRectF(0, 0, layout.width, layout.height))
        self.addItem(BackgroundItem(layout, data))
        tz = layout.tz
        lanes = _lanes(data, self.show_cancelled, layout.by_room)
        for appt in data.appointments:
            cancelled = appt.status == AppointmentStatus.CANCELLED
            if cancelled and not self.show_cancelled:
                continue
            placed = layout.place(appt.practitioner_id, appt.starts_at, appt.ends_at,
                                  appt.room_id)  # fmt: skip
            if placed is None:
                continue
            column, top, bottom = placed
            lane, lanes_n = lanes.get(appt.id, (0, 1))
            width = layout.column_width / lanes_n
            x = layout.x_of(column) + lane * width
            rect = QRectF(x, top, width, max(bottom - top, 10.0))
            s, e = appt.starts_at.astimezone(tz), appt.ends_at.astimezone(tz)
            item = AppointmentItem(appt, rect, f"{s:%H:%M}–{e:%H:%M}")
            self.addItem(item)
            self.items_by_id[appt.id] = item
        self.place_now_line(now)
        self.ghost.setVisible(False)
        self.addItem(self.ghost)
        self.addItem(self.cursor)

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
            if isinstance(item, AppointmentItem) and (
                best is None or item.zValue() > best.zValue()
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
