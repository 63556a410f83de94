"""The clinic server's own Alembic chain, configured from code like the desk's
(``frontdesk.db.migrate``) but separate from it: its scripts live in
``frontdesk/server/migrations``, its version table is ``alembic_version_server`` and its
revision ids start with ``s`` so a desk database can never pass for a server one.

The server stores its bookkeeping tables (``schema.server_md``) and every synced desk table
(``schema.all_data_tables()``): when a desk revision changes a synced table, the server needs a
revision too (``python -m frontdesk.server.new_migration``; the migrations test says so).

``upgrade_server`` brings a database to the head: a new one is created, one made by the
``create_all`` code of earlier versions (``server_info.schema`` = 1, no version table) is
stamped with the baseline and upgraded without touching its data, an older one is upgraded
(a SQLite file is copied beside itself first), and one stamped with a revision this code does
not know was made by a newer frontdesk-server and is refused untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    column,
    insert,
    inspect,
    select,
    table,
    text,
    update,
)

from frontdesk.db.backup import backup_file, timestamped_name
from frontdesk.db.migrate import config_for, head_of
from frontdesk.domain.errors import DatabaseTooNew, EnvironmentProblem
from frontdesk.domain.ids import uuid7
from frontdesk.server import schema as s

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("frontdesk.server")

VERSION_TABLE = "alembic_version_server"
# The revision that creates what the create_all code made; older servers are stamped with it.
BASELINE = "s0001"
# The newest revision this version ships. A database already stamped with it opens without
# importing Alembic. tests/server/test_server_migrations.py keeps this equal to the real head.
EXPECTED_HEAD = "s0009_inttimes"

TOO_NEW = (
    "This server database was made by a newer frontdesk-server; upgrade this server "
    "(install the newest frontdesk-server) to use it. Nothing has been changed."
)


def _script_location() -> str:
    return str(resources.files("frontdesk.server") / "migrations")


def table_names() -> frozenset[str]:
    """Every table the server's migrations manage (its own and the synced desk tables)."""
    return frozenset(s.server_md.tables) | {t.name for t in s.all_data_tables()}


def target_metadata() -> list[MetaData]:
    """What the server's schema should be: ``server_md`` plus the models' metadata, of which
    only ``table_names()`` count (``include_object`` leaves the desk-only tables out)."""
    from frontdesk.models import Base

    return [s.server_md, Base.metadata]


def include_object(obj: Any, name: str | None, type_: str, _reflected: bool, _other: Any) -> bool:
    """Alembic hook: only the server's tables (and what belongs to them) take part."""
    if type_ == "table":
        return name in table_names()
    table = getattr(obj, "table", None)
    return table is None or table.name in table_names()


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Alembic hook on reflected names: other tables in a shared database are ignored."""
    return type_ != "table" or name in table_names()


def alembic_config(metadata: list[MetaData] | None = None) -> Config:
    return config_for(_script_location(), metadata)


def head_revision() -> str:
    return head_of(alembic_config())


def current_revision(conn: Connection) -> str | None:
    """The server revision the database is stamped with (None when it has no version table)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    version = table(VERSION_TABLE, column("version_num"))
    value = conn.execute(select(version.c.version_num)).scalar()
    return None if value is None else str(value)


@dataclass(frozen=True)
class Outcome:
    """What ``upgrade_server`` did, for the log and the ``init``/``upgrade`` commands."""

    action: str  # "created", "adopted" (made by create_all), "upgraded" or "current"
    before: str | None
    after: str
    backup: Path | None = None

    @property
    def created(self) -> bool:
        return self.action == "created"

    def describe(self) -> str:
        said = {
            "created": f"Server database created (schema {self.after})",
            "adopted": (
                "Server database from an earlier frontdesk-server now has versioned "
                f"migrations (schema {self.after}); no data was changed"
            ),
            "upgraded": f"Server database upgraded from schema {self.before} to {self.after}",
            "current": f"Server database already up to date (schema {self.after})",
        }[self.action]
        return said + (f"; a copy from before is at {self.backup}" if self.backup else "") + "."


def _state(conn: Connection) -> tuple[str | None, bool]:
    """(revision, made by the create_all code). Refuses databases this code must not touch."""
    current = current_revision(conn)
    if current is not None:
        return current, False
    existing = set(inspect(conn).get_table_names())
    if "server_info" in existing:
        version = conn.execute(
            select(s.server_info.c.value).where(s.server_info.c.key == "schema")
        ).scalar()
        if version is not None and int(version) > 1:
            raise DatabaseTooNew(TOO_NEW, detail=f"server_info.schema {version}")
        return None, True
    clash = sorted(existing & table_names())
    if clash:
        raise EnvironmentProblem(
            "This database already holds frontdesk tables but is not a clinic-server "
            "database (is it a desk's data file?). Give the server an empty database.",
            detail=f"tables {', '.join(clash[:5])}",
        )
    return None, False


def upgrade_server(engine: Engine, *, target: str = "head", backup: bool = True) -> Outcome:
    """Bring the server database to ``target`` in one transaction (``_migrating``).
    ``backup`` copies a SQLite file beside itself before changing an existing database."""
    with engine.connect() as conn:
        current, legacy = _state(conn)
    if target == "head" and current == EXPECTED_HEAD:
        return Outcome("current", current, current)
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None:
        try:
            script.get_revision(current)
        except Exception as exc:
            raise DatabaseTooNew(TOO_NEW, detail=f"unknown server revision {current}") from exc
    wanted = script.get_current_head() if target == "head" else target
    assert wanted is not None
    if current == wanted:
        return Outcome("current", current, wanted)
    copy = None
    if backup and (legacy or current is not None):
        copy = _backup_sqlite(engine, current or "schema1")
    with _migrating(engine) as conn:
        # Another process may have got here first: look again under the lock.
        current, legacy = _state(conn)
        _run_alembic(conn, legacy=legacy, target=wanted, current=current)
        _ensure_info(conn)
    action = "adopted" if legacy else "created" if current is None else "upgraded"
    if action == "upgraded" and current == wanted:
        action = "current"
    outcome = Outcome(action, current, wanted, copy)
    if action != "current":
        log.info(outcome.describe())
    return outcome


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole upgrade. PostgreSQL: under the store's advisory lock, so
    two servers starting at once upgrade one after the other. SQLite: BEGIN IMMEDIATE, with
    foreign keys off while batch operations rebuild tables (copy, drop, rename), then checked
    before the commit."""
    from frontdesk.server.store import ADVISORY_KEY

    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_KEY})"))
            yield conn
        return
    with engine.connect() as plain:
        conn = plain.execution_options(sqlite_immediate=True)
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it does nothing
        try:
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise EnvironmentProblem(
                        "The server database could not be upgraded: rows would point at rows "
                        "that do not exist. Nothing has been changed.",
                        detail=f"foreign_key_check {broken[:3]}",
                    )
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _run_alembic(conn: Connection, *, legacy: bool, target: str, current: str | None) -> None:
    if current == target:
        return
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    if legacy:
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, target)


def _ensure_info(conn: Connection) -> None:
    """The server facts every database has: the schema marker (which makes frontdesk-server
    versions from before these migrations refuse the database), the epoch and history floor."""
    rows = conn.execute(select(s.server_info.c.key, s.server_info.c.value)).all()
    have = {str(key): str(value) for key, value in rows}
    wanted = {"schema": str(s.SERVER_SCHEMA), "epoch": uuid7(), "history_floor": "0"}
    missing = [{"key": k, "value": v} for k, v in wanted.items() if k not in have]
    if missing:
        conn.execute(insert(s.server_info), missing)
    if "schema" in have and have["schema"] != str(s.SERVER_SCHEMA):
        conn.execute(
            update(s.server_info)
            .where(s.server_info.c.key == "schema")
            .values(value=str(s.SERVER_SCHEMA))
        )


def _backup_sqlite(engine: Engine, current: str) -> Path | None:
    """Copy a SQLite server file beside itself (``server-before-upgrade-s0001-…sqlite3``)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    source = Path(engine.url.database)
    name = timestamped_name(f"{source.stem}-before-upgrade-{current}", datetime.now(UTC))
    return backup_file(source, source.parent / name)
