"""Engine creation with the pragmas every desk database needs, and the unit of work."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from frontdesk.db.checkpoint import BACKSTOP_PAGES
from frontdesk.db.types import key_blob, key_text
from frontdesk.paths import keep_private

BUSY_TIMEOUT_MS = 5000
# A pooled server connection is pinged before use only when it sat idle this long: a busy
# server's calls each took a round trip more (on the 10-year PostgreSQL benchmark a hold's p50
# went from 44 to 25 ms without it). A database restarted while connections were in use is
# met by the next statement instead: that call fails, and the pool drops every connection.
IDLE_PING_SECONDS = 5.0


def _set_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    # A commit checkpoints only past this many WAL pages: the desk's own checkpoints run on a
    # thread while it is idle (db/checkpoint.py), off the write that would have paid for them.
    cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA cache_size=-32000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()
    register_key_functions(dbapi_conn)


def register_key_functions(conn: sqlite3.Connection) -> None:
    """SQL functions ``key_blob(text)`` and ``key_text(blob)`` (``db.types``) on a connection,
    for raw SQL and migrations that convert keys in SQL (a value already in the wanted form, or
    NULL, is returned as it is)."""
    conn.create_function(
        "key_blob",
        1,
        lambda v: v if v is None or isinstance(v, bytes) else key_blob(v),
        deterministic=True,
    )
    conn.create_function(
        "key_text", 1, lambda v: key_text(v) if isinstance(v, bytes) else v, deterministic=True
    )


def make_engine(
    url_or_path: str | Path, *, echo: bool = False, text_keys: bool | None = None
) -> Engine:
    """An engine for a SQLite file path (desk) or any SQLAlchemy URL (the clinic server, on
    PostgreSQL or SQLite).

    Keys are stored as 16-byte blobs (``db.types.UUIDKey``) in a desk's file, as text through
    a URL (the server's storage) — or as ``text_keys`` says."""
    desk_file = isinstance(url_or_path, Path) or "://" not in str(url_or_path)
    if text_keys is None:
        text_keys = not desk_file
    if desk_file:
        path = Path(url_or_path)
        engine = create_engine(
            f"sqlite+pysqlite:///{path}",
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
    else:
        engine = create_engine(str(url_or_path), echo=echo)
        _ping_when_idle(engine)
    if engine.dialect.name == "sqlite":
        engine.dialect.frontdesk_text_keys = text_keys  # type: ignore[attr-defined]
        event.listen(engine, "connect", _set_sqlite_pragmas)
        if isinstance(url_or_path, Path) or "://" not in str(url_or_path):
            files = [Path(f"{url_or_path}{end}") for end in ("", "-wal", "-shm")]
            event.listen(engine, "connect", lambda *_a: keep_private(*files))

        # pysqlite's own transaction handling defers BEGIN; take control so that a unit of work
        # starts with BEGIN IMMEDIATE and never fails half-way on a lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_from = record.info.pop("idle_from", None)  # None: a new connection
        if idle_from is None or time.monotonic() - idle_from < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:  # the pool connects afresh
            raise exc.DisconnectionError(str(err)) from err


def make_session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions for reading (plain BEGIN) or writing (BEGIN IMMEDIATE on SQLite, so a write
    transaction takes the lock up front and waits for it instead of failing half-way)."""
    bind = engine.execution_options(sqlite_immediate=True) if write else engine
    return sessionmaker(bind, expire_on_commit=False, autoflush=True)
