"""Loading an existing desk's clinic into a new, empty server: how a clinic that started on one
desk goes multi-desk. Rows arrive at version 1; other desks get them by snapshot."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Column, insert, select

from frontdesk.db.engine import make_engine, register_key_functions
from frontdesk.db.int_times import micros_to_text
from frontdesk.db.types import UTCDateTime, is_key
from frontdesk.server import schema as s
from frontdesk.server.store import ServerProblem, ServerStore
from frontdesk.store import outbox

DESK_DB = "frontdesk.sqlite3"


def seed_from_desk(store: ServerStore, desk_dir: Path) -> dict[str, int]:
    path = desk_dir / DESK_DB
    if not path.exists():
        raise ServerProblem(400, f"No desk database at {path}.")
    with store.reading() as conn:
        if store._max_seq(conn) or any(
            conn.execute(select(t.c.id).limit(1)).first() for t in s.data_tables().values()
        ):
            raise ServerProblem(409, "The server already holds a clinic; seed only a new one.")
    device_id, through = _desk_position(path)
    if store.engine.dialect.name == "sqlite" and store.engine.url.database:
        counts = _seed_sqlite(Path(store.engine.url.database), path)
    elif store.is_postgres:
        counts = _seed_postgres(store, path)
    else:
        counts = _seed_any(store, path)
    # That desk's changes up to here are in the server's starting copy: when it enrols, it is
    # told so and does not send them again (nor any it made without the outbox, like the demo).
    with store.writing() as conn:
        store.put_info(conn, "seeded_from", device_id)
        store.put_info(conn, "seeded_through", str(through))
    return counts


def _desk_position(desk_db: Path) -> tuple[str, int]:
    """(the desk's device id, its newest outbox number) at the time of seeding."""
    conn = sqlite3.connect(f"file:{desk_db}?mode=ro", uri=True)
    try:
        device = conn.execute("SELECT device_id FROM sync_state WHERE id = 1").fetchone()
        seq = outbox.last_seq_in_file(conn)
    finally:
        conn.close()
    return (device[0] if device else ""), int(seq)


def _seed_sqlite(server_db: Path, desk_db: Path) -> dict[str, int]:
    conn = sqlite3.connect(server_db, isolation_level=None)
    register_key_functions(conn)
    counts: dict[str, int] = {}
    try:
        conn.execute("ATTACH DATABASE ? AS desk", (f"file:{desk_db}?mode=ro",))
        conn.execute("BEGIN IMMEDIATE")
        for table in s.all_data_tables():
            cols = [c.name for c in table.columns]
            picks = ", ".join(_pick(c) for c in table.columns)
            names = ", ".join(f'"{c}"' for c in cols)
            cur = conn.execute(
                f'INSERT OR IGNORE INTO main."{table.name}" ({names}) '
                f'SELECT {picks} FROM desk."{table.name}"'
            )
            counts[table.name] = cur.rowcount
        conn.execute("COMMIT")
    finally:
        conn.close()
    return counts


def _seed_postgres(store: ServerStore, desk_db: Path) -> dict[str, int]:
    """COPY each table straight from the desk's file, in one transaction: the tables' own
    indexes and foreign keys are dropped first and made again after the load (one sorted build
    each instead of an update per row, one check per key instead of a trigger per row), then
    VACUUM (ANALYZE) after the commit: the first queries are planned on the real sizes, and
    neither they nor autovacuum (soon after, over every table) have to set hint bits.

    The desk's SQLite values go as they are, but for its times and keys: times, stored as
    integer microseconds (``UTCDateTime``), turned by SQLite into naive-UTC text (PostgreSQL
    reads that as ``timestamp``); keys, 16-byte blobs, as their text (``key_text`` in the
    SELECT); booleans 0/1, dates ISO."""
    src = sqlite3.connect(f"file:{desk_db}?mode=ro", uri=True, isolation_level=None)
    register_key_functions(src)
    src.execute("BEGIN")  # every table from one snapshot of the desk (it may be running)
    counts: dict[str, int] = {}
    tables = s.all_data_tables()
    names = [t.name for t in tables]
    try:
        with store.writing() as conn:
            pg = conn.connection.driver_connection
            assert pg is not None
            cur = pg.cursor()
            # made again after the load, exactly as they were
            mine = "t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)"
            cur.execute(
                "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                f"JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f' AND {mine}",
                [names],
            )
            fkeys = cur.fetchall()
            cur.execute(
                "SELECT x.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid "
                f"WHERE {mine} AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [names],
            )
            indexes = cur.fetchall()
            for table, name, _def in fkeys:
                cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _def in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            for table in tables:
                cols = [c.name for c in table.columns]
                picks = ", ".join(_pg_pick(c) for c in table.columns)
                quoted = ", ".join(f'"{c}"' for c in cols)
                rows = src.execute(f'SELECT {picks} FROM "{table.name}"')
                n = 0
                with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    while batch := rows.fetchmany(10_000):
                        for row in batch:
                            copy.write_row(row)
                        n += len(batch)
                counts[table.name] = n
            for _name, definition in indexes:
                cur.execute(definition)
            for table, name, definition in fkeys:
                cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    finally:
        src.close()
    # outside the transaction (VACUUM must be): hint bits and the visibility map set now,
    # once, instead of by the first reads and by autovacuum going over every table soon after
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) " + ", ".join(f'"{n}"' for n in names))
    return counts


def _pick(column: Column[Any]) -> str:
    """The desk's value of a column as the server stores it: a key (a blob on the desk) as its
    text, ``version`` at least 1."""
    if column.name == "version":
        return "max(version, 1)"
    if is_key(column):
        return f'key_text("{column.name}")'
    return f'"{column.name}"'


def _pg_pick(column: Column[Any]) -> str:
    """What the desk's SELECT gives PostgreSQL's COPY for one column: a time as naive-UTC text."""
    if isinstance(column.type, UTCDateTime):
        return micros_to_text(f'"{column.name}"')
    return _pick(column)


def _seed_any(store: ServerStore, desk_db: Path) -> dict[str, int]:
    desk = make_engine(desk_db)
    counts: dict[str, int] = {}
    try:
        with desk.connect() as src, store.writing() as dst:
            for table in s.all_data_tables():
                n = 0
                rows = src.execute(select(table)).mappings()
                while batch := rows.fetchmany(5000):
                    values = [dict(r) for r in batch]
                    if "version" in table.c:
                        for v in values:
                            v["version"] = max(int(v["version"]), 1)
                    dst.execute(insert(table), values)
                    n += len(values)
                counts[table.name] = n
    finally:
        desk.dispose()
    return counts
