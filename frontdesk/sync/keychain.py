"""The desk's server token, kept only in the operating system's keychain (keyring), one entry
per data folder so several desks can run on one machine. No keychain → a clear message; never
a silent plaintext file. A backend chosen through keyring's own configuration (for example
``PYTHON_KEYRING_BACKEND``) is honoured.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import keyring
import keyring.errors

from frontdesk.domain.errors import EnvironmentProblem

SERVICE = "frontdesk-clinic-server"

NO_KEYCHAIN = (
    "This computer has no keychain available, so the clinic server's access key cannot be "
    "stored safely. Sign in to a desktop session with a keychain (or configure one for "
    "Python's keyring) and try again; nothing was saved."
)


class NoKeychain(EnvironmentProblem):
    """No usable OS keychain."""


def entry_name(data_dir: Path) -> str:
    digest = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:24]
    return f"desk-{digest}"


def _backend_ok() -> None:
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    explicit = bool(os.environ.get("PYTHON_KEYRING_BACKEND"))
    if "plaintext" in name and not explicit:
        raise NoKeychain(NO_KEYCHAIN, detail=name)


def save_token(data_dir: Path, token: str) -> None:
    _backend_ok()
    try:
        keyring.set_password(SERVICE, entry_name(data_dir), token)
    except keyring.errors.KeyringError as exc:
        raise NoKeychain(NO_KEYCHAIN, detail=type(exc).__name__) from exc


def load_token(data_dir: Path) -> str | None:
    _backend_ok()
    try:
        return keyring.get_password(SERVICE, entry_name(data_dir))
    except keyring.errors.KeyringError as exc:
        raise NoKeychain(NO_KEYCHAIN, detail=type(exc).__name__) from exc


def delete_token(data_dir: Path) -> None:
    with contextlib.suppress(keyring.errors.KeyringError):
        keyring.delete_password(SERVICE, entry_name(data_dir))


def check_available() -> None:
    """Raise NoKeychain before asking the server for a token we could not keep."""
    _backend_ok()
    try:
        keyring.get_password(SERVICE, "probe")
    except keyring.errors.KeyringError as exc:
        raise NoKeychain(NO_KEYCHAIN, detail=type(exc).__name__) from exc
