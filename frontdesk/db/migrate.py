"""Alembic, configured from code: the scripts ship inside the package and run at start-up.

Before an upgrade the file is backed up; a database stamped with a revision this app does not
know was written by a newer frontdesk and is refused, never downgraded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect

from frontdesk.db.backup import backup_file, timestamped_name
from frontdesk.domain.errors import DatabaseTooNew


def _script_location() -> str:
    return str(resources.files("frontdesk.db") / "migrations")


def alembic_config(metadata: MetaData | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    cfg.attributes["target_metadata"] = metadata
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, *, backup_dir: Path | None = None, target: str = "head") -> bool:
    """Bring the database to ``target``. Returns True when anything was applied."""
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(engine)
    if current is not None:
        try:
            script.get_revision(current)
        except Exception as exc:
            raise DatabaseTooNew(
                "This data file was saved by a newer version of frontdesk. "
                "Install the latest version to open it; nothing has been changed.",
                detail=f"unknown revision {current}",
            ) from exc
    wanted = script.get_current_head() if target == "head" else target
    if current == wanted:
        return False
    if backup_dir is not None and current is not None and engine.url.database:
        source = Path(engine.url.database)
        name = timestamped_name(f"before-upgrade-{current}", datetime.now(UTC))
        backup_file(source, backup_dir / name)
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    return True


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())
