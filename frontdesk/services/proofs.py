"""Who may make a privileged change, judged from a signed change and the accounts as they
stand: one rule for the clinic server (``server/signed.py``, before applying a push) and for
every desk (``sync/apply.py``, before applying a pulled change). See docs/threat-model.md."""

from __future__ import annotations

from typing import Any

from frontdesk.domain import signing
from frontdesk.domain.vocab import Role
from frontdesk.services.permissions import Action, allowed
from frontdesk.store import privilege

STAFF = "staff_users"


def problem_with(
    *,
    entity: str,
    row_id: str,
    fields: dict[str, Any],
    signed: dict[str, Any],
    base_version: int,
    mutation_id: str,
    proof: dict[str, Any] | None,
    signer: dict[str, Any] | None,
    target: dict[str, Any] | None,
) -> str | None:
    """Why this change may not be applied, or None when its proof holds. ``fields`` are the
    change's values (decoded), ``signed`` the fields exactly as signed; ``signer`` and
    ``target`` the signer's and the changed account's rows (None when unknown)."""
    proof = proof or {}
    by, sig = str(proof.get("by") or ""), str(proof.get("sig") or "")
    if not by or not sig:
        return (
            "Changes to staff accounts and clinic settings must be signed by a staff member "
            "allowed to make them (signed in with their password); this one was not signed."
        )
    changed = privilege.signed_fields(fields)
    own = entity == STAFF and by == row_id
    if signer is None or signer.get("deleted_at") is not None or signer.get("archived_at"):
        return "This change is signed by someone who has no active staff account."
    public = signer.get("signing_public_key")
    if public is None and own and changed <= privilege.SELF_SERVICE:
        public = fields.get("signing_public_key")  # an account's first key, signed by it
    statement = signing.change_statement(entity, row_id, signed, base_version, mutation_id)
    if not signing.verify(public, statement, sig):
        return "The signature on this change does not check out."
    if own and changed <= privilege.SELF_SERVICE:
        return None  # one's own password, PIN and key
    role = Role(signer["role"])
    needed = [Action.MANAGE_SETTINGS] if entity == "clinic_settings" else [Action.MANAGE_STAFF]
    if entity == STAFF and Role.OWNER in {(target or {}).get("role"), fields.get("role")}:
        needed.append(Action.MANAGE_OWNERS)
    for action in needed:
        if not allowed(role, action):
            return f"{signer.get('display_name', 'The signer')} may not {action.value}."
    return None
