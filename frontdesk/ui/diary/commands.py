"""Undo commands for diary edits. Each calls services, never items: undoing a move is a new
move, undoing a booking cancels it, redoing reinstates it — so undo syncs like any edit.

Commands are pushed after the first edit has succeeded (``done`` skips the first redo)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from frontdesk.domain.vocab import CancellationReason
from frontdesk.services import diary

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext

Report = Callable[[Exception], None]


class DiaryCommand(QUndoCommand):
    def __init__(self, ctx: ServiceContext, text: str, report: Report) -> None:
        super().__init__(text)
        self.ctx = ctx
        self.report = report
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self._safely(self.do)

    def undo(self) -> None:
        self._safely(self.undo_it)

    def _safely(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # shown to the person; the stack moves on
            self.report(exc)

    def do(self) -> None:
        raise NotImplementedError

    def undo_it(self) -> None:
        raise NotImplementedError


class BookCommand(DiaryCommand):
    def __init__(self, ctx: ServiceContext, appointment_id: str, report: Report) -> None:
        super().__init__(ctx, "Book appointment", report)
        self.appointment_id = appointment_id

    def undo_it(self) -> None:
        diary.cancel(self.ctx, self.appointment_id, CancellationReason.OTHER, "Booking undone")

    def do(self) -> None:
        diary.reinstate(self.ctx, self.appointment_id, allow_clash=True)


Placement = tuple[datetime, datetime, str, str | None]  # start, end, practitioner, room


class RescheduleCommand(DiaryCommand):
    def __init__(
        self, ctx: ServiceContext, appointment_id: str, old: Placement, new: Placement,
        report: Report, text: str = "Move appointment",
    ) -> None:  # fmt: skip
        super().__init__(ctx, text, report)
        self.appointment_id, self.old, self.new = appointment_id, old, new

    def _apply(self, p: Placement) -> None:
        diary.reschedule(
            self.ctx, self.appointment_id, starts_at=p[0], ends_at=p[1], practitioner_id=p[2],
            room_id=p[3], allow_clash=True, restoring=True,
        )  # fmt: skip

    def do(self) -> None:
        self._apply(self.new)

    def undo_it(self) -> None:
        self._apply(self.old)


class StatusCommand(DiaryCommand):
    def __init__(self, ctx: ServiceContext, appointment_id: str, old: str, new: str,
                 report: Report) -> None:  # fmt: skip
        super().__init__(ctx, "Change status", report)
        self.appointment_id, self.old, self.new = appointment_id, old, new

    def do(self) -> None:
        diary.set_status(self.ctx, self.appointment_id, self.new)

    def undo_it(self) -> None:
        diary.set_status(self.ctx, self.appointment_id, self.old)


class CancelCommand(DiaryCommand):
    def __init__(self, ctx: ServiceContext, appointment_ids: list[str], reason: str, note: str,
                 report: Report) -> None:  # fmt: skip
        super().__init__(ctx, "Cancel appointment", report)
        self.appointment_ids, self.reason, self.note = appointment_ids, reason, note

    def do(self) -> None:
        for appointment_id in self.appointment_ids:
            diary.cancel(self.ctx, appointment_id, self.reason, self.note)

    def undo_it(self) -> None:
        for appointment_id in self.appointment_ids:
            diary.reinstate(self.ctx, appointment_id, allow_clash=True)


class PinCommand(DiaryCommand):
    def __init__(self, ctx: ServiceContext, appointment_id: str, pinned: bool,
                 report: Report) -> None:  # fmt: skip
        super().__init__(ctx, "Pin appointment" if pinned else "Unpin appointment", report)
        self.appointment_id, self.pinned = appointment_id, pinned

    def do(self) -> None:
        diary.pin(self.ctx, self.appointment_id, self.pinned)

    def undo_it(self) -> None:
        diary.pin(self.ctx, self.appointment_id, not self.pinned)


class SeriesMoveCommand(DiaryCommand):
    def __init__(self, ctx: ServiceContext, appointment_id: str, scope: str, old: Placement,
                 new: Placement, report: Report) -> None:  # fmt: skip
        super().__init__(ctx, "Move appointments in a series", report)
        self.appointment_id, self.scope, self.old, self.new = appointment_id, scope, old, new

    def _apply(self, p: Placement) -> None:
        from frontdesk.services.diary.series import move_series

        move_series(self.ctx, self.appointment_id, self.scope, p[0], practitioner_id=p[2],
                    allow_clash=True)  # fmt: skip

    def do(self) -> None:
        self._apply(self.new)

    def undo_it(self) -> None:
        self._apply(self.old)
