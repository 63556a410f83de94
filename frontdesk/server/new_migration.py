"""Developer tool: ``python -m frontdesk.server.new_migration "message" [s0002]`` autogenerates a
clinic-server revision by comparing ``schema.server_md`` and the synced desk tables with a
scratch SQLite server database upgraded to the current server head. Read the script it writes
and make sure it also runs on PostgreSQL (tests/server/test_server_migrations.py does both)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from frontdesk.db.engine import make_engine
from frontdesk.server.migrate import (
    alembic_config,
    head_revision,
    target_metadata,
    upgrade_server,
)


def next_revision_id(head: str) -> str:
    """``s0001`` → ``s0002`` (the id when none is given)."""
    digits = "".join(ch for ch in head[1:5] if ch.isdigit())
    return f"s{int(digits or 0) + 1:04d}"


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "change"
    rev_id = sys.argv[2] if len(sys.argv) > 2 else next_revision_id(head_revision())
    if not rev_id.startswith("s"):
        sys.exit("server revision ids start with 's' (s0002, s0003…), unlike the desk's")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "scratch.sqlite3", text_keys=True)
        upgrade_server(engine, backup=False)
        with engine.begin() as conn:
            cfg = alembic_config(target_metadata())
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main()
