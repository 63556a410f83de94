"""TLS between desks and a real clinic server process on loopback: the self-signed certificate
``frontdesk-server cert`` makes, a desk pinning it after its fingerprint is confirmed, a wrong
fingerprint refused with nothing stored, a changed certificate stopping sync with a clear
message, a certificate the system's authorities vouch for, and ``frontdesk enrol``."""

from __future__ import annotations

import ipaddress
import json
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import PermissionDenied, RuleViolation
from frontdesk.domain.vocab import Role, SeriesKind
from frontdesk.models import Patient, SyncState
from frontdesk.paths import DeskPaths
from frontdesk.server.tls import make_certificate
from frontdesk.services.desk import open_desk
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.store.numbering import next_number
from frontdesk.sync.pinning import (
    CertificateProblem,
    confirm,
    fingerprint,
    inspect_server,
    normalise_fingerprint,
)
from frontdesk.sync.setup import engine_for, enrol, pin_certificate
from tests.sync.clinic import START
from tests.sync.fakes import MemoryKeyring
from tests.sync.test_sync_kill import ROOT
from tests.sync.tls_world import TlsServer, make_authority, printed_fingerprint

pytestmark = [pytest.mark.slow, pytest.mark.dates]  # dates: certificates are valid from now


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TlsServer]:
    s = TlsServer(tmp_path)
    s.cli("init")
    s.cli("cert", "--host", "10.1.2.3", "--host", "backoffice.clinic.lan")
    s.start()
    yield s
    s.stop()


def _desk(tmp: Path, name: str = "a") -> ServiceContext:
    return open_desk(DeskPaths(tmp / name), clock=FakeClock(START))


def _state(ctx: ServiceContext) -> SyncState:
    with ctx.read() as s:
        state = s.get(SyncState, 1)
        assert state is not None
        return state


def _other(fp: str) -> str:
    """The same fingerprint with its last pair changed: one a person could misread."""
    return fp[:-2] + ("00" if fp[-2:] != "00" else "11")


def _add_patient(ctx: ServiceContext, first: str) -> None:
    with ctx.write("add patient") as s:
        _sid, number = next_number(s, SeriesKind.PATIENT)
        s.add(Patient(patient_number=number, first_name=first, last_name="Tls"))


def test_cert_command_makes_a_self_signed_certificate_for_the_lan(tmp_path: Path) -> None:
    server = TlsServer(tmp_path)
    out = server.cli("cert", "--host", "192.168.1.20", "--host", "backoffice.local")
    cert_file, key_file = server.folder / "server-cert.pem", server.folder / "server-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = cert_file.read_text()
    assert f"Fingerprint: SHA256 {fingerprint(pem)}" in out
    names = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    ips = names.value.get_values_for_type(x509.IPAddress)
    dns = names.value.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("192.168.1.20") in ips
    assert ipaddress.ip_address("127.0.0.1") in ips
    assert {"backoffice.local", "localhost", socket.gethostname()} <= set(dns)
    # A second run keeps the certificate every desk trusts unless told to replace it.
    again = server.run_cli("cert")
    assert again.returncode == 2 and "--replace" in again.stderr
    assert cert_file.read_text() == pem
    assert "Fingerprint" in server.cli("cert", "--replace")
    assert cert_file.read_text() != pem


def test_fingerprints_are_accepted_as_people_type_them() -> None:
    fp = ":".join(["AD", "0E", "55", "2C", "11", "88", "35", "71"] * 4)
    assert normalise_fingerprint(f"SHA256 {fp.lower()}") == fp
    assert normalise_fingerprint(fp.replace(":", "")) == fp
    assert normalise_fingerprint(f"sha256: {fp.replace(':', ' ')}") == fp
    with pytest.raises(RuleViolation, match="SHA-256 fingerprint"):
        normalise_fingerprint("AD:0E:55")


def test_desk_pins_the_confirmed_certificate_and_syncs(
    tmp_path: Path, server: TlsServer, memory_keyring: MemoryKeyring
) -> None:
    pem = (server.folder / "server-cert.pem").read_text()
    assert printed_fingerprint(server.printed) == fingerprint(pem)  # printed at start
    found = inspect_server(server.url)
    assert not found.trusted_by_system
    assert found.fingerprint == fingerprint(pem)
    ctx = _desk(tmp_path)
    pinned = confirm(found, printed_fingerprint(server.printed))
    enrol(ctx, server.url, server.enrolment_code(), device_name="Front desk", certificate=pinned)
    assert _state(ctx).server_certificate == pem
    assert memory_keyring.store  # the token, in the keychain only
    _add_patient(ctx, "Ana")
    summary = engine_for(ctx).sync()
    assert summary.pushed >= 1 and summary.pending == 0
    # A second desk pulls the patient over the same pinned connection.
    other = _desk(tmp_path, "b")
    enrol(other, server.url, server.enrolment_code("Back office"), certificate=pinned)
    engine_for(other).sync()
    with other.read() as s:
        assert s.query(Patient).filter_by(first_name="Ana").count() == 1


def test_wrong_fingerprint_is_refused_and_nothing_is_stored(
    tmp_path: Path, server: TlsServer, memory_keyring: MemoryKeyring
) -> None:
    ctx = _desk(tmp_path)
    found = inspect_server(server.url)
    wrong = _other(fingerprint((server.folder / "server-cert.pem").read_text()))
    with pytest.raises(CertificateProblem, match="does not match the fingerprint you gave"):
        confirm(found, wrong)
    # Without a confirmed certificate an https server this computer does not trust is refused
    # by the connection itself: the code is not even sent.
    code = server.enrolment_code()
    with pytest.raises(CertificateProblem, match="does not trust"):
        enrol(ctx, server.url, code)
    assert not memory_keyring.store
    state = _state(ctx)
    assert state.server_url is None and state.server_certificate is None
    # The code was never used, so the right confirmation still works with it.
    enrol(ctx, server.url, code, certificate=confirm(found, found.fingerprint))


def test_a_new_server_certificate_stops_a_pinned_desk_until_confirmed(
    tmp_path: Path, server: TlsServer
) -> None:
    ctx = _desk(tmp_path)
    found = inspect_server(server.url)
    enrol(ctx, server.url, server.enrolment_code(), certificate=found.pem)
    engine_for(ctx).sync()
    server.stop()
    server.cli("cert", "--replace")
    server.start()
    new_fp = printed_fingerprint(server.printed)
    assert new_fp != found.fingerprint
    _add_patient(ctx, "Ben")
    with pytest.raises(CertificateProblem) as refused:
        engine_for(ctx).sync()
    message = refused.value.user_message
    assert "certificate has changed" in message
    assert new_fp in message and found.fingerprint in message
    assert "Settings → Clinic server" in message
    state = _state(ctx)
    assert state.last_error == message  # shown in Settings → Clinic server
    assert state.server_certificate == found.pem  # never silently replaced
    with ctx.read() as s:
        assert s.query(Patient).filter_by(first_name="Ben").count() == 1  # still on the desk
    # Reception may not decide which server to trust; a practice manager confirms the new
    # fingerprint (Settings → Clinic server) and sync resumes.
    new_pem = confirm(inspect_server(server.url), new_fp)
    ctx.actor = Actor("u1", "Rita", Role.RECEPTION)
    with pytest.raises(PermissionDenied):
        pin_certificate(ctx, new_pem)
    assert _state(ctx).server_certificate == found.pem
    ctx.actor = Actor("u2", "Mel", Role.PRACTICE_MANAGER)
    pin_certificate(ctx, new_pem)
    assert engine_for(ctx).sync().pending == 0


def test_a_certificate_the_system_trusts_needs_no_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = make_authority(tmp_path / "authority")
    server = TlsServer(tmp_path)
    server.cli("init")
    server.start("--cert", str(cert), "--key", str(key))
    try:
        assert printed_fingerprint(server.printed) == fingerprint(cert.read_text())
        assert not inspect_server(server.url).trusted_by_system
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # as if the clinic's CA were installed
        assert inspect_server(server.url).trusted_by_system
        ctx = _desk(tmp_path)
        enrol(ctx, server.url, server.enrolment_code())
        assert _state(ctx).server_certificate is None
        assert engine_for(ctx).sync().pending == 0
        # A pin is the only certificate accepted, even one the system's authorities vouch for:
        # a desk pinned to another certificate refuses this server.
        other = make_certificate(tmp_path / "elsewhere")
        pinned = _desk(tmp_path, "b")
        enrol(pinned, server.url, server.enrolment_code("Back office"))
        pin_certificate(pinned, other.cert.read_text())
        with pytest.raises(CertificateProblem, match="certificate has changed"):
            engine_for(pinned).sync()
        # Pinning the CA-issued certificate itself works without the authority.
        monkeypatch.delenv("SSL_CERT_FILE")
        pin_certificate(pinned, confirm(inspect_server(server.url), fingerprint(cert.read_text())))
        assert engine_for(pinned).sync().pending == 0
    finally:
        server.stop()


def _frontdesk(tmp: Path, server: TlsServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(tmp / "cli-desk"), *args],
        env=server.env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def _keyring_entries(tmp: Path) -> dict[str, str]:
    path = tmp / "keyring.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_cli_enrol_over_https_with_the_fingerprint(tmp_path: Path, server: TlsServer) -> None:
    fp = printed_fingerprint(server.printed)
    code = server.enrolment_code()
    wrong = _frontdesk(tmp_path, server, "enrol", "--server", server.url, "--code", code,
                       "--fingerprint", _other(fp))  # fmt: skip
    assert wrong.returncode == 2
    assert "does not match the fingerprint you gave" in wrong.stderr
    assert "nothing was saved" in wrong.stderr
    assert not _keyring_entries(tmp_path)
    unconfirmed = _frontdesk(tmp_path, server, "enrol", "--server", server.url, "--code", code)
    assert unconfirmed.returncode == 2
    assert fp in unconfirmed.stderr and "--fingerprint" in unconfirmed.stderr
    assert not _keyring_entries(tmp_path)
    ok = _frontdesk(tmp_path, server, "enrol", "--server", server.url, "--code", code,
                    "--fingerprint", f"sha256 {fp.lower()}", "--name", "Front desk")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "trusts only the clinic server certificate you confirmed" in ok.stdout
    assert "Synced:" in ok.stdout
    assert len(_keyring_entries(tmp_path)) == 1
    again = _frontdesk(tmp_path, server, "sync")
    assert again.returncode == 0, again.stderr


def test_cli_enrol_asks_on_a_terminal(tmp_path: Path, server: TlsServer) -> None:
    import os
    import pty

    fp = printed_fingerprint(server.printed)
    for answer, expected_rc in ((b"no\n", 2), (b"yes\n", 0)):
        controller, terminal = pty.openpty()
        try:
            os.write(controller, answer)
            proc = subprocess.run(
                [sys.executable, "-m", "frontdesk.app", "--data-dir", str(tmp_path / "tty-desk"),
                 "enrol", "--server", server.url, "--code", server.enrolment_code()],
                env=server.env, stdin=terminal, capture_output=True, text=True, timeout=120,
                check=False, cwd=ROOT,
            )  # fmt: skip
        finally:
            os.close(terminal)
            os.close(controller)
        assert proc.returncode == expected_rc, proc.stderr
        assert fp in proc.stdout
        if expected_rc:
            assert "not confirmed. Nothing was saved" in proc.stderr
            assert not _keyring_entries(tmp_path)
    assert "Synced:" in proc.stdout
    assert len(_keyring_entries(tmp_path)) == 1
