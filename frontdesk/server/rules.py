"""Server rules applied after a change: sensitive-field conflicts, booking clashes (kept,
flagged, recorded for a person) and the per-desk number series."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from frontdesk.domain.ids import uuid7
from frontdesk.models.codec import to_json_value
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
from frontdesk.sync.protocol import number_prefix


def record_conflict(
    store: ServerStore, conn: Connection, m: Any, key: str, mine: Any, theirs: Any
) -> None:
    table = TABLES["sync_conflicts"]
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
    flush_rows(conn, "sync_conflicts")
    conn.execute(insert(table).values(**values))
    log_change(
        store,
        conn,
        "sync_conflicts",
        values["id"],
        "insert",
        1,
        full_row(table, values),
        SERVER_DEVICE,
        None,
    )


def check_clash(
    store: ServerStore, conn: Connection, device: Device, me: dict[str, Any], cursor: int
) -> None:
    """Overlapping bookings for one practitioner or room that this desk could not have seen:
    keep both, flag both, and record a clash for a person to sort out. ``me`` is the booking
    as it now stands on the server."""
    appts = TABLES["appointments"]
    appt_id = str(me["id"])
    flush_rows(conn, "appointments")
    if me["status"] == "cancelled" or me["deleted_at"] is not None:
        return
    same_place = appts.c.practitioner_id == me["practitioner_id"]
    if me["room_id"] is not None:
        same_place = or_(same_place, appts.c.room_id == me["room_id"])
    others = conn.execute(
        select(appts.c.id, appts.c.practitioner_id).where(
            appts.c.id != appt_id,
            appts.c.status != "cancelled",
            appts.c.deleted_at.is_(None),
            appts.c.starts_at < me["ends_at"],
            appts.c.ends_at > me["starts_at"],
            same_place,
        )
    ).all()
    for other in others:
        last = last_change(conn, "appointments", other.id, skip_device=SERVER_DEVICE)
        if last is None or last[0] <= cursor or last[1] == device.id:
            continue  # the desk saw that booking before making this one: its own choice
        if _open_clash_exists(conn, appt_id, other.id):
            continue
        for aid in (appt_id, other.id):
            _flag(store, conn, aid)
        table = TABLES["sync_conflicts"]
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
        flush_rows(conn, "sync_conflicts")
        conn.execute(insert(table).values(**values))
        log_change(
            store,
            conn,
            "sync_conflicts",
            values["id"],
            "insert",
            1,
            full_row(table, values),
            SERVER_DEVICE,
            None,
        )


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


def check_series(conn: Connection, device: Device, entity: str, number: str) -> None:
    """A desk numbers invoices only from its own series; the prefix of any other desk is
    refused. A prefix nobody holds yet (a desk's series from before enrolment) is claimed."""
    prefix = number_prefix(number)
    owner = conn.execute(
        select(s.series_registry.c.device_id).where(s.series_registry.c.prefix == prefix)
    ).scalar()
    if owner is None:
        kind = "invoice" if entity == "invoices" else "credit_note"
        conn.execute(
            insert(s.series_registry).values(prefix=prefix, kind=kind, device_id=device.id)
        )
    elif owner != device.id:
        raise ServerProblem(409, f"number {number} belongs to another desk's series")


def ensure_series_rows(conn: Connection, entity: str, fields: dict[str, Any]) -> None:
    """Invoices refer to the issuing desk's number series; keep a placeholder row for it."""
    series_id = fields.get("series_id")
    if entity not in ("invoices", "credit_notes") or not series_id:
        return
    from frontdesk.models import Base

    t = Base.metadata.tables["number_series"]
    if conn.execute(select(t.c.id).where(t.c.id == series_id)).first() is None:
        conn.execute(
            insert(t).values(
                id=series_id,
                kind="invoice" if entity == "invoices" else "credit_note",
                prefix=f"~{series_id[-11:]}",
                width=6,
                next_value=1,
                active=False,
                created_at=fields.get("created_at") or datetime.now(UTC),
            )
        )
