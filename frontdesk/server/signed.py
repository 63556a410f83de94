"""Privileged changes need proof: a change to staff accounts or clinic settings is applied only
with a signature, by a staff member holding that right, over the change itself
(``domain.signing.change_statement``), checked against the staff member's public key and role
as the server holds them. A desk's word is not enough (docs/threat-model.md).

Trust on first use: while the server holds no account with a signing key (a new clinic, or one
from before keys), privileged changes are taken unsigned; the first owner's key arrives so.
An account from before keys may be given its first key once, signed by that key itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from frontdesk.domain import signing
from frontdesk.domain.vocab import Role
from frontdesk.server.changelog import TABLES, current_row, flush_rows
from frontdesk.server.store import ServerProblem
from frontdesk.services.permissions import Action, allowed
from frontdesk.store import privilege

STAFF = "staff_users"


def _refuse(message: str) -> ServerProblem:
    return ServerProblem(403, message + " It was refused and recorded.", code="unsigned")


def _claimed(conn: Connection) -> bool:
    """True once any staff account on the server has a signing key."""
    flush_rows(conn, STAFF)
    staff = TABLES[STAFF]
    found = conn.execute(
        select(staff.c.id).where(staff.c.signing_public_key.is_not(None)).limit(1)
    ).first()
    return found is not None


def check(conn: Connection, m: Any, row: dict[str, Any] | None) -> None:
    """Refuse a privileged change without a good signature by someone allowed to make it."""
    if not privilege.needs_proof(m.entity, m.op, m.raw_fields) or not _claimed(conn):
        return
    proof = m.proof or {}
    by, sig = str(proof.get("by") or ""), str(proof.get("sig") or "")
    if not by or not sig:
        raise _refuse(
            "Changes to staff accounts and clinic settings must be signed by a staff member "
            "allowed to make them (signed in with their password); this one was not signed."
        )
    changed = privilege.signed_fields(m.fields)
    own = m.entity == STAFF and by == m.row_id
    signer = current_row(conn, STAFF, by)
    if signer is None or signer["deleted_at"] is not None or signer["archived_at"] is not None:
        raise _refuse("This change is signed by someone who has no active staff account.")
    public = signer["signing_public_key"]
    if public is None and own and changed <= privilege.SELF_SERVICE:
        public = m.fields.get("signing_public_key")  # an account's first key, signed by it
    statement = signing.change_statement(
        m.entity, m.row_id, m.raw_fields, m.base_version, m.mutation_id
    )
    if not signing.verify(public, statement, sig):
        raise _refuse("The signature on this change does not check out.")
    if own and changed <= privilege.SELF_SERVICE:
        return  # one's own password, PIN and key
    role = Role(signer["role"])
    needed = [Action.MANAGE_SETTINGS] if m.entity == "clinic_settings" else [Action.MANAGE_STAFF]
    if m.entity == STAFF and Role.OWNER in {(row or {}).get("role"), m.fields.get("role")}:
        needed.append(Action.MANAGE_OWNERS)
    for action in needed:
        if not allowed(role, action):
            raise _refuse(f"{signer['display_name']} may not {action.value}.")
