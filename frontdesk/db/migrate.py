"""Alembic, configured from code: the scripts ship inside the package and run at start-up.

Before an upgrade the file is backed up; a database stamped with a revision this app does not
know was written by a newer frontdesk and is refused, never downgraded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from frontdesk.db.backup import backup_file, timestamped_name
from frontdesk.domain.errors import DatabaseTooNew

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision this version of frontdesk ships. A database already stamped with it opens
# without importing Alembic at all (a tenth of a second off every start). The migrations test
# keeps this equal to the scripts' head.
EXPECTED_HEAD = "0360_perf"


def _script_location() -> str:
    return str(resources.files("frontdesk.db") / "migrations")


def config_for(script_location: str, metadata: Any = None) -> Config:
    """An Alembic config from code (no alembic.ini); the clinic server's chain uses it too."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["target_metadata"] = metadata
    return cfg


def head_of(cfg: Config) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def alembic_config(metadata: MetaData | None = None) -> Config:
    return config_for(_script_location(), metadata)


def head_revision() -> str:
    return head_of(alembic_config())


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with (None for a new, empty file)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except (OperationalError, ProgrammingError):  # no alembic_version table yet
        return None
    return str(rows[0][0]) if rows else None


def upgrade(engine: Engine, *, backup_dir: Path | None = None, target: str = "head") -> bool:
    """Bring the database to ``target``. Returns True when anything was applied."""
    current = current_revision(engine)
    if target == "head" and current == EXPECTED_HEAD:
        return False
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
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
