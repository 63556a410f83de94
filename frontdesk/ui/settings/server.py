"""Settings → Clinic server: enrol this desk with the server's address and a one-time code, see
where sync stands, and sync now."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import SyncState
from frontdesk.services.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.workers import run_in_background


class ServerSettingsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.state_label = QLabel("")
        self.state_label.setObjectName("serverState")
        self.state_label.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setPlaceholderText("for example 192.168.1.20:8765")
        self.code = QLineEdit()
        self.code.setPlaceholderText("one-time code from the server, e.g. 1A2B3C-4D5E6F-7A8B9C")
        self.desk_name = QLineEdit()
        self.desk_name.setPlaceholderText("Front desk")
        form = QFormLayout()
        form.addRow("Server address", self.address)
        form.addRow("Enrolment code", self.code)
        form.addRow("This desk's name", self.desk_name)
        self.enrol_button = QPushButton("Enrol this desk")
        self.enrol_button.setProperty("primary", True)
        self.enrol_button.clicked.connect(self.on_enrol)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.on_sync_now)
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.enrol_button)
        buttons.addWidget(self.sync_button)
        buttons.addStretch(1)
        intro = QLabel(
            "Desks share one diary through the clinic server. Each desk keeps working when the "
            "server cannot be reached and catches up when it can. Ask the person who runs the "
            'server for an enrolment code (frontdesk-server enrol --name "Front desk").'
        )
        intro.setWordWrap(True)
        col = QVBoxLayout(self)
        col.addWidget(intro)
        col.addWidget(self.state_label)
        col.addLayout(form)
        col.addLayout(buttons)
        col.addWidget(self.message)
        col.addStretch(1)
        self.load()

    def load(self) -> None:
        with self.ctx.read() as session:
            state = session.get(SyncState, 1)
        if state is None or not state.server_url:
            self.state_label.setText("This desk is not enrolled: it works on its own.")
            self.sync_button.setEnabled(False)
            return
        last = (
            state.last_sync_at.astimezone(self.ctx.tz).strftime("%d %b %H:%M")
            if state.last_sync_at
            else "never"
        )
        name = state.device_name or "desk"
        text = f"Enrolled with {state.server_url} as “{name}”. Last sync: {last}."
        if state.last_error:
            text += f"\nLast problem: {state.last_error}"
        self.state_label.setText(text)
        self.address.setText(state.server_url)
        self.sync_button.setEnabled(True)

    def on_enrol(self) -> None:
        from frontdesk.sync.setup import enrol

        address, code, name = self.address.text(), self.code.text(), self.desk_name.text()
        self.enrol_button.setEnabled(False)
        self.message.setText("Contacting the clinic server…")
        run_in_background(
            lambda: enrol(self.ctx, address, code, device_name=name or "Front desk"),
            self._enrolled,
            self._failed,
        )

    def _enrolled(self, prefix: object) -> None:
        self.enrol_button.setEnabled(True)
        self.code.clear()
        self.message.setText(
            f"Enrolled. This desk numbers invoices {prefix}-000001 onwards. "
            "The first sync copies the clinic from the server."
        )
        self.load()
        self.on_sync_now()

    def _failed(self, exc: BaseException) -> None:
        self.enrol_button.setEnabled(True)
        text = exc.user_message if isinstance(exc, FrontdeskError) else "Something went wrong."
        self.message.setText(text)

    def on_sync_now(self) -> None:
        from frontdesk.ui.sync_worker import worker_for

        worker = worker_for(self.ctx)
        if worker is not None:
            worker.sync_now()
            worker.synced.connect(lambda _s: self.load())


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ServerSettingsPage(ctx, bus, parent)
