"""Signing in: the panel used at start and on the lock screen, the start-up sign-in dialog,
and the first-run dialog that creates the owner's account on a desk with no staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.services import early
from frontdesk.services.passwords import MAX_PASSWORD
from frontdesk.store.actor import Actor
from frontdesk.ui.ops import in_label, run_op

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext

# The services below import SQLAlchemy and the models: imported where they are used, so the
# sign-in dialog can paint before the desk is open (docs/performance.md, cold start).

ERROR_STYLE = "color: #b91c1c; font-weight: bold;"


def actor_label(actor: Actor) -> str:
    if actor.staff_user_id is None:
        return ""
    from frontdesk.services import staff

    role = staff.ROLE_LABELS.get(actor.role, "") if actor.role else ""
    return f"{actor.name} ({role})" if role else actor.name


class SignInPanel(QWidget):
    """User name, password or PIN, and a message line. Emits ``signed_in`` with the Actor."""

    signed_in = Signal(object)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("user name")
        self.secret = QLineEdit()
        self.secret.setObjectName("secret")
        self.secret.setPlaceholderText("password, or PIN to switch")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        # A little above the service's cap, so a too-long paste still gets the clear message.
        self.secret.setMaxLength(MAX_PASSWORD + 1)
        self.message = QLabel("")
        self.message.setObjectName("signInMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.button = QPushButton("Sign in")
        self.button.setProperty("primary", True)
        # Enter in the fields signs in (returnPressed); a dialog's default button would too.
        self.button.setAutoDefault(False)
        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password or PIN", self.secret)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(form)
        col.addWidget(self.message)
        col.addWidget(self.button)
        # Pressed while the desk is still opening (the dialog painted first): the attempt runs
        # once it is open (``desk_opened``), once however often it was pressed meanwhile.
        self.waiting = False
        self.button.clicked.connect(self.attempt)
        self.username.returnPressed.connect(self._next)
        self.secret.returnPressed.connect(self.attempt)

    def _next(self) -> None:
        if self.secret.text():
            self.attempt()
        else:
            self.secret.setFocus()

    def prepare(self, username: str = "") -> None:
        """Empty the secret; with a user name filled in, the cursor waits in the secret."""
        self.username.setText(username)
        self.secret.clear()
        self.message.clear()
        (self.secret if username else self.username).setFocus()
        if not username:
            self.username.selectAll()

    def attempt(self) -> None:
        if early.early(self.ctx) is not None:
            self.waiting = True
            return
        from frontdesk.services import signin

        def refused(exc: FrontdeskError) -> None:
            self.message.setText(exc.user_message)
            self.secret.clear()
            (self.secret if self.username.text().strip() else self.username).setFocus()

        signed_in = run_op(
            lambda: signin.sign_in(self.ctx, self.username.text(), self.secret.text()), refused
        )
        if not signed_in:
            return
        actor = signed_in.get()
        self.secret.clear()
        self.message.clear()
        self.signed_in.emit(actor)

    def desk_opened(self) -> None:
        """The desk behind an early context is open now: a sign-in asked for meanwhile runs."""
        if self.waiting:
            self.waiting = False
            self.attempt()


def _heading(text: str, sub: str) -> tuple[QLabel, QLabel]:
    title = QLabel(text)
    title.setObjectName("pageTitle")
    muted = QLabel(sub)
    muted.setObjectName("muted")
    muted.setWordWrap(True)
    return title, muted


class SignInDialog(QDialog):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in — frontdesk")
        self.setObjectName("signInDialog")
        self.setMinimumWidth(420)
        title, sub = _heading("Sign in", early.clinic_name(ctx))
        self.panel = SignInPanel(ctx, self)
        self.panel.signed_in.connect(lambda _a: self.accept())
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        col.addWidget(title)
        col.addWidget(sub)
        col.addSpacing(12)
        col.addWidget(self.panel)
        self.panel.prepare()


class FirstRunDialog(QDialog):
    """A new desk with no staff: the owner's account comes first."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Welcome to frontdesk")
        self.setMinimumWidth(480)
        title, sub = _heading(
            "Create the owner's account",
            "This desk has no staff accounts yet. The owner's account can add everyone else "
            "in Settings → Staff.",
        )
        self.display_name = QLineEdit()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.confirm = QLineEdit()
        for field in (self.password, self.confirm):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(MAX_PASSWORD + 1)
        form = QFormLayout()
        form.addRow("Your name", self.display_name)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.confirm)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        create = QPushButton("Create account and sign in")
        create.setProperty("primary", True)
        create.setDefault(True)
        create.clicked.connect(self.create_owner)
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        col.addWidget(title)
        col.addWidget(sub)
        col.addSpacing(12)
        col.addLayout(form)
        col.addWidget(self.message)
        col.addWidget(create, 0, Qt.AlignmentFlag.AlignRight)

    def create_owner(self) -> None:
        if self.password.text() != self.confirm.text():
            self.message.setText("The two passwords are not the same.")
            return

        from frontdesk.services import signin, staff

        def create() -> None:
            staff.create_first_owner(
                self.ctx, self.username.text(), self.display_name.text(), self.password.text()
            )
            signin.sign_in(self.ctx, self.username.text(), self.password.text())

        if run_op(create, in_label(self.message)):
            self.accept()


def sign_in_at_start(ctx: ServiceContext, parent: QWidget | None = None) -> bool:
    """Before the main window shows. False when the person closed the dialog instead."""
    from frontdesk.services import staff

    dialog: QDialog = (
        SignInDialog(ctx, parent) if staff.has_staff(ctx) else FirstRunDialog(ctx, parent)
    )
    return dialog.exec() == QDialog.DialogCode.Accepted


class EarlySignIn:
    """The sign-in dialog painted before the desk is open (its context an ``EarlyContext``
    read with plain ``sqlite3``: a clinic that has staff, at the migrations' head), and the
    start's wait for it once the desk has opened (``finish``)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.dialog = SignInDialog(ctx)
        self.closed: list[int] = []  # the dialog's result, once it has closed
        self.dialog.finished.connect(self.closed.append)

    def finish(self, opened: ServiceContext) -> bool:
        """Hand the desk over, run the sign-in pressed meanwhile (if any), then wait for the
        person as ``sign_in_at_start`` does. False when they closed the dialog instead."""
        stand_in = early.early(self.ctx)
        if stand_in is not None:
            stand_in.attach(opened)
        self.dialog.panel.ctx = opened
        if not self.closed:
            self.dialog.panel.desk_opened()
        code = self.closed[0] if self.closed else self.dialog.exec()
        return code == QDialog.DialogCode.Accepted
