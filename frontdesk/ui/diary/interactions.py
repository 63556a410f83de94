"""Mouse interactions on the diary: drag to create, drag to move, drag the bottom edge to
resize. Each shows the ghost (with the clash / roster verdict) while the mouse moves, and hands
a finished drag to the controller; Escape cancels. They never change data themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from frontdesk.domain.diary import local_minute, snap_down, snap_minute
from frontdesk.domain.diary_view import check_in_view, room_for_move
from frontdesk.ui.diary.items import AppointmentItem
from frontdesk.ui.diary.layout import Column
from frontdesk.ui.ops import run_op

if TYPE_CHECKING:
    from frontdesk.ui.diary.view import DiaryView


@dataclass(frozen=True)
class Target:
    column: int
    start_minute: int
    end_minute: int


class Interaction:
    """Base: turns mouse positions into a Target, previews it, and reports the last one."""

    ignore_id: str | None = None
    room_id: str | None = None
    room_note = ""  # which room a move to another practitioner takes, for the preview

    def __init__(self, view: DiaryView) -> None:
        self.view = view
        self.target: Target | None = None
        self.verdict = "ok"
        self.message = ""

    @property
    def layout(self):  # type: ignore[no-untyped-def]
        return self.view.diary_scene.layout

    def target_at(self, pos: QPointF) -> Target | None:
        raise NotImplementedError

    def move(self, pos: QPointF) -> None:
        target = self.target_at(pos)
        if target is None or target == self.target:
            return
        self.target = target
        self.preview(target)

    def preview(self, t: Target) -> None:
        lay = self.layout
        scene = self.view.diary_scene
        col = lay.columns[t.column]
        start = lay.instant(t.column, t.start_minute)
        end = lay.instant(t.column, t.end_minute)
        assert scene.data is not None
        practitioner_id, room_id = self.who(col, start, end)
        check = check_in_view(
            scene.data, lay.tz, self.view.now(), practitioner_id, room_id, start, end,
            ignore_id=self.ignore_id, server_now=self.view.server_now(),
        )  # fmt: skip
        # The funder's rules for the new date: a warning, never a block (the patient may pay).
        funding = self.funding_note(start, end)
        if check.refusals:
            self.verdict = "block"
        elif check.warnings or funding:
            self.verdict = "warn"
        else:
            self.verdict = "ok"
        when = f"{_hhmm(t.start_minute)}–{_hhmm(t.end_minute)}"
        self.message = "  ".join(m for m in (check.summary(), self.room_note, funding) if m)
        rect = QRectF(lay.x_of(t.column), lay.y_of(t.start_minute), lay.column_width,
                      lay.y_of(t.end_minute) - lay.y_of(t.start_minute))  # fmt: skip
        scene.ghost.show_at(rect, self.verdict, when, self.message, scene.sceneRect())

    def funding_note(self, start: datetime, end: datetime) -> str:
        """What the funder's rules say about the dragged appointment at ``start`` ("" for a
        new booking: the booking dialog checks it)."""
        return ""

    def who(self, col: Column, start: datetime, end: datetime) -> tuple[str, str | None]:
        """(practitioner, room) a drop in ``col`` means ("" practitioner: check the room only)."""
        if col.is_room:
            return "", col.room_id or None
        return col.practitioner_id, self.room_id

    def finish(self) -> None:
        self.view.diary_scene.ghost.setVisible(False)
        if self.target is not None:
            self.commit(self.target)

    def commit(self, target: Target) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        self.target = None
        self.view.diary_scene.ghost.setVisible(False)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class CreateInteraction(Interaction):
    """Drag over empty slots in one column to choose the time of a new booking."""

    def __init__(self, view: DiaryView, press: QPointF) -> None:
        super().__init__(view)
        lay = self.layout
        self.column = lay.column_at(press.x())
        self.anchor = lay.clamp_minute(snap_down(lay.minute_at(press.y()), lay.slot), lay.slot)

    def target_at(self, pos: QPointF) -> Target | None:
        if self.column is None:
            return None
        lay = self.layout
        minute = lay.clamp_minute(snap_minute(lay.minute_at(pos.y()), lay.slot))
        start, end = sorted((self.anchor, minute))
        if minute <= self.anchor:
            end = self.anchor + lay.slot
        if end - start < lay.slot:
            end = start + lay.slot
        return Target(self.column, start, end)

    def commit(self, target: Target) -> None:
        self.view.controller.open_booking_at(target.column, target.start_minute, target.end_minute)


class _ItemInteraction(Interaction):
    def __init__(self, view: DiaryView, item: AppointmentItem, press: QPointF) -> None:
        super().__init__(view)
        self.item = item
        self.ignore_id = item.appt.id
        self.room_id = item.appt.room_id
        tz = self.layout.tz
        _d, self.start_minute = local_minute(item.appt.starts_at, tz)
        self.length = int((item.appt.ends_at - item.appt.starts_at).total_seconds() // 60)
        self.offset = self.layout.minute_at(press.y()) - self.start_minute
        self._funding: dict[tuple[datetime, datetime], str] = {}
        item.setOpacity(0.35)

    def funding_note(self, start: datetime, end: datetime) -> str:
        """The booking warnings of the appointment's plan at the new time (read once per
        place the ghost visits; nothing for a private appointment)."""
        appt = self.item.appt
        if not appt.patient_id:
            return ""
        key = (start, end)
        if key not in self._funding:
            from frontdesk.services.claims.check import funding_warnings  # on the first drag

            ctx = self.view.controller.ctx
            found = run_op(
                lambda: funding_warnings(ctx, appt.id, starts_at=start, ends_at=end),
                lambda _e: None,
            )
            self._funding[key] = (
                "Funding: " + " ".join(found.get()) if found and found.get() else ""
            )
        return self._funding[key]

    def finish(self) -> None:
        self.item.setOpacity(1.0)
        super().finish()

    def cancel(self) -> None:
        self.item.setOpacity(1.0)
        super().cancel()

    def who(self, col: Column, start: datetime, end: datetime) -> tuple[str, str | None]:
        self.room_note = ""
        if col.is_room:
            return self.item.appt.practitioner_id, col.room_id or None
        appt = self.item.appt
        data = self.view.diary_scene.data
        if col.practitioner_id == appt.practitioner_id or data is None:
            return col.practitioner_id, self.room_id
        # To another practitioner: their rostered room, or a free one (never a room in use).
        choice = room_for_move(data, self.layout.tz, col.practitioner_id, appt.room_id,
                               start, end, ignore_id=appt.id)  # fmt: skip
        self.room_note = choice.note
        return col.practitioner_id, choice.room_id

    def commit(self, target: Target) -> None:
        lay = self.layout
        start = lay.instant(target.column, target.start_minute)
        end = lay.instant(target.column, target.end_minute)
        practitioner_id, room_id = self.who(lay.columns[target.column], start, end)
        self.view.controller.reschedule(self.item.appt, start, end, practitioner_id, room_id)


class MoveInteraction(_ItemInteraction):
    """Drag an appointment to another time, practitioner or (in week view) day. R while
    dragging steps through the rooms (then no room) for the drop."""

    chosen_room: str | bool | None = False  # False: the rule's room (room_for_move)

    def next_room(self) -> None:
        data = self.view.diary_scene.data
        if data is None or not data.room_names:
            return
        rooms: list[str | None] = [*data.room_names, None]
        current = self.room_id if self.chosen_room is False else self.chosen_room
        at = rooms.index(current) if current in rooms else -1
        self.chosen_room = rooms[(at + 1) % len(rooms)]
        if self.target is not None:
            self.preview(self.target)

    def who(self, col: Column, start: datetime, end: datetime) -> tuple[str, str | None]:
        practitioner_id, room_id = super().who(col, start, end)
        data = self.view.diary_scene.data
        if self.chosen_room is False or col.is_room or data is None:
            return practitioner_id, room_id
        room = self.chosen_room if isinstance(self.chosen_room, str) else None
        name = data.room_names.get(room or "", "no room")
        self.room_note = f"Room: {name} (chosen with R)"
        return practitioner_id, room

    def target_at(self, pos: QPointF) -> Target | None:
        lay = self.layout
        column = lay.column_at(pos.x())
        if column is None:
            return None
        start = snap_minute(lay.minute_at(pos.y()) - self.offset, lay.slot)
        start = lay.clamp_minute(start, self.length)
        return Target(column, start, start + self.length)


class ResizeInteraction(_ItemInteraction):
    """Drag the bottom edge to change the length, one slot at the least."""

    def target_at(self, pos: QPointF) -> Target | None:
        lay = self.layout
        appt = self.item.appt
        column = lay.column_of(appt.practitioner_id, appt.room_id,
                               appt.starts_at.astimezone(lay.tz).date())  # fmt: skip
        if column is None:
            return None
        end = snap_minute(lay.minute_at(pos.y()), lay.slot)
        end = max(self.start_minute + lay.slot, min(lay.last_minute, end))
        return Target(column, self.start_minute, end)


class DropInteraction(Interaction):
    """A patient or appointment dragged in from a side panel: the ghost shows the slot it
    would land in and what the rules say. The page handles the drop itself."""

    def __init__(self, view: DiaryView, minutes: int = 30) -> None:
        super().__init__(view)
        self.length = minutes

    def target_at(self, pos: QPointF) -> Target | None:
        lay = self.layout
        column = lay.column_at(pos.x())
        if column is None:
            return None
        start = lay.clamp_minute(snap_down(lay.minute_at(pos.y()), lay.slot), self.length)
        return Target(column, start, start + self.length)

    def commit(self, target: Target) -> None:
        """Nothing here: the view emits ``dropped`` and the page books or places."""
