"""Pulled privileged changes are checked on the desk too, before they are applied: a change to
staff accounts or clinic settings must carry a proof (kept by the server in its change log)
that checks out against the signer's key and role as this desk holds them
(``services/proofs.py``), and its values must be the ones signed. Until the desk holds any
account with a signing key (a new clinic), unsigned ones are taken (trust on first use).
A change that fails is left out and logged (no values); see docs/threat-model.md."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from frontdesk.models import Base
from frontdesk.models.codec import to_json_value
from frontdesk.services import proofs
from frontdesk.store import privilege

log = logging.getLogger("frontdesk.sync")
STAFF = proofs.STAFF


class _Accounts:
    """Staff rows as this desk holds them, with the batch's accepted changes laid over."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.table: Table = Base.metadata.tables[STAFF]
        self.over: dict[str, dict[str, Any]] = {}
        self._claimed: bool | None = None

    def row(self, staff_id: str) -> dict[str, Any] | None:
        t = self.table
        found = self.session.execute(select(t).where(t.c.id == staff_id)).mappings().first()
        base = {k: to_json_value(v) for k, v in found.items()} if found is not None else None
        if staff_id in self.over:
            return {**(base or {}), **self.over[staff_id]}
        return base

    def claimed(self) -> bool:
        if self._claimed is None:
            t = self.table
            self._claimed = (
                self.session.execute(
                    select(t.c.id).where(t.c.signing_public_key.is_not(None)).limit(1)
                ).first()
                is not None
            )
        return self._claimed or any(v.get("signing_public_key") for v in self.over.values())

    def accept(self, change: dict[str, Any]) -> None:
        if change["entity"] == STAFF:
            self.over.setdefault(change["row_id"], {}).update(change["fields"])


def _problem(accounts: _Accounts, change: dict[str, Any]) -> str | None:
    entity, row_id, fields = change["entity"], change["row_id"], change["fields"]
    proof = change.get("proof")
    if not privilege.needs_proof(entity, change["op"], fields):
        return None
    if not isinstance(proof, dict):
        return "unsigned" if accounts.claimed() else None
    raw = proof.get("fields")
    signed: dict[str, Any] = raw if isinstance(raw, dict) else {}
    target = accounts.row(row_id) if entity == STAFF else None
    for key in privilege.signed_fields(fields):
        if key in signed and signed[key] == fields[key]:
            continue
        if target is not None and target.get(key) == fields[key]:
            continue  # a value the server kept (a conflict), already held here
        return "values differ from what was signed"
    by = str(proof.get("by") or "")
    return proofs.problem_with(
        entity=entity,
        row_id=row_id,
        fields=fields,
        signed=signed,
        base_version=int(proof.get("base_version") or 0),
        mutation_id=str(proof.get("mutation_id") or ""),
        proof=proof,
        signer=accounts.row(by) if by else None,
        target=target,
    )


def unproven(session: Session, changes: list[dict[str, Any]]) -> set[int]:
    """Positions in ``changes`` of privileged changes whose proof does not hold here."""
    accounts: _Accounts | None = None
    out: set[int] = set()
    for i, change in enumerate(changes):
        if change.get("echo") or change.get("entity") not in privilege.PRIVILEGED:
            continue
        accounts = accounts or _Accounts(session)
        problem = _problem(accounts, change)
        if problem is None:
            accounts.accept(change)
            continue
        out.add(i)
        log.warning("pulled change to %s left out: %s", change["entity"], problem.split(".")[0])
    return out
