"""Reading the clinic for integrations: locations, practitioners, appointment types, rooms,
with cursor pagination (by id) and ``updated_since``."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Table, select

from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.changelog import TABLES

MAX_PAGE = 500


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiProblem(
            400,
            "That cursor is not one this API gave out: pass next_cursor as it came.",
            "bad_cursor",
        ) from exc
    if not raw or len(raw) > 36:
        raise ApiProblem(400, "That cursor is not one this API gave out.", "bad_cursor")
    return raw


def page(
    conn: Connection,
    table_name: str,
    *,
    cursor: str | None,
    limit: int,
    updated_since: datetime | None,
    live_only: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows ordered by id after ``cursor``; the next cursor when there are more."""
    t: Table = TABLES[table_name]
    q = select(t).order_by(t.c.id).limit(limit + 1)
    if live_only:
        q = q.where(t.c.deleted_at.is_(None))
        if "archived_at" in t.c:
            q = q.where(t.c.archived_at.is_(None))
    if cursor:
        q = q.where(t.c.id > decode_cursor(cursor))
    if updated_since is not None:
        q = q.where(t.c.updated_at >= updated_since)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]["id"]) if more and rows else None)


def clinic_zone(conn: Connection) -> ZoneInfo:
    t = TABLES["clinic_settings"]
    name = conn.execute(select(t.c.time_zone).where(t.c.deleted_at.is_(None)).limit(1)).scalar()
    try:
        return ZoneInfo(name or "Australia/Sydney")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Australia/Sydney")


def one(conn: Connection, table_name: str, ident: str, what: str) -> dict[str, Any]:
    """A live row by id, or a 404 that says what was looked for."""
    t = TABLES[table_name]
    if len(ident) > 36:
        raise ApiProblem(404, f"No {what} has the id {ident[:40]!r} in this clinic.", "not_found")
    row = conn.execute(select(t).where(t.c.id == ident, t.c.deleted_at.is_(None))).mappings()
    found = row.first()
    if found is None:
        raise ApiProblem(404, f"No {what} has the id {ident!r} in this clinic.", "not_found")
    return dict(found)
