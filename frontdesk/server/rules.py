"""Server rules applied after a change: sensitive-field conflicts, booking clashes (kept,
flagged, recorded for a person) and the per-desk number series."""

from __future__ import annotations

import json
from bisect import bisect_left
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from frontdesk.domain.ids import uuid7
from frontdesk.models.codec import to_json_value
from frontdesk.protocol import number_prefix
from frontdesk.server import schema as s
from frontdesk.server.changelog import (
    SERVER_DEVICE,
    TABLES,
    current_row,
    flush_rows,
    full_row,
    last_change,
    log_change,
    remember_row,
)
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.store.numbering import placeholder_series

# A message the sender has claimed or handed over: it cannot be called back.
GONE = frozenset({"sending", "sent", "delivered", "failed"})


def late_withdrawal(
    entity: str, fields: dict[str, Any], row: dict[str, Any], changed_since: set[str]
) -> frozenset[str]:
    """A desk that had not yet heard that a message went withdraws it (its appointment was
    moved or cancelled meanwhile): the message went all the same, so the clinic keeps its
    status and error as the sender recorded them (the fields returned), and the sender's next
    round queues the notice of the move or cancellation (``queueing.notices_owed``)."""
    if (
        entity != "outgoing_messages"
        or fields.get("status") != "cancelled"
        or "status" not in changed_since
        or row.get("status") not in GONE
    ):
        return frozenset()
    return frozenset({"status", "error"} & set(fields))


def insert_conflict(store: ServerStore, conn: Connection, values: dict[str, Any]) -> None:
    """Store a conflict record and put it in the change log, so every desk receives it."""
    table = TABLES["sync_conflicts"]
    flush_rows(conn, "sync_conflicts")
    conn.execute(insert(table).values(**values))
    log_change(
        store, conn, "sync_conflicts", values["id"], "insert", 1, full_row(table, values),
        SERVER_DEVICE, None,
    )  # fmt: skip


def record_conflict(
    store: ServerStore, conn: Connection, m: Any, key: str, mine: Any, theirs: Any
) -> None:
    now = store.now()
    values = {
        "id": uuid7(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "kind": "field",
        "entity": m.entity,
        "row_id": m.row_id,
        "field": key,
        "local_value_json": json.dumps(to_json_value(mine)),
        "remote_value_json": json.dumps(to_json_value(theirs)),
        "detail": f"{key.replace('_', ' ')} was changed on two desks",
    }
    insert_conflict(store, conn, values)


def check_clash(
    store: ServerStore, conn: Connection, device: Device, me: dict[str, Any], cursor: int
) -> None:
    """Overlapping bookings for one practitioner or room that this desk could not have seen:
    keep both, flag both, and record a clash for a person to sort out. ``me`` is the booking
    as it now stands on the server."""
    check_clashes(store, conn, device, [me], cursor)


def _live(me: dict[str, Any]) -> bool:
    return me["status"] != "cancelled" and me["deleted_at"] is None


def check_clashes(
    store: ServerStore,
    conn: Connection,
    device: Device,
    bookings: list[dict[str, Any]],
    cursor: int,
) -> None:
    """``check_clash`` for several bookings (as they now stand), with one query for all:
    every live booking of their practitioners and rooms within their overall time span."""
    flush_rows(conn, "appointments")
    live = [me for me in bookings if _live(me)]
    if not live:
        return
    appts = TABLES["appointments"]
    pracs = {me["practitioner_id"] for me in live}
    rooms = {me["room_id"] for me in live if me["room_id"] is not None}
    same_place: ColumnElement[bool] = appts.c.practitioner_id.in_(pracs)
    if rooms:
        same_place = or_(same_place, appts.c.room_id.in_(rooms))
    rows = conn.execute(
        select(
            appts.c.id, appts.c.practitioner_id, appts.c.room_id, appts.c.starts_at, appts.c.ends_at
        ).where(
            appts.c.status != "cancelled",
            appts.c.deleted_at.is_(None),
            appts.c.starts_at < max(me["ends_at"] for me in live),
            appts.c.ends_at > min(me["starts_at"] for me in live),
            same_place,
        )
    ).all()
    by_prac: dict[Any, list[Any]] = {}
    by_room: dict[Any, list[Any]] = {}
    for r in rows:
        by_prac.setdefault(r.practitioner_id, []).append(r)
        if r.room_id is not None:
            by_room.setdefault(r.room_id, []).append(r)
    prac_index = {k: _Span(v) for k, v in by_prac.items()}
    room_index = {k: _Span(v) for k, v in by_room.items()}
    for me in live:
        found: dict[str, Any] = {}
        span = prac_index.get(me["practitioner_id"])
        if span is not None:
            found.update((r.id, r) for r in span.overlapping(me))
        if me["room_id"] is not None and (span := room_index.get(me["room_id"])) is not None:
            found.update((r.id, r) for r in span.overlapping(me))
        found.pop(str(me["id"]), None)
        if found:
            _record_clashes(store, conn, device, me, list(found.values()), cursor)


class _Span:
    """Bookings of one practitioner or room, sorted by start, for overlap look-ups."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = sorted(rows, key=lambda r: r.starts_at)
        self.starts = [r.starts_at for r in self.rows]
        self.longest = max(r.ends_at - r.starts_at for r in self.rows)

    def overlapping(self, me: dict[str, Any]) -> list[Any]:
        lo = bisect_left(self.starts, me["starts_at"] - self.longest)
        hi = bisect_left(self.starts, me["ends_at"])
        return [
            r
            for r in self.rows[lo:hi]
            if r.starts_at < me["ends_at"] and r.ends_at > me["starts_at"]
        ]


def _record_clashes(
    store: ServerStore,
    conn: Connection,
    device: Device,
    me: dict[str, Any],
    others: list[Any],
    cursor: int,
) -> None:
    appt_id = str(me["id"])
    for other in others:
        last = last_change(conn, "appointments", other.id, skip_device=SERVER_DEVICE)
        if last is None or last[0] <= cursor or last[1] == device.id:
            continue  # the desk saw that booking before making this one: its own choice
        if _open_clash_exists(conn, appt_id, other.id):
            continue
        for aid in (appt_id, other.id):
            _flag(store, conn, aid)
        now = store.now()
        what = "practitioner" if other.practitioner_id == me["practitioner_id"] else "room"
        values = {
            "id": uuid7(),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "kind": "clash",
            "entity": "appointments",
            "row_id": appt_id,
            "other_row_id": other.id,
            "detail": f"Two bookings overlap for the same {what}, made on different desks.",
        }
        insert_conflict(store, conn, values)


def _open_clash_exists(conn: Connection, a: str, b: str) -> bool:
    flush_rows(conn, "sync_conflicts")
    c = TABLES["sync_conflicts"].c
    pair = or_(and_(c.row_id == a, c.other_row_id == b), and_(c.row_id == b, c.other_row_id == a))
    found = conn.execute(
        select(func.count()).where(c.kind == "clash", c.resolved_at.is_(None), pair)
    ).scalar()
    return bool(found)


def _flag(store: ServerStore, conn: Connection, appt_id: str) -> None:
    appts = TABLES["appointments"]
    row = current_row(conn, "appointments", appt_id)
    if row is None or row["clash_flagged"]:
        return
    version = int(row["version"]) + 1
    now = store.now()
    conn.execute(
        update(appts)
        .where(appts.c.id == appt_id)
        .values(clash_flagged=True, version=version, updated_at=now)
    )
    remember_row(
        conn, "appointments", {**row, "clash_flagged": True, "version": version, "updated_at": now}
    )
    log_change(
        store,
        conn,
        "appointments",
        appt_id,
        "update",
        version,
        {"clash_flagged": True, "updated_at": now},
        SERVER_DEVICE,
        None,
    )


# The numbered tables: which column holds the number a desk gives from its own series.
NUMBERED = {"invoices": "number", "credit_notes": "number", "payments": "receipt_number"}
_SERIES_KIND = {"invoices": "invoice", "credit_notes": "credit_note", "payments": "receipt"}


def check_series(conn: Connection, device: Device, entity: str, number: str) -> None:
    """A desk numbers invoices (credit notes, receipts) only from its own series; the prefix
    of any other desk is refused, unless that desk was revoked (its computer is gone and
    another desk restored its backup, sending what it had not). A prefix nobody holds yet (a
    desk's series from before enrolment) is claimed."""
    prefix = number_prefix(number)
    owner = conn.execute(
        select(s.series_registry.c.device_id).where(s.series_registry.c.prefix == prefix)
    ).scalar()
    if owner is None:
        kind = _SERIES_KIND[entity]
        conn.execute(
            insert(s.series_registry).values(prefix=prefix, kind=kind, device_id=device.id)
        )
    elif owner != device.id:
        revoked = conn.execute(
            select(s.devices.c.revoked_at).where(s.devices.c.id == owner)
        ).scalar()
        if revoked is None:  # a retired desk's numbers arrive from its restored backup
            name = conn.execute(select(s.devices.c.name).where(s.devices.c.id == owner)).scalar()
            raise ServerProblem(
                409,
                f"number {number} is from the {prefix} series, which belongs to the desk "
                f"“{name or owner}”; each desk numbers from its own series, so the clinic keeps "
                "it off its copy. It stays listed here; ask for help if it should be reissued.",
                code="series",
            )


def ensure_series_rows(conn: Connection, entity: str, fields: dict[str, Any]) -> None:
    """Invoices refer to the issuing desk's number series; keep a placeholder row for it."""
    series_id = fields.get("series_id")
    if entity not in ("invoices", "credit_notes") or not series_id:
        return
    from frontdesk.models import Base

    t = Base.metadata.tables["number_series"]
    if conn.execute(select(t.c.id).where(t.c.id == series_id)).first() is None:
        conn.execute(
            insert(t).values(**placeholder_series(entity, series_id, fields.get("created_at")))
        )


# What was printed on a tax invoice, a credit note or a receipt never changes on the server,
# even when a desk with a bug or an old version sends it (the desk's services refuse it too).
_INVOICE_AFTER_ISSUE = frozenset({"status", "voided_at", "void_reason", "patient_id", "updated_at"})
_INVOICE_AFTER_VOID = frozenset({"patient_id", "updated_at"})
_FIXED = {
    "credit_notes": frozenset({"number", "invoice_id", "total_cents", "tax_cents", "issued_at"}),
    "credit_note_lines": frozenset({"credit_note_id", "invoice_line_id", "amount_cents"}),
    "payments": frozenset({"amount_cents", "method", "received_at", "receipt_number"}),
}


def check_finalised(conn: Connection, entity: str, fields: dict[str, Any], row: Any) -> None:
    """Refuse (409) a change to an issued invoice, its lines, a credit note or a payment that
    would alter what was printed. ``row`` is the row as the server holds it (None: new)."""
    changed = (
        set(fields) if row is None else {k for k, v in fields.items() if k != "id" and row[k] != v}
    )
    if entity == "invoices" and row is not None and row["status"] != "draft":
        allowed = _INVOICE_AFTER_ISSUE if row["status"] == "issued" else _INVOICE_AFTER_VOID
        bad = changed - allowed
        if "status" in changed and fields["status"] != "void":
            bad.add("status")

        if bad:
            raise ServerProblem(
                409,
                f"invoice {row['number']} was {row['status']} already; only voiding or "
                "crediting it can change it",
                code="finalised",
            )
    elif entity == "invoice_lines" and changed - {"updated_at"}:
        # The invoice it is on, and the one it would move to: neither may be issued.
        parents = {fields.get("invoice_id"), row["invoice_id"] if row is not None else None}
        for invoice_id in sorted(str(p) for p in parents if p):
            parent = current_row(conn, "invoices", invoice_id)
            if parent is not None and parent["status"] != "draft":
                raise ServerProblem(
                    409,
                    f"invoice {parent['number']} was {parent['status']} already; its lines "
                    "cannot change",
                    code="finalised",
                )
    elif row is not None and entity in _FIXED and changed & _FIXED[entity]:
        what = entity.rstrip("s").replace("_", " ")
        raise ServerProblem(409, f"a {what} cannot change once it is recorded", code="finalised")
