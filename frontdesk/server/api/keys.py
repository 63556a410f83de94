"""API keys: made by the person who runs the clinic server (``frontdesk-server api-key``),
shown once, kept only as a SHA-256; scopes say what a key may do; a per-key rate limit
answers 429 with Retry-After; every call is recorded in ``server_api_audit``."""

from __future__ import annotations

import math
import secrets
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, String, bindparam, insert, or_, select, type_coerce, update

from frontdesk.domain.errors import RuleViolation
from frontdesk.domain.ids import uuid7
from frontdesk.server import schema as s
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.processes import SharedBuckets
from frontdesk.server.store import ServerStore, hash_secret

TOKEN_PREFIX = "fdk_"  # noqa: S105 (a label, not a secret)
DEFAULT_RATE = 600  # calls a minute


class Scope(StrEnum):
    AVAILABILITY = "availability:read"
    APPOINTMENTS = "appointments:write"
    PATIENTS_READ = "patients:read"
    PATIENTS_WRITE = "patients:write"
    WEBHOOKS = "webhooks"


SCOPE_HELP = {
    Scope.AVAILABILITY: "read the clinic (locations, practitioners, types, rooms) and free times",
    Scope.APPOINTMENTS: "hold, book, move and cancel appointments",
    Scope.PATIENTS_READ: "look patients up by phone, name and date of birth, or email",
    Scope.PATIENTS_WRITE: "create patients",
    Scope.WEBHOOKS: "subscribe to changes",
}


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    rate_per_minute: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = None

    def require(self, scope: Scope) -> None:
        if scope.value not in self.scopes:
            raise ApiProblem(
                403,
                f"This API key does not have the {scope.value!r} scope, which this call needs. "
                f"Ask the clinic for a key with it (frontdesk-server api-key create --scope "
                f"{scope.value}).",
                "scope_missing",
            )


def parse_scopes(values: list[str]) -> frozenset[str]:
    wanted: set[str] = set()
    for value in values:
        wanted.update(v for v in value.replace(",", " ").split() if v)
    known = {sc.value for sc in Scope}
    unknown = sorted(wanted - known)
    if unknown:
        raise RuleViolation(
            f"Unknown scope {', '.join(unknown)}: choose from {', '.join(sorted(known))}."
        )
    if not wanted:
        raise RuleViolation(f"Give at least one --scope ({', '.join(sorted(known))}).")
    return frozenset(wanted)


def create_key(
    store: ServerStore,
    name: str,
    scopes: frozenset[str],
    *,
    expires_at: datetime | None = None,
    rate_per_minute: int = DEFAULT_RATE,
) -> tuple[ApiKey, str]:
    """A new key and its secret token (shown once; only its hash is kept)."""
    if not name.strip():
        raise RuleViolation("Give the key a name (who or what uses it).")
    if rate_per_minute < 1:
        raise RuleViolation("The rate limit is at least 1 call a minute.")
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = store.now()
    if expires_at is not None and expires_at <= now:
        raise RuleViolation("The expiry is in the past: give a later date.")
    key = ApiKey(
        uuid7(), name.strip()[:120], prefix, scopes, rate_per_minute, now, expires_at, None
    )
    with store.writing() as conn:
        conn.execute(
            insert(s.api_keys).values(
                id=key.id,
                name=key.name,
                prefix=prefix,
                secret_hash=hash_secret(token),
                scopes=" ".join(sorted(scopes)),
                rate_per_minute=rate_per_minute,
                created_at=now,
                expires_at=expires_at,
            )
        )
    return key, token


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.prefix,
        frozenset(row.scopes.split()),
        int(row.rate_per_minute),
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


def list_keys(store: ServerStore) -> list[ApiKey]:
    with store.reading() as conn:
        rows = conn.execute(select(s.api_keys).order_by(s.api_keys.c.created_at)).all()
    return [_key(r) for r in rows]


def revoke_key(store: ServerStore, id_or_name: str) -> int:
    """Revoke keys by id, the prefix ``list`` shows, or name; returns how many."""
    c = s.api_keys.c
    with store.writing() as conn:
        done = conn.execute(
            update(s.api_keys)
            .where(
                (c.id == id_or_name) | (c.prefix == id_or_name) | (c.name == id_or_name),
                c.revoked_at.is_(None),
            )
            .values(revoked_at=store.now())
        )
    return int(done.rowcount or 0)


def still_valid(store: ServerStore, key_id: str) -> bool:
    """Whether the key is still neither revoked nor expired (a long call asks again)."""
    c = s.api_keys.c
    with store.reading() as conn:
        row = conn.execute(select(c.revoked_at, c.expires_at).where(c.id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return False
    return row.expires_at is None or row.expires_at > store.now()


# Each call reads whether its key is known and not revoked (revocation, from any process,
# counts at once); the rest of a key never changes after it is made, so it is read once.
_BY_HASH = select(s.api_keys.c.id, type_coerce(s.api_keys.c.revoked_at, String)).where(
    s.api_keys.c.secret_hash == bindparam("h")
)
_KNOWN: dict[str, ApiKey] = {}
# Keys this process has found valid, by their token's hash. A write call (``later``) takes its
# key from here and checks it is still not revoked in the write's own transaction
# (``booking.idempotent``), not in a read transaction of its own before it.
_SEEN: dict[str, ApiKey] = {}


def authenticate(store: ServerStore, authorization: str, *, later: bool = False) -> ApiKey:
    """The caller's key, checked now; with ``later``, a key this process has seen valid is
    answered without a read: the caller must check it in its own transaction (``confirm``)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401,
            "Send the API key as 'Authorization: Bearer fdk_…'. The clinic makes keys with "
            "frontdesk-server api-key create.",
            "unauthorised",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if later and (known := seen(store, authorization)) is not None:
        return known
    digest = hash_secret(token.strip())
    with store.reading() as conn:
        found = conn.execute(_BY_HASH, {"h": digest}).first()
        if found is None:
            raise ApiProblem(
                401,
                "That API key is not known to this clinic server.",
                "unauthorised",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key_id, revoked_at = found
        if revoked_at is not None:
            raise revoked()
        key = _KNOWN.get(key_id)
        if key is None:
            row = conn.execute(select(s.api_keys).where(s.api_keys.c.id == key_id)).one()
            key = _KNOWN[key_id] = _key(row)
    if key.revoked_at is not None:
        raise revoked()
    _check_expiry(store, key)
    _SEEN[digest] = key
    return key


def seen(store: ServerStore, authorization: str) -> ApiKey | None:
    """For a ``later`` call: the key, if this process has found it valid before — no read
    (the call checks it is not revoked in its own transaction), its expiry checked against
    the clock; else None (``authenticate`` reads it)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    key = _SEEN.get(hash_secret(token.strip()))
    if key is not None:
        _check_expiry(store, key)
    return key


def revoked() -> ApiProblem:
    return ApiProblem(401, "That API key was revoked by the clinic.", "key_revoked")


def _check_expiry(store: ServerStore, key: ApiKey) -> None:
    if key.expires_at is not None and key.expires_at <= store.now():
        raise ApiProblem(
            401, f"That API key expired at {key.expires_at.isoformat()}.", "key_expired"
        )


class RateLimiter:
    """A token bucket per key: ``rate_per_minute`` calls, refilled evenly. The buckets are
    this process's, or with ``shared`` every server process's (``processes.SharedBuckets``)."""

    def __init__(self, shared: SharedBuckets | None = None) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self.shared = shared

    def take(self, key: ApiKey) -> None:
        with self._lock, self.shared.locked() if self.shared else nullcontext():
            self._take(key)

    def _take(self, key: ApiKey) -> None:
        rate = key.rate_per_minute / 60.0
        now = time.monotonic()
        found = self.shared.get(key.id) if self.shared else self._buckets.get(key.id)
        tokens, at = found or (float(key.rate_per_minute), now)
        tokens = min(float(key.rate_per_minute), tokens + (now - at) * rate)
        if tokens < 1.0:
            wait = max(1, math.ceil((1.0 - tokens) / rate))
            self._put(key.id, tokens, now)
            raise ApiProblem(
                429,
                f"This key may make {key.rate_per_minute} calls a minute; try again in {wait} s.",
                "rate_limited",
                headers={"Retry-After": str(wait)},
            )
        self._put(key.id, tokens - 1.0, now)

    def _put(self, key_id: str, tokens: float, now: float) -> None:
        if self.shared:
            self.shared.put(key_id, tokens, now)
        else:
            self._buckets[key_id] = (tokens, now)


class CallLog:
    """The API audit log's pending rows: a read call is queued and written with the others
    in one transaction (at most ``delay`` seconds later, or at ``batch`` rows), so reads do
    not each wait for a commit under the writer lock. Writes record their row in their own
    transaction instead (``insert_call``)."""

    def __init__(self, delay: float = 0.25, batch: int = 100) -> None:
        self.delay = delay
        self.batch = batch
        self._lock = threading.Lock()
        self._rows: list[tuple[datetime, ApiKey, str, int, str | None]] = []
        self._oldest = 0.0

    def add(
        self, store: ServerStore, key: ApiKey, op: str, status: int, patient: str | None
    ) -> bool:
        """Queue a row; True when the queue is due to be written (``flush``, off the event
        loop: the dispatcher's round also writes it)."""
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append((store.now(), key, op, status, patient))
            return len(self._rows) >= self.batch or time.monotonic() - self._oldest >= self.delay

    def flush(self, store: ServerStore) -> None:
        """Write every queued row; a patient's record read also goes in the server's audit
        chain, so the desks' audit trail shows who looked at it."""
        from frontdesk.server import trust

        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        with store.writing() as conn:
            # the rows in one statement, each key's last use once
            conn.execute(
                insert(s.api_audit),
                [
                    {"id": uuid7(), "key_id": key.id, "operation": op[:60],
                     "patient_id": patient, "status": status, "at": at}
                    for at, key, op, status, patient in rows
                ],
            )  # fmt: skip
            last: dict[str, datetime] = {}
            for at, key, *_rest in rows:
                last[key.id] = max(at, last.get(key.id, at))
            for key_id, at in last.items():
                touch_last_used(conn, key_id, at)
            for _at, key, op, status, patient in rows:
                if patient is not None and status < 400:
                    trust.record_server_event(
                        store,
                        conn,
                        action="read a patient",
                        entity="patients",
                        entity_id=patient,
                        patient_id=patient,
                        staff_name=f"API: {key.name}",
                        summary=f"Read through the integration API ({op}), key {key.name!r}",
                    )
            trust.flush_heads(store, conn)
            store.publish_newest(conn)


# A key's "last used" is kept to the minute: rewriting its row on every call cost each write
# call a statement (and every call the same hot row).
LAST_USED_EVERY = timedelta(minutes=1)


def insert_call(
    conn: Connection,
    now: datetime,
    key: ApiKey,
    operation: str,
    status: int,
    patient_id: str | None,
) -> None:
    """``record_call`` inside a write already open (a booking's own transaction)."""
    conn.execute(
        _AUDIT_ROW,
        {"id": uuid7(), "key_id": key.id, "operation": operation[:60],
         "patient_id": patient_id, "status": status, "at": now},
    )  # fmt: skip
    touch_last_used(conn, key.id, now)


_AUDIT_ROW = insert(s.api_audit)


def touch_last_used(conn: Connection, key_id: str, at: datetime) -> None:
    """The key's last use, rewritten only when the stored one is a minute old (the condition
    is in the statement: a key object held in memory may be older than the row; no statement
    when this transaction already read a recent one: ``conn.info["api_key_used"]``)."""
    read_id, read_at = conn.info.get("api_key_used") or (None, None)
    if read_id == key_id and read_at is not None and read_at > at - LAST_USED_EVERY:
        return
    c = s.api_keys.c
    conn.execute(
        update(s.api_keys)
        .where(c.id == key_id)
        .where(or_(c.last_used_at.is_(None), c.last_used_at <= at - LAST_USED_EVERY))
        .values(last_used_at=at)
    )


def audit_log(store: ServerStore, limit: int = 100) -> list[dict[str, Any]]:
    with store.reading() as conn:
        rows = (
            conn.execute(
                select(s.api_audit)
                .order_by(s.api_audit.c.at.desc(), s.api_audit.c.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]
