"""Settings → Integrations, the server's side: a desk lists the integration API's keys and
its call log with its own token; creating or revoking a key needs more than a desk's word.

A stolen desk token must not mint keys (docs/threat-model.md). So, like a privileged change
(``server/signed.py``), a create or revoke carries a staff member's authority: an Ed25519
signature, by the key the server holds for an owner or practice manager, over the act, its
details, the asking desk, the time and a one-time nonce (``domain.signing.authority_statement``).
The server checks the signer's role and account as it holds them, refuses a statement more than
five minutes off its clock, and keeps the nonce with the key it made, so a captured request
cannot be replayed for a second key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select, update

from frontdesk.domain import signing
from frontdesk.domain.errors import RuleViolation
from frontdesk.domain.vocab import Role
from frontdesk.protocol import Endpoint
from frontdesk.server import schema as s
from frontdesk.server import trust
from frontdesk.server.api.keys import ApiKey, create_key, list_keys, parse_scopes
from frontdesk.server.changelog import current_row
from frontdesk.server.routes import Dev, Store
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.services.permissions import Action, allowed

router = APIRouter()
SKEW = timedelta(minutes=5)


class Authority(BaseModel):
    by: str = Field(max_length=36)
    sig: str = Field(max_length=200)
    at: str = Field(max_length=40)
    nonce: str = Field(min_length=16, max_length=64)


class NewKey(BaseModel):
    name: str = Field(max_length=120)
    scopes: list[str] = Field(max_length=10)
    expires_at: datetime | None = None
    rate_per_minute: int = Field(default=600, ge=1, le=100_000)
    authority: Authority


class Revoke(BaseModel):
    authority: Authority


def key_json(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "scopes": sorted(k.scopes),
        "rate_per_minute": k.rate_per_minute,
        "created_at": k.created_at.isoformat(),
        "expires_at": k.expires_at.isoformat() if k.expires_at else None,
        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
    }


def details_of(body: NewKey) -> dict[str, Any]:
    """The create request's details as signed (the desk signs the same dict)."""
    return {
        "name": body.name,
        "scopes": sorted(body.scopes),
        "expires_at": body.expires_at.isoformat() if body.expires_at else None,
        "rate_per_minute": body.rate_per_minute,
    }


def check_authority(
    store: ServerStore,
    conn: Connection,
    dev: Device,
    action: str,
    details: dict[str, Any],
    auth: Authority,
) -> dict[str, Any]:
    """The signer's staff row when ``auth`` is a good, fresh signature by an owner or
    practice manager over this act from this desk; else 403."""

    def refuse(why: str) -> ServerProblem:
        return ServerProblem(403, why + " Nothing was changed.", code="no_authority")

    try:
        at = datetime.fromisoformat(auth.at)
    except ValueError:
        raise refuse("The request's time is not a time.") from None
    if at.tzinfo is None or abs(store.now() - at) > SKEW:
        raise refuse("The request was signed more than five minutes ago (or ahead): try again.")
    signer = current_row(conn, "staff_users", auth.by)
    if signer is None or signer.get("deleted_at") is not None or signer.get("archived_at"):
        raise refuse("The request is signed by someone with no active staff account.")
    statement = signing.authority_statement(action, dev.id, details, auth.at, auth.nonce)
    if not signing.verify(signer.get("signing_public_key"), statement, auth.sig):
        raise refuse(
            "Creating or revoking an API key needs the signature of an owner or practice "
            "manager signed in with their password; this request's does not check out."
        )
    if not allowed(Role(signer["role"]), Action.MANAGE_SETTINGS):
        raise refuse(f"{signer.get('display_name', 'The signer')} may not manage integrations.")
    return signer


@router.get(Endpoint.INTEGRATION_KEYS.value)
def keys(dev: Dev, store: Store) -> dict[str, Any]:
    return {"keys": [key_json(k) for k in list_keys(store)]}


@router.post(Endpoint.INTEGRATION_KEYS.value)
def new_key(body: NewKey, dev: Dev, store: Store) -> dict[str, Any]:
    with store.reading() as conn:
        signer = check_authority(
            store, conn, dev, "create api key", details_of(body), body.authority
        )
        used = conn.execute(
            select(s.api_keys.c.id).where(s.api_keys.c.authority_nonce == body.authority.nonce)
        ).first()
    if used is not None:
        raise ServerProblem(
            409, "This signed request was used already: nothing new was made.", code="replayed"
        )
    try:
        key, token = create_key(
            store, body.name, parse_scopes(body.scopes), expires_at=body.expires_at,
            rate_per_minute=body.rate_per_minute,
        )  # fmt: skip
    except RuleViolation as exc:
        raise ServerProblem(422, exc.user_message, code="bad_key") from None
    with store.writing() as conn:
        conn.execute(
            update(s.api_keys)
            .where(s.api_keys.c.id == key.id)
            .values(created_by=signer["id"], authority_nonce=body.authority.nonce)
        )
        _audit(store, conn, signer, "created an API key", key)
    return {"key": key_json(key), "token": token}


@router.post(Endpoint.INTEGRATION_KEY_REVOKE.value)
def revoke(key_id: str, body: Revoke, dev: Dev, store: Store) -> dict[str, Any]:
    with store.writing() as conn:
        signer = check_authority(
            store, conn, dev, "revoke api key", {"key_id": key_id}, body.authority
        )
        row = conn.execute(select(s.api_keys).where(s.api_keys.c.id == key_id[:36])).first()
        if row is None:
            raise ServerProblem(404, "No API key has that id.", code="not_found")
        if row.revoked_at is None:
            conn.execute(
                update(s.api_keys).where(s.api_keys.c.id == row.id).values(revoked_at=store.now())
            )
            _audit(store, conn, signer, "revoked an API key", _as_key(row))
    return {"revoked": True}


def _as_key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, frozenset(row.scopes.split()),
                  int(row.rate_per_minute), row.created_at, row.expires_at, row.revoked_at,
                  row.last_used_at)  # fmt: skip


def _audit(
    store: ServerStore, conn: Connection, signer: dict[str, Any], what: str, key: ApiKey
) -> None:
    trust.record_server_event(
        store, conn, action=what, entity="api_keys", entity_id=key.id,
        summary=f"{what.capitalize()} “{key.name}” ({', '.join(sorted(key.scopes))})",
        staff_name=str(signer.get("display_name") or "staff"),
    )  # fmt: skip
    trust.flush_heads(store, conn)


@router.get(Endpoint.INTEGRATION_LOG.value)
def call_log(dev: Dev, store: Store, limit: int = 200) -> dict[str, Any]:
    limit = max(1, min(limit, 1000))
    a, k = s.api_audit.c, s.api_keys.c
    with store.reading() as conn:
        rows = conn.execute(
            select(a.at, k.name, a.operation, a.status, a.patient_id)
            .join(s.api_keys, k.id == a.key_id, isouter=True)
            .order_by(a.at.desc(), a.id.desc())
            .limit(limit)
        ).all()
    return {
        "calls": [
            {"at": r.at.isoformat(), "key": r.name or "", "operation": r.operation,
             "status": int(r.status), "patient_id": r.patient_id}
            for r in rows
        ]
    }  # fmt: skip
