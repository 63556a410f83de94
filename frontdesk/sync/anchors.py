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

from sqlalchemy import delete, insert, update

from frontdesk.domain import signing
from frontdesk.models import AuditAnchor, SyncState
from frontdesk.protocol import AuditHead, AuditHeadsReply, Endpoint
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

    def keep_anchors(self, body: AuditHeadsReply) -> int:
        """Keep the heads of one answer (``fetch_anchors``'s, or the check's, which reads them
        in its own transaction); 0 when the server had moved on since this desk's pull."""
        if body.latest != self._pull_cursor():
            return 0
        heads = [AuditHead.from_json(h) for h in body.heads]
        good = [
            h
            for h in heads
            if signing.verify(body.key, signing.head_statement(h.chain, h.seq, h.hash), h.signature)
        ]
        if len(good) < len(heads):
            log.warning(
                "audit heads: %d countersignatures did not check out", len(heads) - len(good)
            )
        now = self.ctx.clock.now()
        with self.ctx.write("audit anchors", origin="sync") as session:
            state = session.get(SyncState, 1)
            assert state is not None
            if state.server_audit_key not in (None, body.key):
                log.warning("audit heads: the clinic server's key changed; anchors replaced")
            session.execute(
                update(SyncState).where(SyncState.id == 1).values(server_audit_key=body.key)
            )
            session.execute(delete(AuditAnchor))
            if good:
                session.execute(
                    insert(AuditAnchor),
                    [
                        {
                            "chain_id": h.chain,
                            "seq": h.seq,
                            "hash": h.hash,
                            "signature": h.signature,
                            "received_at": now,
                        }
                        for h in good
                    ],
                )
        return len(good)
