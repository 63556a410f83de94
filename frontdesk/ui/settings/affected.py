"""The "these appointments are affected" list: the booked appointments a set-up change (new
hours, leave, a closure, a public holiday, archiving a practitioner) would strand, each of which
can be moved or cancelled from here before the change is saved."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.clinic_setup import hhmm, parse_hhmm
from frontdesk.domain.diary import local_instant
from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.vocab import CancellationReason
from frontdesk.services import diary
from frontdesk.services.setup import practitioners as people
from frontdesk.services.setup.common import AffectedAppointment, AppointmentsAffected
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import run_op

ERROR_STYLE = "color: #b91c1c;"


def picked(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


class MoveDialog(QDialog):
    """Move one booking: another day, time or practitioner (its length is kept)."""

    def __init__(self, ctx: ServiceContext, appt: AffectedAppointment, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.appt = ctx, appt
        self.setWindowTitle(f"Move {appt.patient_name}'s appointment")
        self.setObjectName("move_dialog")
        local = appt.starts_at.astimezone(ctx.tz)
        self.practitioner = QComboBox()
        self.practitioner.setObjectName("move_practitioner")
        for row in people.list_practitioners(ctx):
            self.practitioner.addItem(row.display_name, row.id)
        self.practitioner.setCurrentIndex(max(0, self.practitioner.findData(appt.practitioner_id)))
        self.day = QDateEdit(QDate(local.year, local.month, local.day))
        self.day.setObjectName("move_day")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd dd/MM/yyyy")
        self.time = QLineEdit(hhmm(local.hour * 60 + local.minute))
        self.time.setObjectName("move_time")
        self.error = QLabel("")
        self.error.setObjectName("move_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        form = QFormLayout()
        form.addRow("Practitioner", self.practitioner)
        form.addRow("Day", self.day)
        form.addRow("Time", self.time)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.move_button = buttons.addButton("Move", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.on_move)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(QLabel(f"{appt.patient_name} with {appt.practitioner_name}"))
        col.addLayout(form)
        col.addWidget(self.error)
        col.addWidget(buttons)

    def on_move(self) -> None:
        def call() -> None:
            minute = parse_hhmm(self.time.text(), field="time")
            starts = local_instant(picked(self.day), minute, self.ctx.tz)
            length = self.appt.ends_at - self.appt.starts_at
            diary.reschedule(
                self.ctx, self.appt.id, starts_at=starts, ends_at=starts + length,
                practitioner_id=self.practitioner.currentData(),
                action="moved an appointment out of the way of a set-up change",
            )  # fmt: skip

        if run_op(call, lambda exc: self.error.setText(exc.user_message)):
            self.accept()


class AffectedDialog(QDialog):
    """Lists the booked appointments a change affects. Each can be moved or cancelled here;
    then Save (or Save anyway, leaving the rest where they are) or Cancel the change."""

    def __init__(self, ctx: ServiceContext, exc: AppointmentsAffected, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.exc = ctx, exc
        self.setWindowTitle("These appointments are affected")
        self.setObjectName("affected_dialog")
        self.message = QLabel(exc.user_message)
        self.message.setWordWrap(True)
        self.appointments: list[AffectedAppointment] = list(exc.appointments)
        self.done_with: dict[str, str] = {}  # id -> "Moved …" / "Cancelled"
        from frontdesk.ui.settings.setup_common import RowsModel

        self.model = RowsModel(("When", "Practitioner", "Patient", "Done"), self)
        self.table = QTableView()
        self.table.setObjectName("affected_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.move_button = QPushButton("Move…")
        self.cancel_button = QPushButton("Cancel appointment")
        self.move_button.clicked.connect(self.on_move)
        self.cancel_button.clicked.connect(self.on_cancel)
        self.error = QLabel("")
        self.error.setObjectName("affected_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        actions = QHBoxLayout()
        actions.addWidget(self.move_button)
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go_ahead = buttons.addButton("Save anyway", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.message)
        col.addWidget(self.table, 1)
        col.addLayout(actions)
        col.addWidget(self.error)
        col.addWidget(buttons)
        self.resize(640, 360)
        self._fill()
        if self.appointments:
            self.table.selectRow(0)

    def _fill(self) -> None:
        tz = self.ctx.tz
        self.model.set_rows([
            (a.id, (a.starts_at.astimezone(tz).strftime("%a %d/%m/%Y %H:%M"),
                    a.practitioner_name, a.patient_name, self.done_with.get(a.id, "")),
             a.id in self.done_with)
            for a in self.appointments
        ])  # fmt: skip
        left = [a for a in self.appointments if a.id not in self.done_with]
        self.go_ahead.setText("Save" if not left else "Save anyway")
        self.move_button.setEnabled(bool(left))
        self.cancel_button.setEnabled(bool(left))

    def current(self) -> AffectedAppointment | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        appt = self.appointments[rows[0].row()]
        return None if appt.id in self.done_with else appt

    def _next(self, row: int) -> None:
        self._fill()
        for i in (*range(row, len(self.appointments)), *range(row)):
            if self.appointments[i].id not in self.done_with:
                self.table.selectRow(i)
                return

    def on_move(self) -> None:
        appt = self.current()
        if appt is None:
            self.error.setText("Choose an appointment still to move or cancel.")
            return
        dialog = MoveDialog(self.ctx, appt, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            minute = parse_hhmm(dialog.time.text(), field="time")
            starts = local_instant(picked(dialog.day), minute, self.ctx.tz)
            self.done_with[appt.id] = (
                f"Moved to {dialog.practitioner.currentText()}, "
                f"{starts.astimezone(self.ctx.tz):%a %d/%m %H:%M}"
            )  # fmt: skip
            self.error.setText("")
            self._next(self.appointments.index(appt))

    def on_cancel(self) -> None:
        appt = self.current()
        if appt is None:
            self.error.setText("Choose an appointment still to move or cancel.")
            return

        def call() -> None:
            diary.cancel(self.ctx, appt.id, CancellationReason.OTHER, self.exc.what.capitalize())

        if run_op(call, self._show):
            self.done_with[appt.id] = "Cancelled"
            self.error.setText("")
            self._next(self.appointments.index(appt))

    def _show(self, exc: FrontdeskError) -> None:
        self.error.setText(exc.user_message)
