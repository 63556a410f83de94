"""Settings → Integrations (owners and practice managers): the clinic server's integration API
keys — name, what each may do, expiry, last use — a new key (its secret shown once, with a
Copy button), revoking one, and the API's call log. Everything is read from and done on the
clinic server (``sync/integrations.py``); creating and revoking carry the signed-in person's
signature, so the desk's own token is not enough."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.services.permissions import Action, allowed
from frontdesk.store.context import ServiceContext
from frontdesk.sync import integrations as svc
from frontdesk.sync.engine import SyncEngine
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.settings.setup_common import FieldForm
from frontdesk.ui.workers import run_in_background

EngineFactory = Callable[[ServiceContext], SyncEngine]


def _default_engine(ctx: ServiceContext) -> SyncEngine:
    from frontdesk.sync.setup import engine_for

    return engine_for(ctx)


def _engine(factory: EngineFactory, ctx: ServiceContext) -> SyncEngine:
    try:
        return factory(ctx)
    except FrontdeskError:
        raise
    except Exception as exc:  # not enrolled, no token: said plainly
        raise ValidationFailed(str(exc)) from None


def _table(name: str, headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return t


def _local(ctx: ServiceContext, when: datetime | None, never: str = "") -> str:
    if when is None:
        return never
    local = when.astimezone(ctx.tz)
    return f"{local.day} {local:%b %Y %H:%M}"


def parse_expiry(ctx: ServiceContext, text: str) -> datetime | None:
    """A typed date (31/12/2027 or 2027-12-31): the key stops working at the end of it."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return datetime(day.year, day.month, day.day, 23, 59, tzinfo=ctx.tz)
    raise ValidationFailed(f"Type the expiry as a date, e.g. 31/12/2027 (not “{text}”), or "
                           "leave it empty.", field="expires")  # fmt: skip


class NewKeyDialog(QDialog):
    """Name, what the key may do, an optional expiry; then the secret, shown once."""

    def __init__(self, ctx: ServiceContext, engine: EngineFactory, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.engine = ctx, engine
        self.setWindowTitle("New API key")
        self.setMinimumWidth(620)
        self.created: svc.KeyInfo | None = None
        self.name = QLineEdit()
        self.name.setObjectName("key_name")
        self.name.setPlaceholderText("who or what uses it, e.g. Phone receptionist")
        self.scopes: dict[str, QCheckBox] = {}
        ticks = QVBoxLayout()
        for scope, label in svc.SCOPES.items():
            box = QCheckBox(f"{label} ({scope})")
            box.setObjectName(f"scope_{scope}")
            self.scopes[scope] = box
            ticks.addWidget(box)
        self.expires = QLineEdit()
        self.expires.setObjectName("key_expires")
        self.expires.setPlaceholderText("optional, e.g. 30/06/2027")
        self.form = FieldForm()
        self.form.field("Name", self.name, "name")
        self.form.field("It may", ticks, "scopes")
        self.form.field("Stops working after", self.expires, "expires")
        self.form.finish()
        self.token = QLineEdit()
        self.token.setObjectName("new_key_token")
        self.token.setReadOnly(True)
        self.copy = QPushButton("Copy")
        self.copy.setMinimumWidth(self.copy.fontMetrics().horizontalAdvance("Copied") + 40)
        self.copy.clicked.connect(self._copy)
        self.shown_once = QLabel(
            "This is the only time the key is shown: copy it now into the integration's "
            "settings. The clinic keeps only a fingerprint of it."
        )
        self.shown_once.setWordWrap(True)
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.token, 1)
        secret_row.addWidget(self.copy)
        self.secret = QWidget()
        secret_col = QVBoxLayout(self.secret)
        secret_col.setContentsMargins(0, 0, 0, 0)
        secret_col.addWidget(self.shown_once)
        secret_col.addLayout(secret_row)
        self.secret.hide()
        self.buttons = QDialogButtonBox()
        self.create_button = self.buttons.addButton(
            "Create key", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setProperty("primary", True)
        self.create_button.clicked.connect(self.make_key)
        cancel = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        cancel.clicked.connect(self.reject)
        self.done_button = self.buttons.addButton("Done", QDialogButtonBox.ButtonRole.AcceptRole)
        self.done_button.clicked.connect(self.accept)
        self.done_button.hide()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(self.secret)
        col.addWidget(self.buttons)

    def make_key(self) -> None:
        def call() -> tuple[svc.KeyInfo, str]:
            expires = parse_expiry(self.ctx, self.expires.text())
            chosen = [s for s, box in self.scopes.items() if box.isChecked()]
            engine = _engine(self.engine, self.ctx)
            return svc.create_key(engine, self.name.text(), chosen, expires_at=expires)

        self.form.clear_errors()
        done = run_op(call, self.form.show_error)
        if not done:
            return
        self.created, token = done.get()
        self.token.setText(token)
        for w in (self.name, self.expires, *self.scopes.values()):
            w.setEnabled(False)
        self.secret.show()
        self.create_button.hide()
        self.done_button.show()
        self.buttons.buttons()[1].hide()  # Cancel: the key exists now

    def _copy(self) -> None:
        QApplication.clipboard().setText(self.token.text())
        self.copy.setText("Copied")


class IntegrationsPage(QWidget):
    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        parent: QWidget | None = None,
        *,
        engine_factory: EngineFactory = _default_engine,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.engine = ctx, engine_factory
        self.keys: list[svc.KeyInfo] = []
        col = QVBoxLayout(self)
        self.message = QLabel("")
        self.message.setObjectName("integrationsMessage")
        self.message.setWordWrap(True)
        role = ctx.actor.role
        if role is None or not allowed(role, Action.MANAGE_SETTINGS):
            self.message.setText("Only an owner or a practice manager can see and manage the "
                                 "clinic's integrations.")  # fmt: skip
            col.addWidget(self.message)
            col.addStretch(1)
            self.allowed = False
            return
        self.allowed = True
        intro = QLabel(
            "Phone assistants, online booking pages and the clinic's other tools book through "
            "the clinic server with an API key. Give each its own key with only what it needs."
        )
        intro.setWordWrap(True)
        self.key_table = _table("api_keys", ("Name", "May", "Expires", "Last used", "State"))
        self.new_button = QPushButton("New key…")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_key)
        self.revoke_button = QPushButton("Revoke")
        self.revoke_button.clicked.connect(self.revoke)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.revoke_button, self.refresh_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.log_table = _table("api_calls", ("When", "Key", "Call", "Answer", "Patient id"))
        heading = QLabel("Keys")
        heading.setObjectName("sectionTitle")
        log_heading = QLabel("Calls (newest first)")
        log_heading.setObjectName("sectionTitle")
        for w in (intro, heading, self.key_table):
            col.addWidget(w)
        col.addLayout(buttons)
        col.addWidget(log_heading)
        col.addWidget(self.log_table, 1)
        col.addWidget(self.message)
        self.loaded = 0  # how many loads have finished (tests wait for it)
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        def load() -> tuple[list[svc.KeyInfo], list[svc.Call]]:
            engine = _engine(self.engine, self.ctx)
            return svc.list_keys(engine), svc.call_log(engine)

        def failed(exc: BaseException) -> None:
            self.loaded += 1
            text = exc.user_message if isinstance(exc, FrontdeskError) else str(exc)
            self.message.setText(f"Could not reach the clinic server: {text}")

        run_in_background(load, self._show, failed)

    def _show(self, loaded: tuple[list[svc.KeyInfo], list[svc.Call]]) -> None:
        self.keys, calls = loaded
        now = self.ctx.clock.now()
        self.key_table.setRowCount(len(self.keys))
        for i, k in enumerate(self.keys):
            if k.revoked_at is not None:
                state = "Revoked"
            elif k.expires_at is not None and k.expires_at <= now:
                state = "Expired"
            else:
                state = "Active"
            cells = (k.name, ", ".join(k.scopes), _local(self.ctx, k.expires_at, "never"),
                     _local(self.ctx, k.last_used_at, "not yet"), state)  # fmt: skip
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.key_table.setItem(i, j, item)
        self.log_table.setRowCount(len(calls))
        for i, c in enumerate(calls):
            cells = (_local(self.ctx, c.at), c.key, c.operation, str(c.status),
                     c.patient_id or "")  # fmt: skip
            for j, text in enumerate(cells):
                self.log_table.setItem(i, j, QTableWidgetItem(text))
        self.message.setText("")
        self.loaded += 1

    # -- acts -----------------------------------------------------------------------------------
    def new_key(self) -> None:
        dialog = NewKeyDialog(self.ctx, self.engine, self)
        dialog.exec()
        if dialog.created is not None:
            self.reload()

    def selected(self) -> svc.KeyInfo | None:
        row = self.key_table.currentRow()
        return self.keys[row] if 0 <= row < len(self.keys) else None

    def revoke(self) -> None:
        key = self.selected()
        if key is None:
            self.message.setText("Choose the key to revoke in the list first.")
            return
        sure = QMessageBox.question(
            self, "Revoke key",
            f"Revoke “{key.name}”? It stops working at once; the integration using it will "
            "need a new key.",
        )  # fmt: skip
        if sure != QMessageBox.StandardButton.Yes:
            return

        def call() -> None:
            svc.revoke_key(_engine(self.engine, self.ctx), key.id)

        if run_op(call, in_box(self, "Not revoked")):
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return IntegrationsPage(ctx, bus, parent)
