"""Settings → Clinic server with a real https server process: the fingerprint confirmation
when enrolling (cancel stores nothing; confirm pins the certificate), the "not encrypted" note
for http, and confirming a changed certificate without a new enrolment code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.domain.vocab import Role
from frontdesk.models import SyncState
from frontdesk.protocol import fingerprint
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.sync.pinning import CertificateProblem
from frontdesk.sync.setup import engine_for
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.server import ServerSettingsPage
from tests.sync.fakes import MemoryKeyring, install_memory_keyring
from tests.sync.tls_world import TlsServer, printed_fingerprint

pytestmark = pytest.mark.slow


@pytest.fixture
def keyring_store() -> MemoryKeyring:
    return install_memory_keyring()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TlsServer]:
    s = TlsServer(tmp_path)
    s.cli("init")
    s.start("--tls")  # the certificate is made on first use
    yield s
    s.stop()


def _state(ctx: ServiceContext) -> SyncState:
    with ctx.read() as s:
        state = s.get(SyncState, 1)
        assert state is not None
        return state


def _dialog_shown(qtbot, page: ServerSettingsPage):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: page.certificate_dialog is not None, timeout=15000)
    dialog = page.certificate_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_enrol_over_https_asks_to_confirm_the_fingerprint(  # type: ignore[no-untyped-def]
    qtbot, ctx: ServiceContext, bus: ChangeBus, server: TlsServer, keyring_store: MemoryKeyring
) -> None:
    printed = printed_fingerprint(server.printed)
    page = ServerSettingsPage(ctx, bus)
    qtbot.addWidget(page)
    page.address.setText("192.168.1.20:8765")
    assert "Not encrypted" in page.security_label.text()
    page.address.setText(server.url)
    assert "Encrypted (https)" in page.security_label.text()
    page.code.setText(server.enrolment_code())

    # 0. Reception may not choose which server this desk trusts.
    ctx.actor = Actor("u1", "Rita", Role.RECEPTION)
    page.enrol_button.click()
    assert "cannot set up the clinic server" in page.message.text()
    assert page.certificate_dialog is None
    ctx.actor = Actor("u2", "Mel", Role.PRACTICE_MANAGER)

    # 1. The person cancels: nothing is stored.
    page.enrol_button.click()
    dialog = _dialog_shown(qtbot, page)
    assert dialog.fingerprint_label.text().replace("\n", "") == printed
    assert dialog.cancel_button.isDefault()
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: "not confirmed" in page.message.text())
    assert _state(ctx).server_url is None and _state(ctx).server_certificate is None
    assert not keyring_store.store
    assert page.enrol_button.isEnabled()

    # 2. The fingerprints match: the desk enrols and pins the certificate.
    page.enrol_button.click()
    _dialog_shown(qtbot, page).trust_button.click()
    qtbot.waitUntil(lambda: "Enrolled" in page.message.text(), timeout=15000)
    state = _state(ctx)
    assert state.server_url == server.url
    assert state.server_certificate is not None
    assert fingerprint(state.server_certificate) == printed
    assert keyring_store.store
    assert printed in page.security_label.text()
    assert "trusts only" in page.security_label.text()
    assert not page.check_button.isHidden()


def test_a_changed_certificate_is_confirmed_in_settings(  # type: ignore[no-untyped-def]
    qtbot, ctx: ServiceContext, bus: ChangeBus, server: TlsServer, keyring_store: MemoryKeyring
) -> None:
    page = ServerSettingsPage(ctx, bus)
    qtbot.addWidget(page)
    page.address.setText(server.url)
    page.code.setText(server.enrolment_code())
    page.enrol_button.click()
    _dialog_shown(qtbot, page).trust_button.click()
    qtbot.waitUntil(lambda: "Enrolled" in page.message.text(), timeout=15000)
    old = _state(ctx).server_certificate

    server.stop()
    server.cli("cert", "--replace")
    server.start()
    new_fp = printed_fingerprint(server.printed)
    with pytest.raises(CertificateProblem):
        engine_for(ctx).sync()
    page.load()
    assert "certificate has changed" in page.state_label.text()
    assert new_fp in page.state_label.text()

    page.check_button.click()
    dialog = _dialog_shown(qtbot, page)
    assert dialog.fingerprint_label.text().replace("\n", "") == new_fp
    dialog.trust_button.click()
    qtbot.waitUntil(lambda: "new certificate" in page.message.text())
    pinned = _state(ctx).server_certificate
    assert pinned is not None and pinned != old and fingerprint(pinned) == new_fp
    assert engine_for(ctx).sync().pending == 0
