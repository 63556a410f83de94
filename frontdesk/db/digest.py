"""Row counts and content digests of every table of a SQLite file: an upgrade that rebuilds or
re-indexes tables must leave each table's rows exactly as they were (issue 21's "no row lost",
checked on a copy of the 10-year clinic by benchmarks/bench_storage.py and in tests/db)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from frontdesk.db.types import key_text


def _logical(value: object) -> object:
    """A key stored as 16 bytes (``db.types.UUIDKey``) as the text it stands for, so a table
    digests the same before and after its keys were converted (its ``typeof`` as text too)."""
    if isinstance(value, bytes) and len(value) == 16:
        return key_text(value)
    return "text" if value == "blob" else value


def table_digests(database: Path) -> dict[str, tuple[int, str]]:
    """Table → (rows, SHA-256 of its rows in key order, every value with its SQLite type, a
    key as its text whether it is stored as text or as a blob).
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
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            keys = [r[1] for r in sorted(conn.execute(f'PRAGMA table_info("{table}")'),
                                         key=lambda r: r[5]) if r[5]]  # fmt: skip
            order = ", ".join(f'"{k}"' for k in keys) or "rowid"
            typed = ", ".join(f'typeof("{c}"), "{c}"' for c in columns)
            digest = hashlib.sha256()
            rows = 0
            for row in conn.execute(f'SELECT {typed} FROM "{table}" ORDER BY {order}'):
                digest.update(repr(tuple(map(_logical, row))).encode())
                rows += 1
            out[table] = (rows, digest.hexdigest())
        return out
    finally:
        conn.close()
