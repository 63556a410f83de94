"""Column values to and from JSON, for the sync outbox, change log and audit trail."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Date, LargeBinary, Table
from sqlalchemy.sql.type_api import TypeEngine

from frontdesk.db.types import UTCDateTime

_PLAIN = frozenset({str, int, float, bool, type(None)})


@lru_cache(maxsize=256)  # a bulk write stamps thousands of rows with the same instant
def _utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def to_json_value(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: nothing to do (checked first, it is the hot path)
        return value
    if isinstance(value, datetime):
        return _utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def from_json_value(column: Column[Any], value: Any) -> Any:
    """The Python value for ``column`` from its JSON form; raises ValueError on a bad value."""
    if value is None:
        return None
    ctype: TypeEngine[Any] = column.type
    if isinstance(ctype, UTCDateTime):
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError(f"{column.name}: datetime without a zone")
        return parsed
    if isinstance(ctype, Date):
        return date.fromisoformat(str(value))
    if isinstance(ctype, LargeBinary):
        return base64.b64decode(str(value), validate=True)
    python_type = ctype.python_type
    if python_type is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{column.name}: expected true or false")
        return value
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{column.name}: expected a whole number")
        return value
    if python_type is str:
        if not isinstance(value, str):
            raise ValueError(f"{column.name}: expected text")
        length = getattr(ctype, "length", None)
        if length is not None and len(value) > length:
            raise ValueError(f"{column.name}: longer than {length} characters")
        return value
    return value


def row_digest(table: Table, row: Mapping[Any, Any]) -> str:
    """A short fingerprint of a whole row's content, the same on a desk and on the server (both
    hold the same columns), to check that a synced row arrived exactly."""
    values = [to_json_value(row[c.name]) for c in table.columns]
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
