"""The check after a sync: per table, count and version sum against the server's — both ends
read figures their triggers keep (``frontdesk/db/sync_totals.py``), O(1) in the size of the
clinic; a mismatch first recounts this desk's tables, then re-syncs the table — and a content
fingerprint of the rows the sync touched (a row that differs is taken as the server holds it,
never one with a local change still waiting)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from frontdesk.db import sync_totals
from frontdesk.models.codec import row_digest
from frontdesk.protocol import (
    MAX_DIGEST_ROWS,
    AuditHeadsReply,
    Endpoint,
    StatsReply,
    StatsRequest,
)
from frontdesk.store import balances, raw_rows
from frontdesk.store.context import ServiceContext
from frontdesk.sync import apply
from frontdesk.sync.summary import SyncSummary
from frontdesk.sync.transport import Reply

log = logging.getLogger("frontdesk.sync")


def _query(session: Session) -> sync_totals.Query:
    raw = raw_rows.connection(session)
    if raw is not None:
        return lambda sql: raw.execute(sql).fetchall()  # type: ignore[no-any-return]
    return lambda sql: session.execute(text(sql)).all()  # type: ignore[return-value]


class TableChecks:
    """Part of the SyncEngine: what it needs from the engine is declared here."""

    ctx: ServiceContext
    _touched_rows: dict[str, set[str]]
    anchors_kept = False
    moved_on = False  # the last check's answer was of a later change-log position than the pull
    page_check: dict[str, Any] | None = None  # the check a woken long-poll's page brought
    keep_anchors: Callable[..., int]  # AuditAnchors' (the engine has both)

    def _call(self, method: str, path: str, **kw: Any) -> Reply:
        raise NotImplementedError

    def _pull_cursor(self) -> int:
        raise NotImplementedError

    def resync(self, summary: SyncSummary, tables: list[str] | None = None) -> None:
        raise NotImplementedError

    def local_stats(
        self, tables: list[str], *, recount: bool = False, session: Session | None = None
    ) -> dict[str, list[int]]:
        """Per table, the rows with version > 0 and their version sum: the figures the
        triggers keep (``sync_table_totals``), or with ``recount`` counted from the tables
        (a scan of each; also while a bulk load has the triggers paused). ``session``: read
        in that transaction (a woken page's, before it commits) instead of a new one."""
        names = [n for n in tables if (t := apply.desk_table(n)) is not None and "version" in t.c]
        with self._reading(session) as s:
            query = _query(s)
            if recount or balances.is_paused(s):
                return sync_totals.recount(query, names)
            out = sync_totals.kept(query, names)
            missing = [n for n in names if n not in out]  # not covered (none today)
            out.update(sync_totals.recount(query, missing))
            return out

    @contextmanager
    def _reading(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
        else:
            with self.ctx.read() as s:
                yield s

    def _recount(self, tables: list[str]) -> None:
        """Prove the kept figures of these tables against a count of the tables (only when a
        table disagreed with the server: a scan); a figure that drifted is corrected."""
        with self.ctx.write("sync totals recount", origin="sync") as session:
            drifted = sync_totals.compare(_query(session), tables)
            if drifted:
                log.warning("sync totals differed from a count: %s", ",".join(drifted))
                sync_totals.rebuild(lambda sql: session.execute(text(sql)), list(drifted))

    def _note_rows(self, pairs: Iterable[tuple[str, str]]) -> None:
        rows = getattr(self, "_touched_rows", None)
        if rows is None:
            return
        for entity, row_id in pairs:
            ids = rows.setdefault(entity, set())
            if len(ids) < MAX_DIGEST_ROWS:
                ids.add(row_id)
        while sum(len(ids) for ids in rows.values()) > MAX_DIGEST_ROWS * 20:
            rows.pop(max(rows, key=lambda name: len(rows[name])))  # stay under the server's cap

    def local_digests(
        self, tables: list[str], session: Session | None = None
    ) -> dict[str, dict[str, str]]:
        """Content fingerprints of the rows this sync touched (up to MAX_DIGEST_ROWS a table)."""
        out: dict[str, dict[str, str]] = {}
        touched = getattr(self, "_touched_rows", {})
        with self._reading(session) as s:
            for name in tables:
                t = apply.desk_table(name)
                ids = sorted(touched.get(name, ()))
                if t is None or "version" not in t.c or not ids:
                    continue
                found: dict[str, str] = {}
                raw = raw_rows.connection(s)
                if raw is not None:  # (the rows as SQLAlchemy reads them, no statement built)
                    read = raw_rows.select_by_ids(raw, t, ids, s.get_bind().dialect)
                    out[name] = {row["id"]: row_digest(t, row) for row in read}
                    continue
                for start in range(0, len(ids), 500):
                    rows = s.execute(
                        select(t).where(t.c.id.in_(ids[start : start + 500]))
                    ).mappings()
                    found.update((row["id"], row_digest(t, row)) for row in rows)
                out[name] = found
        return out

    def check_from_page(
        self,
        tables: list[str],
        heads: bool,
        *,
        session: Session | None = None,
        cursor: int | None = None,
    ) -> bool:
        """The check a woken long-poll brought with this sync's only page (read by the server
        at the same moment as the page; ``ServerStore.wait_page``): True when it covers these
        tables and agrees — per table the same count and version sum, every row this sync
        touched with the same content fingerprint, the audit heads kept when ``heads`` —
        so no check need be asked for. False, and the check is asked for as before (it
        repairs a row, recounts, re-syncs a table), when anything differs or is not covered.
        ``session`` and ``cursor``: compared inside the page's own write transaction, at the
        position it moves the desk to (one commit for the whole woken sync)."""
        check, self.page_check = self.page_check, None
        at = self._pull_cursor() if cursor is None else cursor
        if check is None or check.get("latest") != at:
            return False
        theirs: dict[str, list[int]] = check.get("tables") or {}
        if not set(tables) <= set(theirs) or (heads and check.get("audit") is None):
            return False
        ours = self.local_stats(tables, session=session)
        if any(ours.get(name) != theirs[name] for name in tables):
            return False
        prints: dict[str, dict[str, str]] = check.get("digests") or {}
        for name, rows in self.local_digests(tables, session).items():
            held = prints.get(name, {})
            if any(held.get(row_id, digest) != digest for row_id, digest in rows.items()):
                return False
        if heads:
            self.keep_anchors(AuditHeadsReply.from_json(check["audit"]), at, session=session)
            self.anchors_kept = True
        return True

    def check_tables(
        self, tables: list[str], summary: SyncSummary, *, heads: bool = False
    ) -> list[str]:
        """Per table, count and version sum against the server's; and the rows this sync touched
        by content: a row that differs is taken as the server holds it (never one with a local
        change still waiting), a table whose count or versions differ is re-synced. With
        ``heads``, the audit-chain heads come in the same answer and are kept
        (``anchors_kept``; an older server leaves them out)."""
        self.anchors_kept = False
        body = StatsRequest(tables, self.local_digests(tables), heads=heads)
        reply = self._call("POST", Endpoint.STATS, json=body.as_json())
        if not reply.ok:
            return []
        answer = StatsReply.from_json(reply.body)
        theirs = answer.tables
        if answer.latest != self._pull_cursor():
            self.moved_on = True
            return []  # the server moved on since this pull; the next sync checks again
        if answer.audit is not None:
            self.keep_anchors(AuditHeadsReply.from_json(answer.audit))
            self.anchors_kept = True
        repair = answer.repair or {}
        if repair:
            with self.ctx.write("sync repair", origin="sync") as session:
                apply.begin_sync_apply(session)
                for name, rows in repair.items():
                    fixed = sum(apply.put_back(session, name, row) for row in rows)
                    if fixed:
                        log.warning(
                            "row check: %d %s rows differed; taken from server", fixed, name
                        )
                        summary.repaired += fixed
        ours = self.local_stats(list(theirs))
        bad = [t for t in theirs if ours.get(t) != theirs[t]]
        if bad:  # first make sure this desk's own figures are its tables' (a scan, rare)
            self._recount(bad)
            ours = self.local_stats(bad)
            bad = [t for t in bad if ours.get(t) != theirs[t]]
        if bad:
            log.warning("table check mismatch: %s", ",".join(bad))
            self.resync(summary, bad)
            ours = self.local_stats(bad)
            summary.mismatched = [t for t in bad if ours.get(t) != theirs[t]]
        return bad
