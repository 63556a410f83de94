"""Which changes are privileged, and how a desk proves who made one.

Staff accounts (passwords, PINs, roles, signing keys) and clinic settings change on the clinic
server only with a signature by a staff member who holds that right (``server/signed.py``
checks it). The desk signs in the flush hook (``store/tracking.py``) with the signed-in staff
member's key, which ``services/signin.py`` unwrapped with their password.
See docs/threat-model.md.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from frontdesk.domain import signing
from frontdesk.store.outbox import canonical_json

PRIVILEGED = frozenset({"staff_users", "clinic_settings"})

# Changed without proof: sign-in bookkeeping (written at the sign-in screen, before anyone is
# signed in) and the row stamps.
_UNSIGNED_FIELDS = frozenset(
    {"failed_attempts", "locked_until", "last_sign_in_at", "created_at", "updated_at", "version"}
)
# What a staff member may change on their own account with their own key.
SELF_SERVICE = frozenset({"password_hash", "pin_hash", "signing_public_key", "signing_key_wrapped"})
KEY_FIELDS = frozenset({"signing_public_key", "signing_key_wrapped"})


def needs_proof(entity: str, op: str, fields: dict[str, Any]) -> bool:
    """A new privileged record always; a change to one unless it touches only bookkeeping."""
    if entity not in PRIVILEGED:
        return False
    return op == "insert" or bool(set(fields) - _UNSIGNED_FIELDS - {"id"})


def signed_fields(fields: dict[str, Any]) -> set[str]:
    """The fields a proof speaks for (bookkeeping left out)."""
    return set(fields) - _UNSIGNED_FIELDS - {"id"}


def proof_json(
    signer: tuple[str, Ed25519PrivateKey] | None,
    *,
    entity: str,
    row_id: str,
    op: str,
    fields: dict[str, Any],
    base_version: int,
    mutation_id: str,
) -> str | None:
    """The proof to send with a change (None when none is needed or nobody can sign)."""
    if signer is None or not needs_proof(entity, op, fields):
        return None
    staff_id, key = signer
    statement = signing.change_statement(entity, row_id, fields, base_version, mutation_id)
    return canonical_json({"by": staff_id, "sig": signing.sign(key, statement)})
