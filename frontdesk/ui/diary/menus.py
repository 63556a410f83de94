"""Context menu, status shortcuts and the small dialogs the diary opens (cancel with reason,
class attendees, booking). Each choice goes to the controller, which calls services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QWidget,
)

from frontdesk.domain.diary_view import DiaryAppointment
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.ui.diary.actions import GRID_ACTIONS, STATUS_KEYS, build_actions
from frontdesk.ui.diary.host import DiaryHost
from frontdesk.ui.diary.items import AppointmentItem
from frontdesk.ui.ops import in_box, run_op


class DiaryMenus:
    def __init__(self, page: DiaryHost) -> None:
        self.page = page
        view = page.view
        handlers: dict[str, Any] = {
            f"status:{s.value}": (lambda s=s: self.set_status_selected(s)) for s, _k in STATUS_KEYS
        }
        handlers.update(
            cancel=self.cancel_selected, pin=self.toggle_pin_selected, book=self.book_at_cursor
        )
        actions = build_actions(view, GRID_ACTIONS, handlers, Qt.ShortcutContext.WidgetShortcut)
        self.status_actions: dict[AppointmentStatus, QAction] = {
            s: actions[f"status:{s.value}"] for s, _k in STATUS_KEYS
        }
        self.cancel_action = actions["cancel"]
        self.pin_action = actions["pin"]
        self.book_action = actions["book"]

    # -- what is selected -----------------------------------------------------------------------
    def selected(self) -> DiaryAppointment | None:
        item = self.page.view.selected_item()
        return item.appt if item is not None else None

    def set_status_selected(self, status: AppointmentStatus) -> None:
        appt = self.selected()
        if appt is None:
            self.page.tell(
                "Select an appointment first (click it, or move to it with the arrow keys).", "info"
            )
            return
        self.page.controller.set_status(appt.id, status)

    def toggle_pin_selected(self) -> None:
        appt = self.selected()
        if appt is not None and appt.status != AppointmentStatus.CANCELLED:
            self.page.controller.pin(appt.id, not appt.pinned)

    def cancel_selected(self) -> None:
        appt = self.selected()
        if appt is not None and appt.status != AppointmentStatus.CANCELLED:
            self.cancel_with_reason(appt)

    # -- menu -----------------------------------------------------------------------------------
    def show_context_menu(self, item: AppointmentItem | None, slot, global_pos) -> None:  # type: ignore[no-untyped-def]
        menu = self.build_menu(item, slot)
        menu.exec(global_pos)

    def build_menu(self, item: AppointmentItem | None, slot) -> QMenu:  # type: ignore[no-untyped-def]
        page = self.page
        menu = QMenu(page.view)
        if item is None:
            book = menu.addAction("Book here…")
            book.setShortcut(QKeySequence("Return"))
            book.triggered.connect(self.book_at_cursor)
            find = menu.addAction("Find next available…")
            find.triggered.connect(self.find_next_available)
            return menu
        appt = item.appt
        ctrl = page.controller
        if appt.status == AppointmentStatus.CANCELLED:
            reinstate = menu.addAction("Reinstate appointment")
            reinstate.triggered.connect(lambda: self._reinstate(appt))
            return menu
        for status, _key in STATUS_KEYS:
            action = self.status_actions[status]
            entry = menu.addAction(action.text())
            entry.setShortcut(action.shortcut())
            entry.setCheckable(True)
            entry.setChecked(appt.status == status)
            entry.triggered.connect(lambda _c=False, s=status: ctrl.set_status(appt.id, s))
        cancel = menu.addAction("Cancel appointment…")
        cancel.setShortcut(QKeySequence.StandardKey.Delete)
        cancel.triggered.connect(lambda: self.cancel_with_reason(appt))
        menu.addSeparator()
        checkout = menu.addAction("Checkout…")
        checkout.triggered.connect(lambda: self.checkout(appt.id))
        if appt.pinned:
            unpin = menu.addAction("Take off the pinboard")
            unpin.triggered.connect(lambda: ctrl.pin(appt.id, False))
        else:
            pin = menu.addAction("Put on the pinboard (to move to another day)")
            pin.triggered.connect(lambda: ctrl.pin(appt.id, True))
        notes = menu.addAction("Edit notes…")
        notes.triggered.connect(lambda: self.edit_notes(appt))
        if page.rooms:  # change the room straight after a move (or any time)
            rooms = menu.addMenu("Room")
            for room_id, name in [(None, "No room"), *((r.id, r.name) for r in page.rooms)]:
                choice = rooms.addAction(name)
                choice.setCheckable(True)
                choice.setChecked(appt.room_id == room_id)
                choice.triggered.connect(lambda _c=False, r=room_id: ctrl.reschedule(
                    appt, appt.starts_at, appt.ends_at, appt.practitioner_id, r))  # fmt: skip
        if appt.is_group:
            people = menu.addAction(f"Class attendees ({appt.attendees}/{appt.capacity})…")
            people.triggered.connect(lambda: self.attendees(appt))
        if appt.patient_id:
            card = menu.addAction("Open patient card")
            card.triggered.connect(
                lambda: page.bus.navigate.emit("patients", {"open_patient": appt.patient_id})
            )
            again = menu.addAction("Book again for this patient…")
            again.triggered.connect(lambda: self.book_for_patient(appt.patient_id or ""))
        return menu

    def _reinstate(self, appt: DiaryAppointment) -> None:
        from frontdesk.services import diary

        self.page.controller.run(
            lambda allow: diary.reinstate(self.page.ctx, appt.id, allow_clash=allow)
        )

    def activate(self, item: AppointmentItem | None, slot) -> None:  # type: ignore[no-untyped-def]
        if item is not None:
            self.edit_notes(item.appt)
        elif slot is not None:
            self.book_at(slot[0], slot[1], None)

    # -- booking --------------------------------------------------------------------------------
    def book_at_cursor(self) -> None:
        view = self.page.view
        if view.cursor_slot is None:
            lay = self.page.layout_
            if lay is None or not lay.columns:
                return
            view.set_cursor(0, view._default_minute())
        col, minute = view.cursor_slot  # type: ignore[misc]
        self.book_at(col, minute, None)

    def book_at(
        self, column: int, start_minute: int, minutes: int | None, patient_id: str | None = None
    ) -> None:
        page = self.page
        lay = page.layout_
        if lay is None or not lay.columns:
            return
        col = lay.columns[column]
        start = lay.instant(column, start_minute)
        practitioner_id = col.practitioner_id or (page.shown_ids() or [""])[0]
        self.open_booking(practitioner_id, start, minutes, patient_id, room_id=col.room_id or None)

    def open_booking(
        self, practitioner_id: str, start: datetime, minutes: int | None,
        patient_id: str | None = None, room_id: str | None = None,
    ) -> str | None:  # fmt: skip
        from frontdesk.ui.diary.booking_dialog import BookingDialog

        page = self.page
        dialog = BookingDialog(
            page.ctx, page.practitioners, page.types, page.rooms, practitioner_id, start,
            minutes or 30, patient_id, page,
        )  # fmt: skip
        if room_id is not None:
            dialog.room.setCurrentIndex(max(0, dialog.room.findData(room_id)))
        if minutes is None:
            typed = next((t for t in page.types
                          if t.profession == next((p.profession for p in page.practitioners
                                                   if p.id == practitioner_id), None)
                          and not t.is_new_patient and not t.is_group), None)  # fmt: skip
            if typed is not None:
                dialog.type.setCurrentIndex(dialog.type.findData(typed.id))
        # A refused or declined booking (a clash answered No) brings the dialog back with what
        # was typed, to choose another time, rather than losing it.
        while dialog.exec() == QDialog.DialogCode.Accepted and dialog.request is not None:
            booked = self.submit_booking(dialog)
            if booked is not None:
                return booked
            dialog.error.setText("Not booked: change the time or practitioner, or Cancel.")
        return None

    def submit_booking(self, dialog: Any) -> str | None:
        ctrl = self.page.controller
        req = dialog.request
        if dialog.series is None:
            booked = ctrl.book(req)
            if booked is not None:
                self._book_under_plan(dialog, [booked])
            return booked
        from frontdesk.services.diary.series import book_series

        result = ctrl.run(lambda allow: book_series(
            self.page.ctx, req, dialog.series.occurrences, every_weeks=dialog.series.every_weeks,
            count=dialog.series.count, allow_clash=allow))  # fmt: skip
        if result is not None:
            self.page.tell(f"Booked {len(result[1])} appointments in a series.", "ok")
            self._book_under_plan(dialog, [str(a) for a in result[1]])
            return str(result[1][0])
        return None

    def _book_under_plan(self, dialog: Any, appointment_ids: list[str]) -> None:
        """Count the new appointments against the plan chosen in the dialog (issue 19)."""
        plan_id = dialog.funding.plan_id()
        if plan_id:
            from frontdesk.services.claims.check import link_sessions

            run_op(
                lambda: link_sessions(self.page.ctx, appointment_ids, plan_id),
                in_box(self.page, "Funding"),
            )

    def book_for_patient(self, patient_id: str) -> None:
        page = self.page
        view = page.view
        lay = page.layout_
        if lay is None or not lay.columns:
            return
        if view.cursor_slot is None:
            view.set_cursor(0, view._default_minute())
        col, minute = view.cursor_slot  # type: ignore[misc]
        practitioner_id = lay.columns[col].practitioner_id
        start = lay.instant(col, minute)
        if practitioner_id and not self._free(
            practitioner_id, start, start + timedelta(minutes=30)
        ):
            # The cursor's slot is taken (or past): propose the next free one after it.
            from frontdesk.services.diary.groups import next_available

            found = run_op(lambda: next_available(
                page.ctx, duration_minutes=30, practitioner_ids=[practitioner_id],
                starting=start.astimezone(page.tz).date(), limit=40, slot=page.slot,
            ), lambda exc: page.tell(exc.user_message, "error"))  # fmt: skip
            later = [f for f in (found.get() if found else []) if f.start >= start]
            if later:
                when = later[0].start.astimezone(page.tz)
                page.tell(f"That slot is taken: the next free one is {when:%a %d %b %H:%M}.",
                          "info")  # fmt: skip
                self.open_booking(practitioner_id, later[0].start, None, patient_id)
                return
        self.book_at(col, minute, None, patient_id)

    def _free(self, practitioner_id: str, start: datetime, end: datetime) -> bool:
        data = self.page.view.diary_scene.data
        if start < self.page.ctx.clock.now():
            return False
        return data is None or not any(
            a.practitioner_id == practitioner_id and a.status != "cancelled"
            and a.starts_at < end and a.ends_at > start
            for a in data.appointments
        )  # fmt: skip

    # -- small dialogs --------------------------------------------------------------------------
    def cancel_with_reason(self, appt: DiaryAppointment) -> None:
        dialog = CancelDialog(self.page)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.page.controller.cancel(appt, dialog.reason(), dialog.note.text())

    def edit_notes(self, appt: DiaryAppointment) -> None:
        from PySide6.QtWidgets import QInputDialog

        from frontdesk.services import diary

        who = appt.patient_name or appt.type_name
        text, ok = QInputDialog.getMultiLineText(
            self.page, "Appointment notes", f"Notes for {who}:", appt.notes
        )
        if ok and text != appt.notes:
            self.page.controller.run(
                lambda _a: diary.update_details(self.page.ctx, appt.id, notes=text)
            )

    def attendees(self, appt: DiaryAppointment) -> None:
        from frontdesk.ui.diary.panels import AttendeesDialog

        AttendeesDialog(self.page, appt.id).exec()

    def checkout(self, appointment_id: str) -> None:
        from frontdesk.ui.billing.checkout import open_checkout

        page = self.page
        run_op(
            lambda: open_checkout(page.ctx, page.bus, appointment_id, page),
            lambda exc: page.tell(exc.user_message, "error"),
        )

    def find_next_available(self) -> None:
        from frontdesk.ui.diary.find_slot import NextAvailableDialog

        NextAvailableDialog(self.page).exec()

    def print_day_sheet(self, practitioner_ids: list[str] | None = None) -> None:
        from frontdesk.ui.diary.day_sheet import print_with_dialog

        print_with_dialog(self.page, practitioner_ids)


class CancelDialog(QDialog):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cancel appointment")
        form = QFormLayout(self)
        self.reason_box = QComboBox()
        for reason in CancellationReason:
            self.reason_box.addItem(reason.label, reason.value)
        # No reason chosen for the person: the reports count them, so they pick one.
        self.reason_box.setPlaceholderText("Choose the reason…")
        self.reason_box.setCurrentIndex(-1)
        self.missing = QLabel("")
        self.missing.setStyleSheet("color: #b91c1c;")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional note")
        form.addRow("&Reason", self.reason_box)
        form.addRow("", self.missing)
        form.addRow("&Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton("Cancel appointment", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Keep it")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.reason_box.setFocus()

    def _accept(self) -> None:
        if self.reason_box.currentIndex() < 0:
            self.missing.setText("Choose why the appointment is cancelled.")
            self.reason_box.setFocus()
            return
        self.accept()

    def reason(self) -> CancellationReason:
        return CancellationReason(self.reason_box.currentData())
