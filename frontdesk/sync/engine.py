"""One sync with the clinic server: push the outbox in sequence order, record each answer, then
pull the change log by cursor in bounded batches (each batch applied and the cursor moved in
one local transaction), re-syncing from a snapshot when the server's epoch changed or the
desk's cursor is older than the server's history. Local changes are always pushed first and
never discarded. Afterwards the tables touched are checked against the server: count and
version sum per table (a mismatch re-syncs that table) and the content of the rows this sync
touched (a row that differs is taken as the server holds it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.faults import checkpoint
from frontdesk.models import Base, ClinicSettings, SyncState
from frontdesk.protocol import (
    CONFLICT,
    MAX_BODY_BYTES,
    MERGED,
    REJECTED,
    DeviceReply,
    Endpoint,
    PushRequest,
    SnapshotStart,
    WaitReply,
)
from frontdesk.store import outbox, raw_rows
from frontdesk.store.context import ServiceContext
from frontdesk.sync import apply, snapshot_load
from frontdesk.sync.anchors import AuditAnchors
from frontdesk.sync.checks import TableChecks
from frontdesk.sync.status import SyncStatus, sync_status
from frontdesk.sync.summary import SyncSummary
from frontdesk.sync.transport import Reply, Transport

log = logging.getLogger("frontdesk.sync")
Progress = Callable[[str, float], None]

PUSH_BATCH = 1000
# A push stops short of the server's body cap: most changes are small, but a scanned referral
# syncs as pieces of up to ~44 KB each (services/claims/documents.py).
PUSH_BYTES = MAX_BODY_BYTES // 2
PULL_BATCH = 2000  # the server's MAX_PULL_CHANGES
SNAPSHOT_PAGE = 5000  # the server's MAX_SNAPSHOT_ROWS
# How stale the status kept in the file may be after syncs that went well (the status bar
# shows the last sync to the minute, from the context's own time)
STATUS_EVERY = timedelta(seconds=60)


def _within_bytes(rows: Sequence[Any], limit: int) -> Sequence[Any]:
    """The first rows whose changes together fit in ``limit`` bytes (at least one)."""
    total = 0
    for n, row in enumerate(rows):
        total += len(row.fields_json) + len(row.proof_json or "") + 300
        if total > limit and n:
            return rows[:n]
    return rows


# A woken long-poll's answer: the cursor it follows, the pull's page, the check after it.
WokenPage = tuple[int, Reply, dict[str, Any] | None]


@dataclass(frozen=True)
class Standing:
    """What a sync reads of this desk's sync state, and how many changes wait to be sent."""

    pull_cursor: int
    server_epoch: str | None
    restored_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int


_STANDING = ("pull_cursor", "server_epoch", "restored_at", "last_sync_at", "last_error")
_STANDING_SQL = (
    f"SELECT {', '.join(_STANDING)}, ({outbox.PENDING_COUNT_SQL}) FROM sync_state WHERE id = 1"
)


class SyncFailed(EnvironmentProblem):
    """The sync could not finish; the message says why and what to do."""


class UpgradeNeeded(SyncFailed):
    """The server speaks another protocol or schema version (HTTP 426)."""


class PushRefused(SyncFailed):
    """The server answered but refused the push as a whole; the desk still pulls."""


class SyncEngine(TableChecks, AuditAnchors):
    def __init__(
        self,
        ctx: ServiceContext,
        transport: Transport,
        token: str,
        progress: Progress | None = None,
    ) -> None:
        self.ctx = ctx
        self.transport = transport
        self.token = token
        self.progress = progress or (lambda _stage, _fraction: None)
        self._cursor: int | None = None  # the pull cursor, as this sync last wrote or read it

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kw: Any) -> Reply:
        sent = self.ctx.clock.now()
        reply = self.transport.send(method, path, token=self.token, **kw)
        if reply.server_time is not None:  # a pull's answer: the server's clock minus the
            # desk's, taking the server's stamp as made at the middle of the exchange
            middle = sent + (self.ctx.clock.now() - sent) / 2
            self.ctx.server_offset = reply.server_time - middle
        if reply.status == 426:
            raise UpgradeNeeded(reply.message)
        if reply.status == 401:
            raise SyncFailed(reply.message)
        return reply

    def _pull_cursor(self) -> int:
        return self._state().pull_cursor

    def _state(self) -> Standing:
        """This desk's sync state and how many changes wait, in one read (on the desk's SQLite
        one statement on a pooled connection: a woken sync reads it twice)."""
        engine = self.ctx.engine
        if raw_rows.usable(engine.dialect):
            conn = engine.raw_connection()
            try:
                row = conn.execute(_STANDING_SQL).fetchone()
            finally:
                conn.close()
            assert row is not None
            table = Base.metadata.tables["sync_state"]
            return Standing(**raw_rows.read(table, _STANDING, row[:-1], engine.dialect),
                            pending=int(row[-1]))  # fmt: skip
        with self.ctx.read() as session:
            state = session.get(SyncState, 1)
            assert state is not None
            return Standing(**{c: getattr(state, c) for c in _STANDING},
                            pending=outbox.pending_count(session))  # fmt: skip

    # -- the whole sync ---------------------------------------------------------------------
    def sync(self) -> SyncSummary:
        summary = SyncSummary()
        touched: set[str] = set()
        self._touched_rows: dict[str, set[str]] = {}
        self.page_check = None
        self.page_done = False
        self._cursor = None
        # Read once: nothing before the pull changes this desk's sync state (the push only
        # writes the outbox), so a sync with nothing to do reads it once.
        state = self._state()
        try:
            refused: PushRefused | None = None
            blank = self._blank_settings() if state.server_epoch is None else None
            try:
                self.push(summary, touched, waiting=state.pending)
            except PushRefused as exc:
                if state.server_epoch is None:
                    raise
                refused = exc  # still receive the clinic's changes, then say why
            if state.server_epoch is None:  # never synced with this server: snapshot
                self.resync(summary)
                if blank is not None:
                    self._set_blank_aside(blank)
            else:
                # the push counted what still waits (unless it was refused as a whole)
                unsent = None if refused else summary.pending
                self.pull(summary, touched, state=state, unsent=unsent)
            if refused is not None:
                raise refused
            if self.page_done:  # a woken page checked, anchors and status kept with it
                summary.cursor = self.page_done_at
                return self._done(summary)
            audit = "audit_events" in touched or summary.resynced
            self.anchors_kept = self.moved_on = False
            if (
                summary.pending == 0
                and touched
                and not self.check_from_page(sorted(touched), audit)
            ):
                self.check_tables(sorted(touched), summary, heads=audit)
            if ("clinic_settings" in touched or summary.resynced) and self._one_clinic_settings():
                self.push(summary, touched)
                self.anchors_kept = False  # the push moved the change log on
            if audit and not self.anchors_kept and not self.moved_on:
                # (when the check found the server had moved on past this pull, heads asked
                # for now would be past it too: the next sync, which the change wakes, keeps
                # them — 616 such requests in a minute of bench_group, nearly all wasted)
                self.fetch_anchors()
        except EnvironmentProblem as exc:
            self._note(error=exc.user_message, state=state)
            raise
        except IntegrityError as exc:
            # Only table and column names reach the log, never values.
            log.error("sync refused by a local constraint: %s", exc.orig)
            problem = SyncFailed(
                "A change from the clinic server clashes with a record on this desk (for "
                "example two records with the same number). Nothing was lost and this desk "
                "keeps working; ask for help to sort it out."
            )
            self._note(error=problem.user_message, state=state)
            raise problem from exc
        self._note(error=None, ok=True, state=state)
        summary.cursor = self._cursor if self._cursor is not None else self._pull_cursor()
        return self._done(summary)

    def _done(self, summary: SyncSummary) -> SyncSummary:
        log.info(
            "sync done pushed=%d pulled=%d rejected=%d conflicts=%d",
            summary.pushed,
            summary.pulled,
            summary.rejected,
            summary.conflicts,
        )
        return summary

    def _note(self, *, error: str | None, state: Standing, ok: bool = False) -> None:
        """Keep how the sync went. A sync that went well, after one that went well less than
        ``STATUS_EVERY`` ago, writes nothing: the time is kept on the context
        (``ctx.last_sync_at``, what the status shows), so a sync with nothing to do commits
        nothing locally (no fsync); the file's time is at most that much behind."""
        now = self.ctx.clock.now()
        if ok:
            self.ctx.last_sync_at = now
            written = state.last_sync_at
            if (
                state.last_error is None
                and written is not None
                and timedelta(0) <= now - written < STATUS_EVERY
            ):
                return
        with self.ctx.write("sync status", origin="sync") as session:
            values: dict[str, Any] = {"last_attempt_at": now, "last_error": error}
            if ok:
                values["last_sync_at"] = now
            session.execute(update(SyncState).where(SyncState.id == 1).values(**values))

    # -- push -------------------------------------------------------------------------------
    def push(self, summary: SyncSummary, touched: set[str], *, waiting: int | None = None) -> None:
        """Send the outbox. ``waiting``: how many changes wait, when the caller has just read
        it (none: nothing to read)."""
        if waiting == 0:
            summary.pending = 0
            return
        repushed = renumbered = False
        while True:
            with self.ctx.read() as session:
                rows = _within_bytes(outbox.pending(session, PUSH_BATCH), PUSH_BYTES)
                cursor = session.get(SyncState, 1).pull_cursor  # type: ignore[union-attr]
            if not rows:
                summary.pending = 0
                return
            body = PushRequest([outbox.as_mutation(r).as_json() for r in rows], cursor)
            reply = self._call("POST", Endpoint.PUSH, json=body.as_json())
            if not reply.ok:
                summary.pending = len(rows)
                raise PushRefused(f"The clinic server refused this desk's changes: {reply.message}")
            checkpoint("desk.push.answered")
            if reply.body.get("clock_ahead"):
                summary.clock_ahead = True
                log.warning("this desk's clock is more than a day ahead of the clinic server")
            self._record(reply.body.get("results", []), summary, touched)
            stopped = reply.body.get("stopped")
            if stopped:
                expected = int(stopped.get("expected_seq", 0))
                if expected < rows[0].seq and not repushed:
                    # The server lost changes it had accepted (restored from a backup):
                    # send them again; nothing local is discarded.
                    self._mark_pending_from(expected)
                    repushed = True
                    continue
                if stopped.get("reason") == "seq_reused" and not renumbered:
                    # This database was restored from a backup: the server holds changes of
                    # this desk, up to expected - 1, that it no longer has (they come back with
                    # the pull). The changes waiting here were never accepted: renumber them.
                    self._renumber_pending(expected)
                    renumbered = True
                    continue
                summary.pending = self.pending_count()
                raise PushRefused(
                    "The clinic server expects a different change sequence from this desk "
                    f"(it expects number {expected}). Ask for help; nothing was lost."
                )
            if len(reply.body.get("results", [])) < len(rows):
                summary.pending = self.pending_count()
                return

    def _record(
        self, results: list[dict[str, Any]], summary: SyncSummary, touched: set[str]
    ) -> None:
        now = self.ctx.clock.now()
        with self.ctx.write("sync results", origin="sync") as session:
            outbox.record_answers(session, results, now)
            for result in results:
                status = str(result.get("status"))
                if status == REJECTED:
                    named = outbox.changes_named(session, [result["mutation_id"]])
                    refused = named[0] if named else None
                    if refused is not None and isinstance(result.get("row"), dict):
                        apply.put_back(session, refused.entity, result["row"])
                    elif refused is not None and result.get("code") == "audit_not_yours":
                        # An entry in another desk's name is never the clinic's: the real one
                        # arrives with the pull.
                        apply.drop_audit_entry(session, refused.row_id)
                    elif refused is not None and refused.op == "insert":
                        # A new record refused for good (e.g. a line added to an invoice another
                        # desk had issued, an invoice numbered from another desk's series, an
                        # unsigned new staff account): it can never be on the clinic's copy, so
                        # it is set aside here too (still listed with the reason), and every
                        # desk's balances agree.
                        apply.withdraw(session, refused.entity, refused.row_id, now)
                summary.pushed += 1
                summary.merged += status == MERGED
                summary.conflicts += status == CONFLICT
                summary.rejected += status == REJECTED
            answered = outbox.changes_named(session, [r["mutation_id"] for r in results])
            self._note_rows((r.entity, r.row_id) for r in answered)
            touched.update(r.entity for r in answered)

    def _repush_lost(self, summary: SyncSummary, touched: set[str]) -> None:
        """After a server restore, send again every change the server no longer has."""
        reply = self._call("GET", Endpoint.DEVICE)
        if not reply.ok:
            raise SyncFailed(f"The clinic server did not recognise this desk: {reply.message}")
        last = int(DeviceReply.from_json(reply.body).last_seq)
        with self.ctx.read() as session:
            top = outbox.top_seq(session)
        if top > last:
            log.warning("server restored: re-pushing from seq %d", last + 1)
            self._mark_pending_from(last + 1)
            self.push(summary, touched)

    def _renumber_pending(self, first: int) -> None:
        with self.ctx.write("sync renumber", origin="sync") as session:
            shift = outbox.renumber_pending(session, first)
        log.warning("restored desk: waiting changes renumbered by %+d", shift)

    def _mark_pending_from(self, seq: int) -> None:
        with self.ctx.write("sync re-push", origin="sync") as session:
            outbox.mark_pending_from(session, seq)

    def pending_count(self) -> int:
        with self.ctx.read() as session:
            return outbox.pending_count(session)

    def status(self) -> SyncStatus:
        """Where this desk stands: enrolled where, last sync, changes waiting, refusals."""
        return sync_status(self.ctx)

    def wait_for_change(self, timeout_s: float = 20) -> bool:
        """Long-poll the server: True as soon as its change log passes this desk's cursor,
        False at the timeout. Raises SyncFailed when the server refuses to answer. The answer
        to a change brings the pull's first page (a current server): the next sync's pull
        starts from it instead of asking again, when nothing moved the cursor in between and
        the sync pushed nothing first."""
        self.ctx.woken_page = None
        state = self._state()
        unsent = state.pending
        params: dict[str, Any] = {
            "cursor": state.pull_cursor,
            "timeout": timeout_s,
            "changes": PULL_BATCH,
            "unsent": unsent,
        }
        if state.restored_at is not None:
            params["echo"] = "false"
        reply = self.transport.send(
            # after the wait, as long as a pull is given (the transport's 15 s): the answer
            # to a change now carries the pull's page
            "GET",
            Endpoint.WAIT,
            token=self.token,
            params=params,
            timeout=timeout_s + 15,
        )
        if not reply.ok:
            raise SyncFailed(reply.message)
        page, check = reply.body.get("pull"), reply.body.get("check")
        if isinstance(page, dict):
            # (the cursor it follows, the page, the check): on the context, for whichever
            # engine syncs next (the app's listener and its sync worker are two)
            self.ctx.woken_page = (state.pull_cursor, Reply(200, page),
                                check if isinstance(check, dict) else None)  # fmt: skip
        return WaitReply.from_json(reply.body).changed

    def _page(self, cursor: int, params: dict[str, Any], summary: SyncSummary) -> Reply:
        """The pull's page at ``cursor``: the one a long-poll brought, if it is for this
        cursor and this sync pushed nothing (its own changes come after that page); else
        asked for."""
        kept: WokenPage | None = self.ctx.woken_page
        self.ctx.woken_page = None
        if kept is not None and kept[0] == cursor and summary.pushed == 0:
            self.page_check = kept[2]
            return kept[1]
        self.page_check = None  # a page asked for: the check is asked for too
        if "unsent" not in params:
            params["unsent"] = self.pending_count()
        return self._call("GET", Endpoint.PULL, params={**params, "cursor": cursor})

    # -- pull -------------------------------------------------------------------------------
    def pull(
        self,
        summary: SyncSummary,
        touched: set[str],
        *,
        may_resync: bool = True,
        state: Standing | None = None,
        unsent: int | None = None,
    ) -> None:
        """Receive the clinic's changes. ``state`` and ``unsent``: this desk's sync state and
        how many changes wait, when the caller has just read them."""
        state = state or self._state()
        cursor = self._cursor = state.pull_cursor
        # After a restore from a backup, this desk's own later changes come back in full.
        # The server lists how many of this desk's changes wait to be sent (a stuck desk shows).
        unsent = self.pending_count() if unsent is None else unsent
        params: dict[str, Any] = {"limit": PULL_BATCH, "unsent": unsent}
        if state.restored_at is not None:
            params["echo"] = "false"
        decided = 0  # this desk's changes the server is seen to hold, answered or not
        while True:
            reply = self._page(cursor, params, summary)
            body = reply.body
            again = reply.status == 410 or (reply.ok and body["epoch"] != state.server_epoch)
            if again and may_resync:
                if reply.ok:  # a new epoch: the server may have lost changes it had accepted
                    self._repush_lost(summary, touched)
                self.resync(summary)
                return
            if not reply.ok or again:
                raise SyncFailed(f"The clinic server could not send changes: {reply.message}")
            changes = body["changes"]
            checkpoint("desk.pull.received")
            nothing = not changes and body["cursor"] == cursor and not body["more"]
            if nothing and state.restored_at is None:
                return  # nothing new: no write transaction (a no-op sync stays flat)
            with self.ctx.write("sync pull", origin="sync") as session:
                apply.begin_sync_apply(session)
                decided = max(decided, apply.decided_upto(session, changes))
                applied, missing = apply.apply_changes(session, changes, decided)
                values: dict[str, Any] = {"pull_cursor": body["cursor"]}
                if not body["more"]:
                    values["restored_at"] = None
                self._note_rows((c["entity"], c["row_id"]) for c in changes)
                touched.update(c["entity"] for c in changes)
                touched.update(missing)
                if self._page_checked(session, body, touched, missing, summary):
                    # the sync is done: its status is written with the page (one commit)
                    now = self.ctx.clock.now()
                    values.update(last_attempt_at=now, last_error=None, last_sync_at=now)
                    self.page_done, self.page_done_at = True, int(body["cursor"])
                self._write_state(session, values)
            checkpoint("desk.pull.applied")
            summary.pulled += applied
            cursor = self._cursor = body["cursor"]
            self.progress("Receiving changes", min(1.0, cursor / max(body["latest"], 1)))
            if not body["more"]:
                return

    def _write_state(self, session: Session, values: dict[str, Any]) -> None:
        raw = raw_rows.connection(session)
        if raw is None:
            session.execute(update(SyncState).where(SyncState.id == 1).values(**values))
            return
        table = Base.metadata.tables["sync_state"]
        dialect = session.get_bind().dialect
        raw_rows.update_many(raw, table, tuple(values), [{**values, "id": 1}], dialect)

    def _page_checked(
        self,
        session: Session,
        body: dict[str, Any],
        touched: set[str],
        missing: set[str],
        summary: SyncSummary,
    ) -> bool:
        """A woken long-poll's page that is the whole pull came with the check after it: compared
        in the page's own transaction (the kept figures, the rows' fingerprints, the audit
        heads kept), so the sync needs no other request and one commit. False when there is
        no such check, or anything differs or is not covered: the sync then checks as before
        (asking the server, which repairs a row, recounts, re-syncs a table)."""
        if (
            self.page_check is None
            or body["more"]
            or missing
            or summary.pending
            or summary.resynced
        ):
            return False
        if "clinic_settings" in touched:  # the settings' own round follows (sync())
            return False
        tables = sorted(touched)
        return self.check_from_page(
            tables, "audit_events" in touched, session=session, cursor=int(body["cursor"])
        )

    # -- re-sync from a snapshot ------------------------------------------------------------
    def resync(self, summary: SyncSummary, tables: list[str] | None = None) -> None:
        """Bring tables to the server's state. The outbox was pushed first; rows with local
        changes still pending are left alone, so nothing local is discarded."""
        reply = self._call("GET", Endpoint.SNAPSHOT)
        if not reply.ok:
            raise SyncFailed(f"The clinic server could not send a snapshot: {reply.message}")
        start = SnapshotStart.from_json(reply.body)
        counts = start.tables
        wanted = [t for t in counts if (tables is None or t in tables) and counts[t]]
        total = max(sum(counts[t] for t in wanted), 1)
        before = summary.snapshot_rows

        def progress(rows: int) -> None:
            summary.snapshot_rows = before + rows
            self.progress("Copying the clinic from the server", min(1.0, rows / total))

        pages = snapshot_load.PageFetcher(self._snapshot_page, wanted)
        snapshot_load.SnapshotLoader(self.ctx, progress).load(pages, first=tables is None)
        if tables is None:
            with self.ctx.write("sync snapshot done", origin="sync") as session:
                session.execute(
                    update(SyncState)
                    .where(SyncState.id == 1)
                    .values(pull_cursor=start.cursor, server_epoch=start.epoch)
                )
            summary.resynced = True
            # Catch up with what changed while the snapshot was taken.
            self.pull(summary, set(), may_resync=False)

    def _snapshot_page(self, name: str, after: str) -> dict[str, Any]:
        page = self._call(
            "GET",
            Endpoint.SNAPSHOT_TABLE.path(table=name),
            params={"after": after, "limit": SNAPSHOT_PAGE, "form": "columns"},
        )
        if not page.ok:
            raise SyncFailed(f"The snapshot stopped: {page.message}")
        return page.body

    def _blank_settings(self) -> str | None:
        """A new desk made blank clinic settings when it first opened ("My clinic", before
        anyone could sign in). Joining a clinic that has its settings, that row is not the
        clinic's: it is never sent (unsigned, the server refused it and the new desk showed
        "1 refused by the server"), and it is removed once the snapshot has brought the
        clinic's (the server never had it). Only an untouched row qualifies: one
        edited here has changes waiting."""
        with self.ctx.read() as session:
            rows = session.execute(select(ClinicSettings.id, ClinicSettings.version)).all()
            if len(rows) != 1 or rows[0].version != 0:
                return None
            if not outbox.only_made_here(session, "clinic_settings", rows[0].id):
                return None
        reply = self._call("GET", Endpoint.SNAPSHOT)
        if not reply.ok or not SnapshotStart.from_json(reply.body).tables.get("clinic_settings"):
            return None  # a clinic without settings yet: this desk's become the clinic's
        row_id: str = rows[0].id
        with self.ctx.write("keep blank settings back", origin="sync") as session:
            outbox.drop_unsent(session, "clinic_settings", row_id)
        return row_id

    def _set_blank_aside(self, row_id: str) -> None:
        """The blank row never left this desk: it goes as if it had never been made."""
        with self.ctx.write("use the clinic's settings", origin="sync") as session:
            if outbox.pending_row_ids(session) & {row_id}:
                return  # changed here since: kept, and sent like any other change
            session.execute(delete(ClinicSettings).where(ClinicSettings.id == row_id))

    def _one_clinic_settings(self) -> bool:
        """Desks that started apart each made clinic settings; the clinic keeps the oldest.
        Every desk makes the same choice, so they agree without asking each other."""
        with self.ctx.read() as session:
            rows = session.execute(
                select(ClinicSettings.id, ClinicSettings.version)
                .where(ClinicSettings.deleted_at.is_(None))
                .order_by(ClinicSettings.created_at, ClinicSettings.id)
            ).all()
        extras = [r.id for r in rows[1:] if r.version > 0]
        if not extras:
            return False
        with self.ctx.write("use the clinic's settings") as session:
            for row_id in extras:
                row = session.get(ClinicSettings, row_id)
                if row is not None and row.deleted_at is None:
                    row.deleted_at = self.ctx.clock.now()
        return True
