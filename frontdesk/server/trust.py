"""What the server takes from a desk about its audit trail: entries are only appended, only
by the desk whose chain they continue, never changed. Each chain's newest entry is
countersigned with the server's key (``server_audit_heads``) and handed back to every desk,
whose tamper check then names a chain rewritten after that point (services/audit.py).

A refused attempt is itself recorded, in the server's own audit chain, so a person sees it.
See docs/threat-model.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select, update

from frontdesk.domain import signing
from frontdesk.domain.hlc import Stamp
from frontdesk.domain.ids import uuid7
from frontdesk.protocol import AuditHead, AuditHeadsReply
from frontdesk.server import schema as s
from frontdesk.server.changelog import (
    SERVER_DEVICE,
    TABLES,
    full_row,
    insert_row,
    log_change,
    remember_row,
)
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.store.tracking import GENESIS_HASH, audit_hash, audit_hash_matches, audit_payload

AUDIT = "audit_events"
_KEY_INFO = "audit_key"
# Trust refusals are recorded in the server's own audit chain (codes of ServerProblem).
TRUST_CODES = frozenset(
    {"audit_append_only", "audit_not_yours", "audit_chain", "unsigned", "server_only"}
)

Head = tuple[str, int, str]  # (writer device, seq, hash)


def _refuse(code: str, message: str) -> ServerProblem:
    return ServerProblem(403, message, code=code)


# -- the server's key -----------------------------------------------------------------------
def server_key(store: ServerStore, conn: Connection) -> Ed25519PrivateKey:
    """The server's countersigning key, made the first time it is needed (server_info)."""
    cached = getattr(store, "_audit_key", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found = conn.execute(
        select(s.server_info.c.value).where(s.server_info.c.key == _KEY_INFO)
    ).scalar()
    if found is None:
        key = signing.new_private_key()
        store.put_info(conn, _KEY_INFO, signing.private_hex(key))
    else:
        key = signing.private_from_hex(str(found))
    store._audit_key = key  # type: ignore[attr-defined]
    return key


# -- chain heads ----------------------------------------------------------------------------
def _heads(conn: Connection) -> dict[str, Head | None]:
    cache: dict[str, Head | None] | None = conn.info.get("audit_heads")
    if cache is None:
        cache = conn.info["audit_heads"] = {}
        conn.info["audit_dirty"] = set()
    return cache


def prime_head(conn: Connection, chain: str, head: Head) -> None:
    """A chain's head as the caller read it in this transaction (``head_of`` reads no more)."""
    _heads(conn)[chain] = head


def snapshot_heads(conn: Connection) -> tuple[dict[str, Head | None], set[str]]:
    """The heads as they stand, to put back if the change being tried is rolled back."""
    return dict(_heads(conn)), set(conn.info["audit_dirty"])


def restore_heads(conn: Connection, saved: tuple[dict[str, Head | None], set[str]]) -> None:
    conn.info["audit_heads"], conn.info["audit_dirty"] = dict(saved[0]), set(saved[1])


def _devices(conn: Connection) -> dict[str, bool]:
    """Enrolled desks by id → still allowed to sync (cached for the transaction)."""
    found: dict[str, bool] | None = conn.info.get("audit_devices")
    if found is None:
        rows = conn.execute(select(s.devices.c.id, s.devices.c.revoked_at)).all()
        found = conn.info["audit_devices"] = {r.id: r.revoked_at is None for r in rows}
    return found


def head_of(conn: Connection, chain: str) -> Head | None:
    """(writer, seq, hash) of a chain's newest entry the server holds; None for a new chain.
    A chain the server got before it kept heads (a seeded copy) starts from its rows."""
    cache = _heads(conn)
    if chain in cache:
        return cache[chain]
    hs = s.audit_heads.c
    row = conn.execute(select(hs.device_id, hs.seq, hs.hash).where(hs.chain_id == chain)).first()
    head: Head | None = None
    if row is not None:
        head = (row.device_id, int(row.seq), row.hash)
    else:
        table = TABLES[AUDIT]
        last = conn.execute(
            select(table.c.device_seq, table.c.hash)
            .where(table.c.device_id == chain)
            .order_by(table.c.device_seq.desc())
            .limit(1)
        ).first()
        if last is not None:
            owner = chain if chain in _devices(conn) else ""
            head = (owner, int(last.device_seq), last.hash)
            conn.info["audit_dirty"].add(chain)
    cache[chain] = head
    return head


def _may_write(conn: Connection, device: Device, chain: str, head: Head | None) -> bool:
    """A desk writes its own chains. A chain named after another desk is that desk's; only a
    revoked desk's chain may be continued by another (a desk restored from its backup)."""
    devices = _devices(conn)
    owner = head[0] if head is not None and head[0] else (chain if chain in devices else "")
    if not owner or owner == device.id:
        return True
    return devices.get(owner) is False


def check_audit_entry(conn: Connection, device: Device, m: Any, row: dict[str, Any] | None) -> None:
    """Refuse anything but a new entry that continues, unchanged, a chain this desk may write."""
    if m.op != "insert" or row is not None:
        raise _refuse(
            "audit_append_only",
            "Audit trail entries are never changed once written; this change to one was "
            "refused and recorded.",
        )
    f = m.fields
    chain = str(f.get("device_id") or "")
    head = head_of(conn, chain)
    if not _may_write(conn, device, chain, head):
        raise _refuse(
            "audit_not_yours",
            "A desk may add audit trail entries only in its own name; this entry names "
            "another desk and was refused and recorded.",
        )
    seq, prev = (head[1], head[2]) if head is not None else (0, GENESIS_HASH)
    if (
        f.get("device_seq") != seq + 1
        or f.get("prev_hash") != prev
        or not audit_hash_matches(prev, f, f.get("hash"))
    ):
        raise _refuse(
            "audit_chain",
            f"This audit trail entry does not continue its desk's trail (the server holds "
            f"entries up to {seq}); it was refused and recorded.",
        )
    owner = head[0] if head is not None and head[0] else device.id
    _heads(conn)[chain] = (owner, seq + 1, str(f["hash"]))
    conn.info["audit_dirty"].add(chain)


def flush_heads(store: ServerStore, conn: Connection) -> None:
    """Write the chunk's new heads, each countersigned with the server's key."""
    dirty: set[str] = conn.info.get("audit_dirty") or set()
    if not dirty:
        return
    key = server_key(store, conn)
    hs = s.audit_heads.c
    now = store.now()
    for chain in sorted(dirty):
        head = _heads(conn).get(chain)
        if head is None:
            continue
        owner, seq, digest = head
        values = {
            "device_id": owner,
            "seq": seq,
            "hash": digest,
            "signature": signing.sign(key, signing.head_statement(chain, seq, digest)),
            "at": now,
        }
        done = conn.execute(update(s.audit_heads).where(hs.chain_id == chain).values(**values))
        if not done.rowcount:
            conn.execute(insert(s.audit_heads).values(chain_id=chain, **values))
    dirty.clear()


def countersigned_heads(store: ServerStore) -> AuditHeadsReply:
    """Every chain's countersigned head, the server's public key, and the change-log position
    they reflect (a desk keeps them only once it has pulled that far)."""
    key = audit_key(store)
    # A read of one moment (heads and position agree), not behind the writer lock: every desk
    # asks after each sync that moved audit entries — each API booking makes one.
    with store.snapshot_reading() as conn:
        return heads_reply(store, conn, key)


def audit_key(store: ServerStore) -> Ed25519PrivateKey:
    key = getattr(store, "_audit_key", None)
    if key is None:
        with store.writing() as conn:  # the key may be made now
            key = server_key(store, conn)
    return key  # type: ignore[no-any-return]


def heads_reply(store: ServerStore, conn: Connection, key: Ed25519PrivateKey) -> AuditHeadsReply:
    """The heads as ``conn`` sees them (a desk's check reads them in its own transaction)."""
    rows = conn.execute(select(s.audit_heads)).all()
    latest = store._max_seq(conn)
    heads = [AuditHead(r.chain_id, int(r.seq), r.hash, r.signature).as_json() for r in rows]
    return AuditHeadsReply(signing.public_hex(key), latest, heads)


# -- refusals in the server's own trail -------------------------------------------------------
def record_refusal(
    store: ServerStore, conn: Connection, device: Device, m: Any, reason: str
) -> None:
    """An entry in the server's audit chain saying which desk tried what (no values)."""
    summary = f"Desk {device.name or device.id} ({device.series_prefix}): {reason}"
    record_server_event(
        store, conn, action="refused a change", entity=str(m.entity), entity_id=str(m.row_id),
        summary=summary,
    )  # fmt: skip


def record_server_event(
    store: ServerStore,
    conn: Connection,
    *,
    action: str,
    entity: str,
    entity_id: str | None,
    summary: str,
    patient_id: str | None = None,
    staff_name: str = "clinic server",
) -> None:
    """An entry in the server's own audit chain (a refusal, a booking made through the
    integration API), stamped with a server HLC; desks pull it into their audit trail."""
    head = head_of(conn, SERVER_DEVICE)
    seq, prev = (head[1], head[2]) if head is not None else (0, GENESIS_HASH)
    now: datetime = store.now()
    entry: dict[str, Any] = {
        "id": uuid7(),
        "device_id": SERVER_DEVICE,
        "device_seq": seq + 1,
        "hlc": Stamp(int(now.timestamp() * 1000), 0, "server").encode(),
        "at": now,
        "staff_user_id": None,
        "staff_name": staff_name[:120],
        "action": action[:40],
        "entity": entity,
        "entity_id": entity_id,
        "patient_id": patient_id,
        "summary": summary[:300],
        "before_json": None,
        "after_json": None,
    }
    entry["prev_hash"] = prev
    entry["hash"] = audit_hash(prev, audit_payload(entry))
    values = {**entry, "version": 1, "created_at": now, "updated_at": now, "deleted_at": None}
    insert_row(conn, AUDIT, values)
    table = TABLES[AUDIT]
    remember_row(conn, AUDIT, full_row(table, values))
    log_change(
        store, conn, AUDIT, entry["id"], "insert", 1, full_row(table, values), SERVER_DEVICE, None
    )
    _heads(conn)[SERVER_DEVICE] = (SERVER_DEVICE, seq + 1, entry["hash"])
    conn.info["audit_dirty"].add(SERVER_DEVICE)
