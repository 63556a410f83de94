"""The token lives only in the keychain: a clear message without one, entries per data folder,
an explicitly chosen backend honoured, a plaintext fallback refused."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from frontdesk.sync import keychain
from frontdesk.sync.setup import enrol
from tests.sync.clinic import Clinic

# reads the real clock: scripts/clock_matrix.py reruns these at awkward moments
pytestmark = pytest.mark.dates


def test_no_keychain_gives_a_clear_message_and_keeps_the_code(
    clinic: Clinic, tmp_path: Path
) -> None:
    from frontdesk.paths import DeskPaths
    from frontdesk.services.desk import open_desk

    keyring.set_keyring(FailKeyring())
    ctx = open_desk(DeskPaths(tmp_path / "lonely"))
    code = clinic.store.create_enrolment_code("Lonely desk")
    from tests.sync.fakes import ClientTransport

    with pytest.raises(keychain.NoKeychain, match="no keychain"):
        enrol(ctx, "http://testserver", code, transport=ClientTransport(clinic.client))
    assert clinic.store.list_devices() == []  # the code was not used up
    ctx.engine.dispose()


def test_entries_are_per_data_folder(tmp_path: Path) -> None:
    keychain.save_token(tmp_path / "a", "token-a")
    keychain.save_token(tmp_path / "b", "token-b")
    assert keychain.load_token(tmp_path / "a") == "token-a"
    assert keychain.load_token(tmp_path / "b") == "token-b"
    keychain.delete_token(tmp_path / "a")
    assert keychain.load_token(tmp_path / "a") is None


class PlaintextKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a plaintext store must not be used silently")

    def delete_password(self, service: str, username: str) -> None:
        pass


def test_plaintext_backend_is_refused_unless_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(PlaintextKeyring())
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    with pytest.raises(keychain.NoKeychain):
        keychain.save_token(tmp_path, "secret")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.sync.test_sync_keychain.PlaintextKeyring")
    assert keychain.load_token(tmp_path) is None  # explicitly chosen: honoured
