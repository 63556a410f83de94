"""Applying what the server sends to the desk database: pulled changes and snapshot rows.

Runs inside a ``ctx.write(origin="sync")`` transaction (no outbox, no audit; views get a
ChangeNotice with origin "sync"). A change older than the row the desk holds is skipped; fields
with a local change still waiting to be pushed are left alone (the server merges them), unless
the pull shows the server already holds that change (its answer was lost).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from frontdesk.models import Base, NumberSeries
from frontdesk.models.codec import from_json_value
from frontdesk.protocol import LOCAL_ONLY
from frontdesk.store import outbox, raw_rows
from frontdesk.store.numbering import placeholder_series
from frontdesk.store.order import table_rank
from frontdesk.store.tracking import TRACKING_KEY, Tracking
from frontdesk.sync import proofcheck


def desk_table(name: str) -> Table | None:
    if name in LOCAL_ONLY and name != "number_series":
        return None
    return Base.metadata.tables.get(name)


def decode(table: Table, fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in table.c:  # a field this desk does not know (newer server) is ignored
            out[key] = from_json_value(table.c[key], value)
    return out


def begin_sync_apply(session: Session) -> None:
    """Parents and children may arrive in one batch in any order: check links at commit."""
    raw = raw_rows.connection(session)
    if raw is not None:
        raw.execute("PRAGMA defer_foreign_keys=ON")
    else:
        session.execute(text("PRAGMA defer_foreign_keys=ON"))


def _collect(session: Session, table: str, row_id: str) -> None:
    tracking: Tracking | None = session.info.get(TRACKING_KEY)
    if tracking is not None:
        tracking.collector.add(table, row_id)


def ensure_series(session: Session, entity: str, values: dict[str, Any]) -> None:
    """An invoice from another desk names that desk's series: keep a placeholder row."""
    series_id = values.get("series_id")
    if entity not in ("invoices", "credit_notes") or not series_id:
        return
    if session.get(NumberSeries, series_id) is None:
        session.execute(
            insert(NumberSeries).values(
                **placeholder_series(entity, series_id, values.get("created_at"))
            )
        )


def _own_fields(session: Session, mutation_id: str | None) -> set[str]:
    if not mutation_id:
        return set()
    return outbox.fields_of(session, mutation_id)


def _local_versions(session: Session, table: Table, ids: list[str]) -> dict[str, int]:
    raw = raw_rows.connection(session)
    if raw is not None:
        found = raw_rows.select_by_ids(
            raw, table, ids, session.get_bind().dialect, ("id", "version")
        )
        return {r["id"]: int(r["version"]) for r in found}
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(table.c.id, table.c.version).where(table.c.id.in_(ids[start : start + 500]))
        ).all()
        out.update({r[0]: int(r[1]) for r in rows})
    return out


def decided_upto(session: Session, changes: list[dict[str, Any]]) -> int:
    """The server logs this desk's changes in sequence order, naming each (``mutation_id``):
    a pulled one shows it has decided every change of this desk up to that one, even those
    whose answers were lost and still wait here to be pushed again (0: none is named)."""
    return outbox.latest_seq_of(
        session, (c["mutation_id"] for c in changes if c.get("mutation_id"))
    )


def apply_changes(
    session: Session, changes: list[dict[str, Any]], decided: int = 0
) -> tuple[int, set[str]]:
    """Apply pulled changes. Several changes to one row in a batch are folded into one (later
    fields win); rows are then written with one executemany per table and field set. Fields
    with a local change still waiting are kept, except changes up to outbox number
    ``decided``, which the server already holds (see ``decided_upto``).
    Returns (rows changed, tables whose rows were missing here)."""
    folded: dict[tuple[str, str], dict[str, Any]] = {}
    left_out = proofcheck.unproven(session, changes)
    for i, change in enumerate(changes):
        if i in left_out:
            continue
        table = desk_table(change["entity"])
        if table is None or "version" not in table.c:
            continue
        key = (table.name, change["row_id"])
        item = folded.get(key)
        if change.get("echo"):
            if item is None:
                folded[key] = {
                    "table": table,
                    "op": "echo",
                    "version": change["version"],
                    "fields": {},
                }
            else:  # this desk's own change came after others in the batch: its fields win
                item["version"] = max(item["version"], change["version"])
                for field in _own_fields(session, change.get("mutation_id")):
                    item["fields"].pop(field, None)
            continue
        if item is None:
            folded[key] = {
                "table": table,
                "op": change["op"],
                "version": change["version"],
                "fields": dict(change["fields"]),
            }
        else:
            item["fields"].update(change["fields"])
            item["version"] = max(item["version"], change["version"])
    waiting = outbox.pending_fields(session, (rid for _t, rid in folded), after_seq=decided)
    local: dict[str, int] = {}
    for name in {t for t, _r in folded}:
        ids = [rid for t, rid in folded if t == name]
        local.update(_local_versions(session, Base.metadata.tables[name], ids))
    inserts: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    updates: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    missing: set[str] = set()
    for (name, row_id), item in folded.items():
        table = item["table"]
        values = decode(table, item["fields"])
        values.pop("version", None)
        if row_id not in local:
            if item["op"] != "insert":  # an echo of a row this desk no longer has, or a gap
                missing.add(name)
                continue
            values["id"] = row_id
            values["version"] = item["version"]
            ensure_series(session, name, values)
            inserts.setdefault((name, tuple(sorted(values))), []).append(values)
        else:
            if item["version"] <= local[row_id]:
                continue
            for k in waiting.get(row_id, ()):
                values.pop(k, None)
            values.pop("id", None)
            ensure_series(session, name, values)
            values["version"] = item["version"]
            cols = tuple(sorted(values))
            values["id"] = row_id
            updates.setdefault((name, cols), []).append(values)
        _collect(session, name, row_id)
    _write(session, inserts, updates)
    return sum(len(r) for r in inserts.values()) + sum(len(r) for r in updates.values()), missing


Grouped = dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]]


def _write(session: Session, inserts: Grouped, updates: Grouped) -> None:
    """The folded rows: one executemany per table and set of columns, parents first. On the
    desk's SQLite through its own connection (``store/raw_rows.py``: the same values bound,
    no statement built each time: a woken desk applies a page of a row or two)."""
    order = table_rank()
    dialect = session.get_bind().dialect
    raw = raw_rows.connection(session)
    for (name, _keys), rows in sorted(inserts.items(), key=lambda kv: order[kv[0][0]]):
        table = Base.metadata.tables[name]
        if raw is None or not raw_rows.insert_many(raw, table, rows, dialect):
            session.execute(insert(table), rows)
    for (name, cols), rows in updates.items():
        table = Base.metadata.tables[name]
        if raw is not None:
            raw_rows.update_many(raw, table, cols, rows, dialect)
        else:
            session.execute(
                update(table).where(table.c.id == bindparam("b_id")),
                [{**{k: v for k, v in r.items() if k != "id"}, "b_id": r["id"]} for r in rows],
            )


def put_back(session: Session, entity: str, row: dict[str, Any]) -> bool:
    """A change the server refused: put the row back as the clinic holds it (whatever its
    version), unless the desk has made further changes to it that are still waiting."""
    table = desk_table(entity)
    if table is None or "version" not in table.c:
        return False
    values = decode(table, row)
    row_id = values.pop("id", None)
    if not row_id or outbox.pending_fields(session, [row_id]):
        return False
    # The clinic's row may name what this desk does not hold yet: another desk's number series
    # (an invoice it issued first) gets its placeholder; anything else arrives with the pull,
    # which brings the row too, so a put-back that cannot be made yet is left to it.
    ensure_series(session, entity, values)
    try:
        with session.begin_nested():
            session.execute(update(table).where(table.c.id == row_id).values(**values))
    except IntegrityError:
        return False
    _collect(session, entity, row_id)
    return True


def withdraw(session: Session, entity: str, row_id: str, now: Any) -> bool:
    """A new record the server refused for good: tombstone it here too (no outbox), unless
    the desk has made further changes to it that are still waiting."""
    table = desk_table(entity)
    if table is None or "deleted_at" not in table.c or outbox.pending_fields(session, [row_id]):
        return False
    session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.deleted_at.is_(None))
        .values(deleted_at=now)
    )
    _collect(session, entity, row_id)
    return True


def drop_audit_entry(session: Session, row_id: str) -> None:
    """An audit entry the server refused as another desk's: it leaves this desk too."""
    table = Base.metadata.tables["audit_events"]
    session.execute(table.delete().where(table.c.id == row_id))
    _collect(session, "audit_events", row_id)
