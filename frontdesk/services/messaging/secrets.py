"""Provider secrets (SMTP password, Twilio Auth Token, ClickSend API key) live only in the
keychain of the machine that sends — the clinic server, or the desk without one — through
``keyring``, like the desk's server token (sync/keychain.py). No keychain: a clear message, never
a plaintext file; a backend chosen through keyring's own configuration is honoured."""

from __future__ import annotations

import os

import keyring
import keyring.errors

from frontdesk.domain.errors import EnvironmentProblem

SERVICE = "frontdesk-messaging"
NO_KEYCHAIN = (
    "This computer has no keychain available, so the messaging password cannot be stored "
    "safely. Use a desktop session with a keychain (or configure one for Python's keyring); "
    "nothing was saved."
)


class NoKeychain(EnvironmentProblem):
    """No usable OS keychain."""


def _backend_ok() -> None:
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    if "plaintext" in name and not os.environ.get("PYTHON_KEYRING_BACKEND"):
        raise NoKeychain(NO_KEYCHAIN, detail=name)


def save_secret(which: str, value: str) -> None:
    """``which``: "smtp", "twilio" or "clicksend"."""
    _backend_ok()
    try:
        keyring.set_password(SERVICE, which, value)
    except keyring.errors.KeyringError as exc:
        raise NoKeychain(NO_KEYCHAIN, detail=type(exc).__name__) from exc


def load_secret(which: str) -> str:
    _backend_ok()
    try:
        return keyring.get_password(SERVICE, which) or ""
    except keyring.errors.KeyringError as exc:
        raise NoKeychain(NO_KEYCHAIN, detail=type(exc).__name__) from exc
