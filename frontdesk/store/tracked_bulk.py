"""Tracked bulk writes: many inserts and updates of synced rows inside a ``ctx.write``
transaction, each recorded exactly as the flush hook records an ORM change (an outbox row with
its proof, a hash-chained audit event and its outbox row, the change notice) — but written with
one ``executemany`` per table and per kind of row instead of one ORM flush of every object.

For imports that touch thousands of rows at once (a funder's remittance). The values are bound
as the ORM binds them (``store/bulk.py``'s ``sqlite_value``), so the rows read back the same.
The ledger summary's triggers are paused for the load and the summary rows of the invoices and
payments it touched are refreshed once at the end (a trigger per allocation would re-add a
payment's allocations once for each of them).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from frontdesk.db import ledger_summary
from frontdesk.db.types import key_blob
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.ids import uuid7
from frontdesk.models.base import SyncedMixin
from frontdesk.models.codec import to_json_value
from frontdesk.models.system import AuditEvent
from frontdesk.store import outbox
from frontdesk.store.bulk import BulkWriter, quoted, raw_connection, sqlite_value, stored_value
from frontdesk.store.tracking import (
    TRACKING_KEY,
    Change,
    Tracking,
    audit_full,
    log_rows,
    patient_of,
)

_STAMPS = frozenset({"version", "created_at", "updated_at"})


def _table(model: type[SyncedMixin]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def _refuse_nul(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationFailed(
                f"{key.replace('_', ' ').capitalize()} cannot contain a NUL character.", field=key
            )


class TrackedBulk:
    """Collects inserts and updates, then ``flush`` writes them and their change log in the
    session's transaction. Use inside ``ctx.write``; call ``flush`` before it ends."""

    def __init__(self, session: Session, *, audit_each_row: bool = True) -> None:
        """``audit_each_row=False``: the rows' changes still go to the outbox one by one (every
        desk receives every row), but no audit event per row — the caller records one event
        for the whole batch (``tracking.record_event``) saying what it did."""
        tracking: Tracking | None = session.info.get(TRACKING_KEY)
        if tracking is None:
            raise RuntimeError("tracked bulk writes need a ctx.write transaction")
        self.session, self.tracking = session, tracking
        self.audit_each_row = audit_each_row
        self._inserts: dict[type[SyncedMixin], list[dict[str, Any]]] = defaultdict(list)
        # (model, columns) -> rows of values in column order, id last
        self._updates: dict[tuple[type[SyncedMixin], tuple[str, ...]], list[list[Any]]] = (
            defaultdict(list)
        )
        self._changes: list[Change] = []
        self._touched: list[SyncedMixin] = []

    def insert(self, model: type[SyncedMixin], **values: Any) -> str:
        """A new row (id made if missing); returns its id."""
        _refuse_nul(values)
        values.setdefault("id", uuid7())
        now = self.tracking.now
        values.update(version=0, created_at=now, updated_at=now)
        table = _table(model)
        after = {
            c.name: to_json_value(values.get(c.name, _default(c)))
            for c in table.columns
            if c.name not in _STAMPS
        }
        self._inserts[model].append(values)
        patient = values["id"] if table.name == "patients" else values.get("patient_id")
        self._changes.append(Change(model, values["id"], "insert", {}, after, 0, now, now, patient))
        return str(values["id"])

    def update(self, obj: SyncedMixin, **values: Any) -> None:
        """Change columns of a row loaded in this session (the object itself is left as it was
        and expired after ``flush``, so it reads the new values)."""
        _refuse_nul(values)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, value in values.items():
            old = getattr(obj, key)
            if old != value:
                before[key] = to_json_value(old)
                after[key] = to_json_value(value)
        if not after:
            return
        now = self.tracking.now
        cols = tuple(sorted(after))
        table = _table(type(obj))
        row = [stored_value(table.c[c], values[c]) for c in cols]
        row += [sqlite_value(now), key_blob(obj.id)]
        self._updates[(type(obj), cols)].append(row)
        self._changes.append(
            Change(
                type(obj),
                obj.id,
                "update",
                before,
                after,
                obj.version or 0,
                obj.created_at,
                now,
                patient_of(obj),
            )
        )
        self._touched.append(obj)

    def flush(self) -> None:
        """Write the rows, then their outbox rows and audit events: one executemany each."""
        session = self.session
        session.flush()  # anything the ORM holds goes first, in its own order
        conn = raw_connection(session)
        allocations = self._inserts.get(_model("payment_allocations"), [])
        if allocations:
            conn.executemany("UPDATE ledger_summary_state SET paused = 1 WHERE id = 1", [()])
        for model, rows in sorted(self._inserts.items(), key=lambda kv: _rank(kv[0])):
            writer = BulkWriter(conn, _table(model))
            for values in rows:
                writer.add(**values)
            writer.flush()
        for (model, cols), changed in self._updates.items():
            sets = ", ".join(f"{quoted(c)} = ?" for c in (*cols, "updated_at"))
            conn.executemany(
                f"UPDATE {quoted(_table(model).name)} SET {sets} WHERE id = ?", changed
            )
        if allocations:
            conn.executemany("UPDATE ledger_summary_state SET paused = 0 WHERE id = 1", [()])
            _refresh_summary(
                conn,
                sorted({a["invoice_id"] for a in allocations}),
                sorted({a["payment_id"] for a in allocations}),
            )
        outbox_rows, audit_rows = log_rows(
            session.connection(), self.tracking, self._changes, audit=self.audit_each_row
        )
        events = BulkWriter(conn, _table(AuditEvent))
        for row in audit_rows:
            events.add(**audit_full(row, self.tracking.now))
        events.flush()
        outbox.bulk_append(conn, outbox_rows)
        for obj in self._touched:
            session.expire(obj)
        self._inserts.clear()
        self._updates.clear()
        self._changes = []
        self._touched = []


def _refresh_summary(conn: Any, invoice_ids: list[str], payment_ids: list[str]) -> None:
    """The ledger summary rows of these invoices and payments, as the triggers would leave
    them (``db/ledger_summary.py``'s own statements, one executemany each)."""
    for refresh, ids in (
        (ledger_summary.refresh_invoice, invoice_ids),
        (ledger_summary.refresh_payment, payment_ids),
    ):
        for statement in refresh("?").split(";"):
            if statement.strip():
                conn.executemany(statement, [(key_blob(i),) * statement.count("?") for i in ids])


def _default(column: Any) -> Any:
    arg = getattr(column.default, "arg", None)
    return None if callable(arg) else arg


def _model(table: str) -> type[SyncedMixin]:
    from frontdesk.models.base import synced_tables

    return synced_tables()[table]


def _rank(model: type[SyncedMixin]) -> int:
    from frontdesk.store.order import table_rank

    return table_rank().get(_table(model).name, 0)
