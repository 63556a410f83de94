"""Signatures that let the clinic server and every desk check who made a change, without taking
a desk's word for it (docs/threat-model.md).

Ed25519 throughout (the ``cryptography`` package):
- each staff member's signing key, whose private half travels wrapped (AES-GCM under a key
  derived with scrypt from the staff member's password), so only someone who knows the
  password can sign for them, on any desk;
- the clinic server's own key, which countersigns each desk's audit-chain head.

Pure functions over bytes and JSON values: no database, no Qt.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SigningKey = Ed25519PrivateKey  # a staff member's or the server's private key

# scrypt cost: about 30 ms on the build machine, paid once per password sign-in.
_SCRYPT_N = 2**14
_SCRYPT_R = 8


class BadPassword(ValueError):
    """The password does not unwrap this signing key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical(data: Any) -> bytes:
    """The one byte form that is signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def private_hex(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return raw.hex()


def private_from_hex(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))


def _kek(password: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=1)
    return kdf.derive(password.encode("utf-8"))


def wrap(key: Ed25519PrivateKey, password: str) -> str:
    """The private key encrypted under the password (JSON text: salt, nonce, ciphertext)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = AESGCM(_kek(password, salt)).encrypt(nonce, raw, b"frontdesk staff key")
    return json.dumps({"v": 1, "salt": _b64(salt), "nonce": _b64(nonce), "key": _b64(sealed)})


def unwrap(wrapped: str, password: str) -> Ed25519PrivateKey:
    try:
        data = json.loads(wrapped)
        salt, nonce, sealed = _unb64(data["salt"]), _unb64(data["nonce"]), _unb64(data["key"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadPassword("the stored signing key is unreadable") from exc
    try:
        raw = AESGCM(_kek(password, salt)).decrypt(nonce, sealed, b"frontdesk staff key")
    except InvalidTag as exc:
        raise BadPassword("the password does not open this signing key") from exc
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign(key: Ed25519PrivateKey, data: Any) -> str:
    return key.sign(canonical(data)).hex()


def verify(public: str | None, data: Any, signature: str | None) -> bool:
    """True when ``signature`` (hex) is ``public``'s signature of ``data``'s canonical form."""
    if not public or not signature:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(signature), canonical(data)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def change_statement(
    entity: str, row_id: str, fields: dict[str, Any], base_version: int, mutation_id: str
) -> dict[str, Any]:
    """What a staff member signs for a privileged change: the record, its new values, the
    version it was based on and the change's own id (so it cannot be replayed as another)."""
    return {
        "entity": entity,
        "row_id": row_id,
        "fields": fields,
        "base_version": base_version,
        "mutation_id": mutation_id,
    }


def authority_statement(
    action: str, device_id: str, details: dict[str, Any], at: str, nonce: str
) -> dict[str, Any]:
    """What a staff member signs to ask the clinic server for an act a desk's token alone may
    not do (create or revoke an integration API key): the act and its details, the desk it is
    asked from, when, and a one-time nonce (so a captured request cannot be replayed)."""
    return {
        "action": action,
        "device_id": device_id,
        "details": details,
        "at": at,
        "nonce": nonce,
    }


def head_statement(chain: str, seq: int, digest: str) -> dict[str, Any]:
    """What the clinic server countersigns: the newest entry it holds of one audit chain."""
    return {"chain": chain, "seq": seq, "hash": digest}
