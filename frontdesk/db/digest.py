"""Row counts and content digests of every table of a SQLite file: an upgrade that rebuilds or
re-indexes tables must leave each table's rows exactly as they were (issue 21's "no row lost",
checked on a copy of the 10-year clinic by benchmarks/bench_storage.py and in tests/db)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontdesk.db.types import EPOCH, MICROSECOND, key_text

# a time copied into a hand-made table, declared VARCHAR(26) before 0390_inttimes
_HAND_MADE_TIMES = {("report_summary_first_visits", "first_at")}


def logical_time(value: Any) -> Any:
    """A stored time as integer microseconds whether it is stored as text (before
    0390_inttimes) or as an integer, so digests taken before and after the conversion agree."""
    if isinstance(value, str):
        return (datetime.fromisoformat(value).replace(tzinfo=UTC) - EPOCH) // MICROSECOND
    return value


def _logical(value: object) -> object:
    """A key stored as 16 bytes (``db.types.UUIDKey``) as the text it stands for, so a table
    digests the same before and after its keys were converted."""
    if isinstance(value, bytes) and len(value) == 16:
        return key_text(value)
    return value


def table_digests(database: Path) -> dict[str, tuple[int, str]]:
    """Table → (rows, SHA-256 of its rows in key order, every value with its SQLite type; a
    time as its instant, so text and integer times of the same instant digest alike; a key as
    its text whether it is stored as text or as a blob).
    Virtual tables are left out: their content is in their shadow tables, which are listed."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            name
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if not str(sql).upper().startswith("CREATE VIRTUAL")
        ]
        out = {}
        for table in tables:
            info = list(conn.execute(f'PRAGMA table_info("{table}")'))
            columns = [r[1] for r in info]
            times = [
                i
                for i, r in enumerate(info)
                if "DATETIME" in str(r[2]).upper() or (table, r[1]) in _HAND_MADE_TIMES
            ]
            keys = [r[1] for r in sorted(conn.execute(f'PRAGMA table_info("{table}")'),
                                         key=lambda r: r[5]) if r[5]]  # fmt: skip
            order = ", ".join(f'"{k}"' for k in keys) or "rowid"
            typed = ", ".join(f'"{c}"' for c in columns)
            digest = hashlib.sha256()
            rows = 0
            for row in conn.execute(f'SELECT {typed} FROM "{table}" ORDER BY {order}'):
                # every value with its Python type (SQLite's storage class: integer, real,
                # text, blob, NULL), a time as its instant and a key as its text however they
                # are stored
                values = list(map(_logical, row))
                for i in times:
                    values[i] = logical_time(values[i])
                digest.update(repr(values).encode())
                rows += 1
            out[table] = (rows, digest.hexdigest())
        return out
    finally:
        conn.close()
