"""Turns finished interactions and menu choices into service calls wrapped in undo commands.

Rules stay in services: the controller only asks the person when a service says so (a clash
under a "warn" policy, which occurrences of a series) and reports refusals in the page's banner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox, QWidget

from frontdesk.domain.diary_view import DiaryAppointment
from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.services import diary
from frontdesk.ui.diary.commands import (
    BookCommand,
    CancelCommand,
    PinCommand,
    RescheduleCommand,
    SeriesMoveCommand,
    StatusCommand,
)
from frontdesk.ui.ops import run_op

if TYPE_CHECKING:
    from frontdesk.services.diary.appointments import BookingRequest
    from frontdesk.store.context import ServiceContext


class DiaryController:
    def __init__(self, ctx: ServiceContext, parent: QWidget) -> None:
        self.ctx = ctx
        self.parent = parent
        self.undo_stack = QUndoStack(parent)
        # Replaced by the page (banner) and by tests (no modal dialogs).
        self.tell: Callable[[str, str], None] = lambda text, level: None
        self.confirm: Callable[[str], bool] = self._confirm_dialog
        self.choose_scope: Callable[[str], str | None] = self._scope_dialog
        self.open_booking: Callable[[int, int, int], None] = lambda col, start, end: None
        self.offer_waitlist: Callable[[list[str]], None] = lambda entry_ids: None
        # "Ben Brown in Room 2": who (and which room) a move went to, for its message.
        self.place_name: Callable[[str, str | None], str] = lambda pid, room: ""

    # -- asking the person ----------------------------------------------------------------------
    def _confirm_dialog(self, text: str) -> bool:
        # the question says what it is about (a clash, a time held online, an early arrival)
        answer = QMessageBox.question(
            self.parent, "Please confirm", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _scope_dialog(self, what: str) -> str | None:
        box = QMessageBox(self.parent)
        box.setWindowTitle("Recurring appointment")
        box.setText(f"This appointment is part of a series. {what} which appointments?")
        one = box.addButton("Only this one", QMessageBox.ButtonRole.AcceptRole)
        following = box.addButton("This and all following", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "one" if clicked is one else "following" if clicked is following else None

    def report(self, exc: Exception) -> None:
        if isinstance(exc, FrontdeskError):
            self.tell(exc.user_message, "error")
        else:
            raise exc

    def run(self, fn: Callable[[bool], Any]) -> Any:
        """Call ``fn(allow_clash)``; on a warn-clash ask, and repeat with allow_clash=True.
        Returns fn's result, or None when refused or declined."""

        from frontdesk.services.diary.appointments import ClashNeedsConfirmation

        def attempt() -> Any:
            try:
                return fn(False)
            except ClashNeedsConfirmation as clash:
                if not self.confirm(clash.user_message):
                    self.tell("Nothing was changed.", "info")
                    return None
                return fn(True)

        return run_op(attempt, self.report).value

    # -- edits ----------------------------------------------------------------------------------
    def open_booking_at(self, column: int, start_minute: int, end_minute: int) -> None:
        self.open_booking(column, start_minute, end_minute)

    def book(self, req: BookingRequest) -> str | None:
        appointment_id = self.run(lambda allow: diary.book(self.ctx, req, allow_clash=allow))
        if appointment_id is not None:
            self.undo_stack.push(BookCommand(self.ctx, appointment_id, self.report))
            self.tell("Booked.", "ok")
        return appointment_id  # type: ignore[no-any-return]

    def reschedule(
        self, appt: DiaryAppointment, start: datetime, end: datetime, practitioner_id: str,
        room_id: str | bool | None = False,
    ) -> bool:  # fmt: skip
        """Move / resize; ``room_id`` False keeps the room (a room column passes its room)."""
        room = appt.room_id if room_id is False else room_id
        assert room is None or isinstance(room, str)
        old = (appt.starts_at, appt.ends_at, appt.practitioner_id, appt.room_id)
        new = (start, end, practitioner_id, room)
        if old == new:
            return False
        moving = start != appt.starts_at or practitioner_id != appt.practitioner_id
        moving = moving or room != appt.room_id
        if appt.series_id and moving and end - start == appt.ends_at - appt.starts_at:
            scope = self.choose_scope("Move")
            if scope is None:
                return False
            if scope == "following":
                from frontdesk.services.diary.series import move_series

                done = self.run(lambda allow: move_series(
                    self.ctx, appt.id, scope, start, practitioner_id=practitioner_id,
                    allow_clash=allow))  # fmt: skip
                if done is not None:
                    self.undo_stack.push(
                        SeriesMoveCommand(self.ctx, appt.id, scope, old, new, self.report)
                    )
                return done is not None
        text = "Move appointment" if moving else "Change appointment length"
        ok = self.run(lambda allow: _done(diary.reschedule,
            self.ctx, appt.id, starts_at=start, ends_at=end, practitioner_id=practitioner_id,
            room_id=room, allow_clash=allow))  # fmt: skip
        if ok:
            self.undo_stack.push(RescheduleCommand(self.ctx, appt.id, old, new, self.report, text))
            when = start.astimezone(self.ctx.tz)
            place = self.place_name(practitioner_id, room)
            self.tell(f"Moved to {place + ', ' if place else ''}{when:%a %d %b %H:%M}."
                      if moving else "Length changed.", "ok")  # fmt: skip
            if moving:  # funded care (issue 19): the plan may not cover the new date
                from frontdesk.services.claims.check import funding_warnings

                funding = funding_warnings(self.ctx, appt.id)
                if funding:
                    self.tell("Moved. Funding: " + " ".join(funding), "error")
        return bool(ok)

    def set_status(self, appointment_id: str, status: AppointmentStatus) -> None:
        if status in (AppointmentStatus.COMPLETED, AppointmentStatus.DID_NOT_ARRIVE):
            from frontdesk.services.diary.view import one_appointment

            appt = one_appointment(self.ctx, appointment_id)
            now = self.ctx.clock.now()
            when = appt.starts_at.astimezone(self.ctx.tz) if appt is not None else None
            # later today: ask (a later day is refused by the service with its own message)
            if (
                when is not None
                and when > now
                and when.date() == now.astimezone(when.tzinfo).date()
            ):
                label = AppointmentStatus(status).label.lower()
                if not self.confirm(f"This appointment is not until {when:%H:%M} today. "
                                    f"Mark it {label} now?"):  # fmt: skip
                    self.tell("Nothing was changed.", "info")
                    return
        old = self.run(lambda _allow: diary.set_status(self.ctx, appointment_id, status))
        if old is not None and old != status:
            self.undo_stack.push(StatusCommand(self.ctx, appointment_id, old, status, self.report))
            label = AppointmentStatus(status).label.lower()
            self.tell(f"Marked {label}. Ctrl+Z undoes it.", "ok")

    def cancel(self, appt: DiaryAppointment, reason: CancellationReason, note: str = "") -> None:
        ids = [appt.id]
        if appt.series_id:
            scope = self.choose_scope("Cancel")
            if scope is None:
                return
            if scope == "following":
                from frontdesk.services.diary.series import cancel_series

                done = self.run(lambda _a: cancel_series(self.ctx, appt.id, scope, reason, note))
                if not done:
                    return
                self.undo_stack.push(CancelCommand(self.ctx, done, reason, note, self.report))
                self._offer_waitlist(appt)
                return
        if self.run(lambda _a: _done(diary.cancel, self.ctx, appt.id, reason, note)):
            self.undo_stack.push(CancelCommand(self.ctx, ids, reason, note, self.report))
            self._offer_waitlist(appt)

    def _offer_waitlist(self, appt: DiaryAppointment) -> None:
        from frontdesk.services.diary import groups as diary_groups

        fits = diary_groups.waitlist_for_slot(self.ctx, appt.practitioner_id, appt.starts_at)
        if fits:
            names = ", ".join(w.patient_name for w in fits[:3])
            self.tell(f"Cancelled. Waiting patients who suit this slot: {names}. "
                      "Pick one in the Waitlist and press Book at cursor.", "info")  # fmt: skip
            self.offer_waitlist([w.id for w in fits])
        else:
            self.tell("Cancelled.", "ok")

    def pin(self, appointment_id: str, pinned: bool = True) -> None:
        if self.run(lambda _a: _done(diary.pin, self.ctx, appointment_id, pinned)):
            self.undo_stack.push(PinCommand(self.ctx, appointment_id, pinned, self.report))
            self.tell("On the pinboard: go to the new day and drag it back in." if pinned
                      else "Taken off the pinboard.", "ok")  # fmt: skip


def _done(fn: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
    fn(*args, **kwargs)
    return True
