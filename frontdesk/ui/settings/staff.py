"""Settings → Staff: the clinic's accounts (for managers and owners), your own password and PIN,
and how long the screen waits before it locks itself."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.vocab import Role
from frontdesk.services import staff
from frontdesk.services.permissions import Action, allowed
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, in_label, run_op
from frontdesk.ui.settings.gate import Gated
from frontdesk.ui.table_helpers import fill_rows, read_only_table

COLUMNS = ("Name", "User name", "Role", "Practitioner", "PIN", "Last signed in", "Status")


class StaffDialog(QDialog):
    """Add an account (with a first password) or change one's name, role and practitioner."""

    def __init__(
        self, ctx: ServiceContext, existing: staff.StaffView | None, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.existing = ctx, existing
        self.setWindowTitle("Change account" if existing else "Add a staff account")
        self.display_name = QLineEdit(existing.display_name if existing else "")
        self.username = QLineEdit(existing.username if existing else "")
        self.username.setEnabled(existing is None)
        self.role = QComboBox()
        for role, label in staff.ROLE_LABELS.items():
            self.role.addItem(label, role)
        if existing:
            self.role.setCurrentIndex(self.role.findData(existing.role))
        self.practitioner = QComboBox()
        self.practitioner.addItem("— not a practitioner —", None)
        for pid, name in staff.practitioner_choices(ctx):
            self.practitioner.addItem(name, pid)
        if existing and existing.practitioner_id:
            self.practitioner.setCurrentIndex(self.practitioner.findData(existing.practitioner_id))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("optional, 4–6 digits, for quick switching")
        form = QFormLayout(self)
        form.addRow("Name", self.display_name)
        form.addRow("User name", self.username)
        form.addRow("Role", self.role)
        form.addRow("Practitioner", self.practitioner)
        if existing is None:
            form.addRow("First password", self.password)
            form.addRow("PIN", self.pin)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b91c1c;")
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        role = Role(self.role.currentData())
        practitioner_id = self.practitioner.currentData()

        def save() -> None:
            if self.existing is None:
                staff.create_staff(
                    self.ctx,
                    staff.NewStaff(
                        self.username.text(), self.display_name.text(), role,
                        self.password.text(), practitioner_id, self.pin.text() or None,
                    ),
                )  # fmt: skip
            else:
                staff.update_staff(
                    self.ctx, self.existing.id, display_name=self.display_name.text(),
                    role=role, practitioner_id=practitioner_id,
                )  # fmt: skip

        if run_op(save, in_label(self.message)):
            self.accept()


class StaffList(QWidget):
    """The accounts table and what a manager can do with one."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.views: list[staff.StaffView] = []
        self.table = read_only_table(COLUMNS, "staffTable")
        row = QHBoxLayout()
        for label, slot in (
            ("Add…", self.add),
            ("Change…", self.change),
            ("Reset password…", self.reset_password),
            ("Set PIN…", self.set_pin),
            ("Unlock", self.unlock),
            ("Archive", self.archive),
        ):
            button = QPushButton(label)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.table, 1)
        col.addLayout(row)
        bus.changed.connect(self._on_changed)
        self.reload()

    def _on_changed(self, notice: object) -> None:
        if isinstance(notice, ChangeNotice) and notice.touches("staff_users", "practitioners"):
            self.reload()

    def reload(self) -> None:
        listed = run_op(lambda: staff.list_staff(self.ctx, include_archived=True), lambda _e: None)
        self.views = listed.get() if listed else []  # not allowed to see staff: an empty list
        tz = self.ctx.tz
        now = self.ctx.clock.now()
        rows = []
        for v in self.views:
            last = (
                v.last_sign_in_at.astimezone(tz).strftime("%d/%m/%Y %H:%M")
                if v.last_sign_in_at
                else "never"
            )
            status = "Archived" if v.archived else "Active"
            if v.locked_until and v.locked_until > now:
                status = f"Locked until {v.locked_until.astimezone(tz):%H:%M}"
            pin = "yes" if v.has_pin else ""
            role = staff.ROLE_LABELS[v.role]
            rows.append((v.display_name, v.username, role, v.practitioner_name, pin, last, status))
        fill_rows(self.table, rows)

    def selected(self) -> staff.StaffView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.views[rows[0].row()] if rows else None

    def _run(self, fn: Callable[[], object]) -> None:
        run_op(fn, in_box(self, "Staff"))

    def add(self) -> None:
        StaffDialog(self.ctx, None, self).exec()

    def change(self) -> None:
        if (v := self.selected()) is not None:
            StaffDialog(self.ctx, v, self).exec()

    def reset_password(self) -> None:
        if (v := self.selected()) is None:
            return
        text, ok = QInputDialog.getText(
            self,
            "Reset password",
            f"New password for {v.display_name}:",
            QLineEdit.EchoMode.Password,
        )
        if ok:
            self._run(lambda: staff.reset_password(self.ctx, v.id, text))

    def set_pin(self) -> None:
        if (v := self.selected()) is None:
            return
        text, ok = QInputDialog.getText(
            self, "Set PIN", f"PIN for {v.display_name} (4–6 digits; empty removes it):",
            QLineEdit.EchoMode.Password,
        )  # fmt: skip
        if ok:
            self._run(lambda: staff.set_pin(self.ctx, v.id, text or None))

    def unlock(self) -> None:
        if (v := self.selected()) is not None:
            self._run(lambda: staff.unlock(self.ctx, v.id))

    def archive(self) -> None:
        if (v := self.selected()) is None:
            return
        answer = QMessageBox.question(
            self, "Archive account",
            f"{v.display_name} will no longer be able to sign in. Their name stays on "
            "everything they did. Archive the account?",
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: staff.archive_staff(self.ctx, v.id))


class StaffPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        accounts = QGroupBox("Staff accounts")
        inner = QVBoxLayout(accounts)
        self.accounts = Gated(ctx, bus, Action.MANAGE_STAFF, lambda: StaffList(ctx, bus), accounts)
        inner.addWidget(self.accounts)

        mine = QGroupBox("My account")
        row = QHBoxLayout(mine)
        change = QPushButton("Change my password…")
        change.clicked.connect(self.change_password)
        pin = QPushButton("Set my PIN…")
        pin.clicked.connect(self.set_my_pin)
        row.addWidget(change)
        row.addWidget(pin)
        row.addStretch(1)

        lock = QGroupBox("Screen lock")
        lock_row = QHBoxLayout(lock)
        self.idle = QSpinBox()
        self.idle.setRange(1, 240)
        self.idle.setSuffix(" minutes")
        self.idle.setValue(staff.idle_lock_minutes(ctx))
        save = QPushButton("Save")
        save.clicked.connect(self.save_idle)
        self.lock_box = lock
        lock_row.addWidget(QLabel("Lock the screen after"))
        lock_row.addWidget(self.idle)
        lock_row.addWidget(QLabel("without keyboard or mouse.  Ctrl+L locks at once."))
        lock_row.addStretch(1)
        lock_row.addWidget(save)

        col = QVBoxLayout(self)
        col.addWidget(accounts, 1)
        col.addWidget(mine)
        col.addWidget(lock)

    def showEvent(self, event: QShowEvent) -> None:
        # Everyone sees the setting; only managers and owners change it (people switch).
        self.lock_box.setEnabled(allowed(self.ctx.actor.role, Action.MANAGE_SETTINGS))
        self.idle.setValue(staff.idle_lock_minutes(self.ctx))
        super().showEvent(event)

    def change_password(self) -> None:
        current, ok = QInputDialog.getText(
            self, "Change my password", "Current password:", QLineEdit.EchoMode.Password
        )
        if not ok:
            return
        new, ok = QInputDialog.getText(
            self, "Change my password", "New password (at least 8 characters):",
            QLineEdit.EchoMode.Password,
        )  # fmt: skip
        if ok:
            run_op(
                lambda: staff.change_own_password(self.ctx, current, new),
                in_box(self, "Change my password"),
            )

    def set_my_pin(self) -> None:
        staff_id = self.ctx.actor.staff_user_id
        if staff_id is None:
            return
        pin, ok = QInputDialog.getText(
            self, "Set my PIN", "PIN for quick switching (4–6 digits; empty removes it):",
            QLineEdit.EchoMode.Password,
        )  # fmt: skip
        if ok:
            run_op(
                lambda: staff.set_pin(self.ctx, staff_id, pin or None), in_box(self, "Set my PIN")
            )

    def save_idle(self) -> None:
        run_op(
            lambda: staff.set_idle_lock_minutes(self.ctx, self.idle.value()),
            in_box(self, "Screen lock"),
        )


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return StaffPage(ctx, bus, parent)
