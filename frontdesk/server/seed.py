"""Loading an existing desk's clinic into a new, empty server: how a clinic that started on one
desk goes multi-desk. Rows arrive at version 1; other desks get them by snapshot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import insert, select

from frontdesk.db.engine import make_engine
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
    counts: dict[str, int] = {}
    try:
        conn.execute("ATTACH DATABASE ? AS desk", (f"file:{desk_db}?mode=ro",))
        conn.execute("BEGIN IMMEDIATE")
        for table in s.all_data_tables():
            cols = [c.name for c in table.columns]
            picks = ", ".join("max(version, 1)" if c == "version" else f'"{c}"' for c in cols)
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
