"""Privileged changes need proof: a change to staff accounts or clinic settings is applied only
with a signature, by a staff member holding that right, over the change itself
(``domain.signing.change_statement``), checked against the staff member's public key and role
as the server holds them (``services/proofs.py``). A desk's word is not enough
(docs/threat-model.md). The proof is kept in the change log so every desk checks it too.

Trust on first use: while the server holds no account with a signing key (a new clinic, or one
from before keys), privileged changes are taken unsigned; the first owner's key arrives so.
An account from before keys may be given its first key once, signed by that key itself.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.server.changelog import TABLES, current_row, flush_rows
from frontdesk.server.store import ServerProblem
from frontdesk.services import proofs
from frontdesk.store import privilege

STAFF = proofs.STAFF


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
    by = str((m.proof or {}).get("by") or "")
    problem = proofs.problem_with(
        entity=m.entity,
        row_id=m.row_id,
        fields=m.fields,
        signed=m.raw_fields,
        base_version=m.base_version,
        mutation_id=m.mutation_id,
        proof=m.proof,
        signer=current_row(conn, STAFF, by) if by else None,
        target=row if m.entity == STAFF else None,
    )
    if problem is not None:
        raise ServerProblem(403, problem + " It was refused and recorded.", code="unsigned")


def logged_proof(m: Any) -> str | None:
    """What the change log keeps of an applied privileged change: the proof and what it
    signed, for the desks that pull it."""
    if m.entity not in privilege.PRIVILEGED or not m.proof:
        return None
    return json.dumps(
        {
            "by": m.proof.get("by"),
            "sig": m.proof.get("sig"),
            "fields": m.raw_fields,
            "base_version": m.base_version,
            "mutation_id": m.mutation_id,
        }
    )
