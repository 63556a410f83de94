"""The clinic server's countersigned audit-chain heads, kept on the desk (``audit_anchors``).

After a sync that moved audit entries, the desk asks for every chain's head the server holds
(with its check after the sync, in the same request and the same server read; on its own from
a server that does not answer them there) and keeps those whose countersignature checks out
with the server's key, once it has pulled as far as they reach. The tamper check
(services/audit.py) then names any chain that no longer matches its anchor: an entry
rewritten, re-hashed or deleted after the server saw it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from frontdesk.domain import signing
from frontdesk.models import AuditAnchor, Base, SyncState
from frontdesk.protocol import AuditHead, AuditHeadsReply, Endpoint
from frontdesk.store import raw_rows
from frontdesk.store.context import ServiceContext
from frontdesk.sync.transport import Reply

log = logging.getLogger("frontdesk.sync")


class AuditAnchors:
    """Part of the SyncEngine: what it needs from the engine is declared here."""

    ctx: ServiceContext

    def _call(self, method: str, path: str, **kw: Any) -> Reply:
        raise NotImplementedError

    def _pull_cursor(self) -> int:
        raise NotImplementedError

    def fetch_anchors(self) -> int:
        """Keep the server's countersigned heads; returns how many were kept (0 when the server
        has moved on since this desk's pull: the next sync fetches them again)."""
        reply = self._call("GET", Endpoint.AUDIT_HEADS)
        if not reply.ok:
            return 0  # an older server without heads: nothing to keep
        return self.keep_anchors(AuditHeadsReply.from_json(reply.body))

    def keep_anchors(
        self, body: AuditHeadsReply, cursor: int | None = None, *, session: Session | None = None
    ) -> int:
        """Keep the heads of one answer (``fetch_anchors``'s, or the check's, which reads them
        in its own transaction); 0 when the server had moved on since this desk's pull
        (``cursor``: the desk's pull position, when the caller has just read it).

        Only a head that is not already kept as it is — same sequence, hash and signature,
        under the same server key — is verified and written: one booking moves one chain,
        and a clinic group has a chain per desk (verifying and rewriting all of them was a
        large part of a woken desk's sync, bench_group)."""
        if body.latest != (self._pull_cursor() if cursor is None else cursor):
            return 0
        heads = [AuditHead.from_json(h) for h in body.heads]
        if session is None:
            with self.ctx.write("audit anchors", origin="sync") as writing:
                return self._keep(writing, body, heads)
        return self._keep(session, body, heads)

    def _keep(self, session: Session, body: AuditHeadsReply, heads: list[AuditHead]) -> int:
        now = self.ctx.clock.now()
        a = AuditAnchor.__table__.c  # type: ignore[attr-defined]
        # on the desk's SQLite through its own connection: no statement built (a woken sync)
        raw = raw_rows.connection(session)
        if raw is not None:
            key = raw.execute("SELECT server_audit_key FROM sync_state WHERE id = 1").fetchone()[0]
        else:
            key = session.execute(
                select(SyncState.server_audit_key).where(SyncState.id == 1)
            ).scalar_one()
        kept: dict[str, tuple[int, str, str]] = {}
        if key == body.key:
            if raw is not None:
                rows = raw.execute("SELECT chain_id, seq, hash, signature FROM audit_anchors")
                kept = {r[0]: (r[1], r[2], r[3]) for r in rows}
            else:
                rows = session.execute(select(a.chain_id, a.seq, a.hash, a.signature))
                kept = {r.chain_id: (r.seq, r.hash, r.signature) for r in rows}
        else:
            if key is not None:
                log.warning("audit heads: the clinic server's key changed; anchors replaced")
            session.execute(
                update(SyncState).where(SyncState.id == 1).values(server_audit_key=body.key)
            )
        new = [h for h in heads if kept.get(h.chain) != (h.seq, h.hash, h.signature)]
        good = [
            h
            for h in new
            if signing.verify(body.key, signing.head_statement(h.chain, h.seq, h.hash), h.signature)
        ]
        if len(good) < len(new):
            log.warning("audit heads: %d countersignatures did not check out", len(new) - len(good))
        unchanged = {h.chain for h in heads} - {h.chain for h in new}
        gone = [chain for chain in kept if chain not in unchanged]
        if gone and raw is not None:
            sql = "DELETE FROM audit_anchors WHERE chain_id = ?"
            with raw_rows.as_sqlalchemy_errors(sql):
                raw.executemany(sql, [(c,) for c in gone])
        elif gone:
            session.execute(delete(AuditAnchor).where(a.chain_id.in_(gone)))
        if key != body.key:
            session.execute(delete(AuditAnchor))
        if good:
            rows = [
                {
                    "chain_id": h.chain,
                    "seq": h.seq,
                    "hash": h.hash,
                    "signature": h.signature,
                    "received_at": now,
                }
                for h in good
            ]
            table = Base.metadata.tables["audit_anchors"]
            if raw is None or not raw_rows.insert_many(
                raw, table, rows, session.get_bind().dialect
            ):
                session.execute(insert(AuditAnchor), rows)
        return len(unchanged) + len(good)
