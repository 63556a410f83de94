"""The sync outbox: every local change waiting for (or answered by) the clinic server.

The one module that reads or writes the ``sync_outbox`` table: rows are built by ``outbox_row``
(the flush hook, audit events and the bulk patient import all use it), numbered gaplessly by
``next_seq`` inside the write transaction, and read back by the sync engine (pending changes,
answers, refusals) and the backup restore (renumbering).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    ScalarSelect,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from frontdesk.domain.ids import uuid7
from frontdesk.models.system import SyncOutbox, SyncState
from frontdesk.protocol import Mutation
from frontdesk.store import raw_rows
from frontdesk.store.bulk import BulkWriter, RawConnection

PENDING = "pending"
REJECTED = "rejected"

_OUTBOX = SyncOutbox.__table__
assert isinstance(_OUTBOX, Table)
OUTBOX: Table = _OUTBOX


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- writing ------------------------------------------------------------------------------------
def outbox_row(
    seq: int,
    *,
    entity: str,
    row_id: str,
    op: str,
    fields: dict[str, Any],
    base_version: int,
    hlc: str,
    now: datetime,
    seen_cursor: int | None = None,
) -> dict[str, Any]:
    """One outbox row: a change of one row, its changed fields as JSON values, and how far the
    desk had pulled the clinic's changes when it was made (``seen_cursor``)."""
    return {
        "seq": seq,
        "mutation_id": uuid7(),
        "entity": entity,
        "row_id": row_id,
        "op": op,
        "fields_json": canonical_json(fields),
        "base_version": base_version,
        "seen_cursor": seen_cursor,
        "hlc": hlc,
        "created_at": now,
        "state": PENDING,
        "proof_json": None,
    }


def next_seq(conn: Connection) -> int:
    """The next gapless outbox number (the write transaction holds the database lock)."""
    return int(conn.execute(select(func.coalesce(func.max(OUTBOX.c.seq), 0))).scalar_one()) + 1


def top_seq_column() -> ScalarSelect[Any]:
    """The newest outbox number (0 if none), as a column of a larger select: the flush hook
    reads it with the audit chain's head and the pull cursor in one statement."""
    return select(func.coalesce(func.max(OUTBOX.c.seq), 0)).scalar_subquery()


def seen_cursor_column() -> ScalarSelect[Any]:
    """``seen_cursor`` as a column of a larger select."""
    return select(SyncState.pull_cursor).where(SyncState.id == 1).scalar_subquery()


def seen_cursor(conn: Connection) -> int | None:
    """How far this desk has pulled the clinic's changes (what the person could have seen)."""
    return conn.execute(select(SyncState.pull_cursor).where(SyncState.id == 1)).scalar()


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(SyncOutbox), rows)


def bulk_append(conn: RawConnection, rows: list[dict[str, Any]]) -> None:
    """Append outbox rows through the raw connection (bulk writes such as the patient import)."""
    writer = BulkWriter(conn, OUTBOX)
    for row in rows:
        writer.add(**row)
    writer.flush()


def renumber_pending(session: Session, first: int) -> int:
    """Give the changes still waiting in the outbox the numbers from ``first`` on, keeping
    their order (after a restore: the server already holds this desk's changes up to
    ``first - 1``). Returns the shift applied."""
    pending = OUTBOX.c.state == PENDING
    low = session.scalar(select(func.min(OUTBOX.c.seq)).where(pending))
    if low is None:
        return 0
    shift = first - int(low)
    # Two steps, so no number is ever held twice mid-statement.
    session.execute(update(OUTBOX).where(pending).values(seq=-(OUTBOX.c.seq + shift)))
    session.execute(update(OUTBOX).where(OUTBOX.c.seq < 0).values(seq=-OUTBOX.c.seq))
    return shift


def only_made_here(session: Session, entity: str, row_id: str) -> bool:
    """The row's only change is its unsigned insert, never sent (or none is left): nobody has
    changed it since it was made on this desk."""
    entries = session.execute(
        select(OUTBOX.c.op, OUTBOX.c.state, OUTBOX.c.proof_json).where(
            OUTBOX.c.entity == entity, OUTBOX.c.row_id == row_id
        )
    ).all()
    return len(entries) <= 1 and all(
        e.op == "insert" and e.state == PENDING and not e.proof_json for e in entries
    )


def drop_unsent(session: Session, entity: str, row_id: str) -> None:
    """Take a row's changes, never sent, out of the outbox; the changes after them close up,
    so the server still receives one unbroken sequence from this desk."""
    mine = (OUTBOX.c.entity == entity) & (OUTBOX.c.row_id == row_id) & (OUTBOX.c.state == PENDING)
    low = session.scalar(select(func.min(OUTBOX.c.seq)).where(mine))
    if low is None:
        return
    session.execute(OUTBOX.delete().where(mine))
    later = session.scalars(
        select(OUTBOX.c.seq).where(OUTBOX.c.seq > low).order_by(OUTBOX.c.seq)
    ).all()
    # Two steps, so no number is ever held twice mid-statement.
    moves = [{"was": seq, "now": -(int(low) + n)} for n, seq in enumerate(later)]
    if moves:
        session.execute(
            update(OUTBOX).where(OUTBOX.c.seq == bindparam("was")).values(seq=bindparam("now")),
            moves,
        )
        session.execute(update(OUTBOX).where(OUTBOX.c.seq < 0).values(seq=-OUTBOX.c.seq))


def mark_pending_from(session: Session, seq: int) -> None:
    """Send again every change from ``seq`` on (the server lost them in a restore)."""
    session.execute(update(SyncOutbox).where(SyncOutbox.seq >= seq).values(state=PENDING))


def record_answers(session: Session, answers: list[dict[str, Any]], now: datetime) -> None:
    """Store the server's answer to each pushed change (``mutation_id``, ``status``…)."""
    rows = [
        {
            "m_id": a["mutation_id"],
            "state": str(a.get("status")),
            "result_json": json.dumps(a),
            "answered_at": now,
        }
        for a in answers
    ]
    if rows:
        session.execute(update(OUTBOX).where(OUTBOX.c.mutation_id == bindparam("m_id")), rows)


def accept_seeded(session: Session, delivered: int, now: datetime) -> None:
    """The server was seeded from this desk's file up to outbox number ``delivered``: those
    changes are answered; later updates were based on the seeded rows (version 1)."""
    session.execute(
        update(SyncOutbox)
        .where(
            SyncOutbox.state == PENDING,
            SyncOutbox.seq > delivered,
            SyncOutbox.op == "update",
            SyncOutbox.base_version == 0,
        )
        .values(base_version=1)
    )
    session.execute(
        update(SyncOutbox)
        .where(SyncOutbox.state == PENDING, SyncOutbox.seq <= delivered)
        .values(
            state="applied",
            answered_at=now,
            result_json='{"status": "applied", "reason": "in the server\'s first copy"}',
        )
    )


def drop_answered(session: Session) -> None:
    """Forget every answered change (a restored backup of another desk)."""
    session.execute(delete(SyncOutbox).where(SyncOutbox.state != PENDING))


def as_mutation(row: SyncOutbox) -> Mutation:
    """An outbox row as the protocol sends it."""
    return Mutation(
        mutation_id=row.mutation_id,
        seq=row.seq,
        entity=row.entity,
        row_id=row.row_id,
        op=row.op,
        base_version=row.base_version,
        hlc=row.hlc,
        fields=json.loads(row.fields_json),
        cursor=row.seen_cursor,
        proof=json.loads(row.proof_json) if row.proof_json else None,
    )


# -- reading ------------------------------------------------------------------------------------
def pending(session: Session, limit: int) -> Sequence[SyncOutbox]:
    """The oldest changes waiting to be sent, in sequence order."""
    return session.scalars(
        select(SyncOutbox).where(SyncOutbox.state == PENDING).order_by(SyncOutbox.seq).limit(limit)
    ).all()


# The same count in raw SQL, to read with other figures in one statement (sync/engine.py)
PENDING_COUNT_SQL = f"SELECT count(*) FROM sync_outbox WHERE state = '{PENDING}'"


def pending_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(SyncOutbox).where(SyncOutbox.state == PENDING)
        )
        or 0
    )


def top_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(SyncOutbox.seq))) or 0)


def pending_row_ids(session: Session) -> set[str]:
    """Ids of rows with local changes not yet accepted by the server."""
    rows = session.execute(select(SyncOutbox.row_id).where(SyncOutbox.state == PENDING).distinct())
    return {r[0] for r in rows}


def pending_fields(
    session: Session, row_ids: Iterable[str], after_seq: int = 0
) -> dict[str, set[str]]:
    """Fields of each row that have local changes not yet accepted by the server. Changes up
    to ``after_seq`` are left out: the server is known to have decided them (their answers
    were lost), so what it holds for their fields is the clinic's."""
    ids = list(set(row_ids))
    out: dict[str, set[str]] = {}
    raw = raw_rows.connection(session)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if raw is not None:  # (a woken desk's one-row page: no statement built)
            rows = raw.execute(
                "SELECT row_id, fields_json FROM sync_outbox WHERE state = ? AND seq > ?"
                f" AND row_id IN ({', '.join('?' * len(chunk))})",
                [PENDING, after_seq, *chunk],
            ).fetchall()
        else:
            rows = session.execute(
                select(SyncOutbox.row_id, SyncOutbox.fields_json).where(
                    SyncOutbox.state == PENDING,
                    SyncOutbox.seq > after_seq,
                    SyncOutbox.row_id.in_(chunk),
                )
            ).all()
        for row_id, fields_json in rows:
            out.setdefault(row_id, set()).update(json.loads(fields_json))
    return out


def latest_seq_of(session: Session, mutation_ids: Iterable[str]) -> int:
    """The highest outbox number among these changes of this desk (0 if none is here)."""
    ids = list(set(mutation_ids))
    top = 0
    for start in range(0, len(ids), 500):
        found = session.scalar(
            select(func.max(SyncOutbox.seq)).where(
                SyncOutbox.mutation_id.in_(ids[start : start + 500])
            )
        )
        top = max(top, int(found or 0))
    return top


def fields_of(session: Session, mutation_id: str) -> set[str]:
    """The fields one change of this desk carried."""
    fields_json = session.scalar(
        select(SyncOutbox.fields_json).where(SyncOutbox.mutation_id == mutation_id)
    )
    return set(json.loads(fields_json)) if fields_json else set()


def changes_named(session: Session, mutation_ids: list[str]) -> Sequence[Any]:
    """(entity, row_id, op) of these changes."""
    return session.execute(
        select(SyncOutbox.entity, SyncOutbox.row_id, SyncOutbox.op).where(
            SyncOutbox.mutation_id.in_(mutation_ids)
        )
    ).all()


def unsent_audit_entry(session: Session, audit_ids: Any) -> str | None:
    """An audit entry this desk's outbox names that is no longer among ``audit_ids``."""
    return session.scalar(
        select(SyncOutbox.row_id)
        .where(SyncOutbox.entity == "audit_events")
        # the outbox names rows by their key's text; the desk stores keys as 16 bytes
        .where(func.key_blob(SyncOutbox.row_id).not_in(audit_ids))
        .limit(1)
    )


def refusal_count(session: Session, seen_seq: int) -> int:
    """Refused changes after ``seen_seq`` (those a person has not marked as read)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(SyncOutbox)
            .where(SyncOutbox.state == REJECTED, SyncOutbox.seq > seen_seq)
        )
        or 0
    )


def refusals(session: Session, seen_seq: int, limit: int) -> Sequence[SyncOutbox]:
    """Refused changes after ``seen_seq``, newest first."""
    return session.scalars(
        select(SyncOutbox)
        .where(SyncOutbox.state == REJECTED, SyncOutbox.seq > seen_seq)
        .order_by(SyncOutbox.seq.desc())
        .limit(limit)
    ).all()


# -- a desk file read without SQLAlchemy (backups, seeding the server) ---------------------------
def last_seq_in_file(conn: sqlite3.Connection, *, answered_only: bool = False) -> int:
    """The newest outbox number in a desk file (only those the server answered, if asked)."""
    where = f" WHERE state != '{PENDING}'" if answered_only else ""
    return int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM sync_outbox{where}").fetchone()[0])
