"""Settings → Integrations, the desk's side: the clinic server's integration API keys and call
log, fetched with this desk's token; a new key or a revocation carries the signed-in owner's
or practice manager's signature (server/api/desk_admin.py says why a desk's token is not
enough). The key's secret is answered once, shown once, and never stored on the desk."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from frontdesk.domain import signing
from frontdesk.domain.errors import EnvironmentProblem, RuleViolation, ValidationFailed
from frontdesk.protocol import Endpoint
from frontdesk.services.permissions import Action, require
from frontdesk.sync.engine import SyncEngine

SCOPES = {
    "availability:read": "See free times and the clinic",
    "appointments:write": "Hold, book, move and cancel",
    "patients:read": "Look up patients",
    "patients:write": "Create patients",
    "webhooks": "Subscribe to changes",
}


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Call:
    at: datetime
    key: str
    operation: str
    status: int
    patient_id: str | None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _key(k: dict[str, Any]) -> KeyInfo:
    return KeyInfo(k["id"], k["name"], k["prefix"], tuple(k["scopes"]),
                   datetime.fromisoformat(k["created_at"]), _when(k["expires_at"]),
                   _when(k["revoked_at"]), _when(k["last_used_at"]))  # fmt: skip


def _call(engine: SyncEngine, method: str, path: str, **kw: Any) -> dict[str, Any]:
    reply = engine.transport.send(method, path, token=engine.token, **kw)
    if not reply.ok:
        if reply.status in (403, 404, 409, 422):
            raise RuleViolation(reply.message)
        raise EnvironmentProblem(f"The clinic server could not answer: {reply.message}")
    return dict(reply.body)


def list_keys(engine: SyncEngine) -> list[KeyInfo]:
    require(engine.ctx.actor, Action.MANAGE_SETTINGS)
    return [_key(k) for k in _call(engine, "GET", Endpoint.INTEGRATION_KEYS.path())["keys"]]


def call_log(engine: SyncEngine, limit: int = 200) -> list[Call]:
    require(engine.ctx.actor, Action.MANAGE_SETTINGS)
    body = _call(engine, "GET", Endpoint.INTEGRATION_LOG.path(), params={"limit": limit})
    return [Call(datetime.fromisoformat(c["at"]), c["key"], c["operation"], int(c["status"]),
                 c["patient_id"]) for c in body["calls"]]  # fmt: skip


def _authority(engine: SyncEngine, action: str, details: dict[str, Any]) -> dict[str, str]:
    """The signed-in staff member's signature over this act (their password unwrapped the
    key at sign-in; a PIN-only sign-in has none)."""
    ctx = engine.ctx
    require(ctx.actor, Action.MANAGE_SETTINGS)
    signer = ctx.actor.signer
    if signer is None:
        raise RuleViolation(
            "Sign in with your password (not a PIN) to create or revoke API keys: the clinic "
            "server needs your signature for it."
        )
    staff_id, key = signer
    at = ctx.clock.now().isoformat()
    nonce = secrets.token_hex(16)
    statement = signing.authority_statement(action, ctx.device_id, details, at, nonce)
    return {"by": staff_id, "sig": signing.sign(key, statement), "at": at, "nonce": nonce}


def create_key(
    engine: SyncEngine,
    name: str,
    scopes: list[str],
    *,
    expires_at: datetime | None = None,
    rate_per_minute: int = 600,
) -> tuple[KeyInfo, str]:
    """A new key and its secret (to show once)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("Give the key a name: who or what uses it.", field="name")
    if not scopes:
        raise ValidationFailed("Tick at least one thing the key may do.", field="scopes")
    if expires_at is not None and expires_at <= engine.ctx.clock.now():
        raise ValidationFailed("The expiry is in the past: choose a later date.",
                               field="expires")  # fmt: skip
    details = {
        "name": name,
        "scopes": sorted(scopes),
        "expires_at": expires_at.astimezone(UTC).isoformat() if expires_at else None,
        "rate_per_minute": rate_per_minute,
    }
    body = {**details, "authority": _authority(engine, "create api key", details)}
    answer = _call(engine, "POST", Endpoint.INTEGRATION_KEYS.path(), json=body)
    return _key(answer["key"]), str(answer["token"])


def revoke_key(engine: SyncEngine, key_id: str) -> None:
    body = {"authority": _authority(engine, "revoke api key", {"key_id": key_id})}
    _call(engine, "POST", Endpoint.INTEGRATION_KEY_REVOKE.path(key_id=key_id), json=body)
