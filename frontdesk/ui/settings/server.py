"""Settings → Clinic server: enrol this desk with the server's address and a one-time code, see
where sync stands, and sync now. For an https server whose certificate this computer does not
trust, the person confirms its fingerprint first; the confirmed certificate is then the only
one this desk accepts, and "Check certificate" confirms a new one after a change."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.protocol import fingerprint
from frontdesk.services.permissions import Action, allowed, require
from frontdesk.store.context import ServiceContext
from frontdesk.sync.pinning import ServerCertificate, inspect_server, is_https
from frontdesk.sync.setup import enrol, normalise_address, pin_certificate, server_url
from frontdesk.sync.status import sync_status
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.settings.certificate import CertificateDialog, security_text
from frontdesk.ui.workers import run_in_background


class ServerSettingsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bus = bus
        bus.synced.connect(self._on_synced)
        self.state_label = QLabel("")
        self.state_label.setObjectName("serverState")
        self.state_label.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setPlaceholderText(
            "for example 192.168.1.20:8765 or https://192.168.1.20:8765"
        )
        self.address.textChanged.connect(self._show_security)
        self.security_label = QLabel("")
        self.security_label.setObjectName("serverSecurity")
        self.security_label.setWordWrap(True)
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
        self.check_button = QPushButton("Check certificate…")
        self.check_button.setObjectName("checkCertificate")
        self.check_button.clicked.connect(self.on_check_certificate)
        self.certificate_dialog: CertificateDialog | None = None
        self.pinned_pem: str | None = None
        self.enrolled_url: str | None = None
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.enrol_button)
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.check_button)
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
        col.addWidget(self.security_label)
        col.addLayout(buttons)
        col.addWidget(self.message)
        col.addStretch(1)
        self.load()

    def load(self) -> None:
        state = sync_status(self.ctx)
        self.pinned_pem = state.server_certificate
        self.enrolled_url = state.server_url
        if not state.server_url:
            self.state_label.setText("This desk is not enrolled: it works on its own.")
            self.sync_button.setEnabled(False)
            self.check_button.setVisible(False)
            self._show_security()
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
        self.check_button.setVisible(is_https(state.server_url))
        self._show_security()

    def _show_security(self) -> None:
        typed = run_op(lambda: normalise_address(self.address.text()), lambda _exc: None)
        url = typed.value if typed else None  # half-typed: no address yet
        enrolled = url is not None and url == self.enrolled_url
        self.security_label.setText(security_text(url, self.pinned_pem, enrolled=enrolled))

    # -- enrolling: address and code checked here, the server's certificate in the background
    def on_enrol(self) -> None:
        address, code, name = self.address.text(), self.code.text(), self.desk_name.text()

        def check() -> str:
            require(self.ctx.actor, Action.MANAGE_SYNC)
            url = normalise_address(address)
            if not code.strip():
                raise RuleViolation("Enter the enrolment code from the clinic server.")
            return url

        checked = run_op(check, in_label(self.message))
        if not checked:
            return
        url = checked.get()
        self.enrol_button.setEnabled(False)
        self.message.setText("Contacting the clinic server…")

        def enrol_with(certificate: str | None) -> None:
            self.message.setText("Enrolling this desk…")
            run_in_background(
                lambda: enrol(
                    self.ctx, url, code, device_name=name or "Front desk", certificate=certificate
                ),
                self._enrolled,
                self._failed,
            )

        if not is_https(url):
            enrol_with(None)
            return

        def inspected(found: object) -> None:
            assert isinstance(found, ServerCertificate)
            if found.trusted_by_system:
                enrol_with(None)
                return
            self._ask(found, changed=False, on_yes=lambda: enrol_with(found.pem))

        run_in_background(lambda: inspect_server(url), inspected, self._failed)

    def _ask(self, found: ServerCertificate, *, changed: bool, on_yes: Callable[[], None]) -> None:
        self.message.setText("Compare the fingerprint with the one the server printed…")
        dialog = CertificateDialog(found, changed=changed, parent=self)
        self.certificate_dialog = dialog

        def finished(result: int) -> None:
            self.certificate_dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted.value:
                on_yes()
            else:
                self.enrol_button.setEnabled(True)
                self.message.setText("The certificate was not confirmed. Nothing was saved.")

        dialog.finished.connect(finished)
        dialog.open()

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

    # -- after the server got a new certificate: confirm it without a new enrolment code ---
    def on_check_certificate(self) -> None:
        url = server_url(self.ctx)
        if not url or not is_https(url):
            return
        if not allowed(self.ctx.actor.role, Action.MANAGE_SYNC):
            self.message.setText(
                f"Your account cannot {Action.MANAGE_SYNC.value}. Ask a practice manager or "
                "the owner to confirm the server's certificate."
            )
            return
        self.message.setText("Checking the clinic server's certificate…")

        def inspected(found: object) -> None:
            assert isinstance(found, ServerCertificate)
            if self.pinned_pem and fingerprint(self.pinned_pem) == found.fingerprint:
                self.message.setText(
                    "The server presents the certificate this desk trusts "
                    f"(SHA256 {found.fingerprint})."
                )
                return
            if not self.pinned_pem and found.trusted_by_system:
                self.message.setText("This computer trusts the server's certificate.")
                return

            def trust() -> None:
                pin_certificate(self.ctx, found.pem)
                self.message.setText("This desk now trusts the server's new certificate.")
                self.load()
                self.on_sync_now()

            self._ask(found, changed=True, on_yes=trust)

        run_in_background(lambda: inspect_server(url), inspected, self._failed)

    def _on_synced(self, _summary: object) -> None:
        self.load()

    def on_sync_now(self) -> None:
        self.bus.sync_requested.emit()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ServerSettingsPage(ctx, bus, parent)
