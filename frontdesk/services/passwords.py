"""Password and PIN rules and argon2id hashing (argon2-cffi).

Parameters follow OWASP's argon2id guidance (12 MiB, 3 passes, 1 lane): about 60 ms per hash on
a modest clinic PC. Limits are checked *before* hashing, so a 10,000-character paste gets a clear
message at once instead of keeping the desk busy.
"""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from frontdesk.domain.errors import ValidationFailed

MIN_PASSWORD = 8
MAX_PASSWORD = 128
PIN_LENGTHS = range(4, 7)

_HASHER = PasswordHasher(time_cost=3, memory_cost=12_288, parallelism=1)
# Verified when a user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("frontdesk: no such account")


def check_password_rules(password: str, *, field: str = "password") -> None:
    if not password:
        raise ValidationFailed("Type a password.", field=field)
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(
            f"A password can be at most {MAX_PASSWORD} characters long.", field=field
        )
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"A password needs at least {MIN_PASSWORD} characters.", field=field)
    if password.strip() != password:
        raise ValidationFailed("A password cannot start or end with a space.", field=field)


def check_pin_rules(pin: str) -> None:
    if not is_pin_shaped(pin):
        raise ValidationFailed(
            f"A PIN is {PIN_LENGTHS.start} to {PIN_LENGTHS.stop - 1} digits.", field="pin"
        )


def is_pin_shaped(secret: str) -> bool:
    """PINs are 4–6 digits and passwords at least 8 characters, so the two never overlap."""
    return len(secret) in PIN_LENGTHS and secret.isascii() and secret.isdigit()


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when ``secret`` matches; a missing or damaged hash never matches."""
    if not stored_hash:
        spend_equal_time(secret)
        return False
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def spend_equal_time(secret: str) -> None:
    """Do the work of one verification and throw it away (unknown user name, no PIN set)."""
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _HASHER.verify(_DUMMY_HASH, secret)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
