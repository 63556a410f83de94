"""Developer tool: ``python scripts/new_desk_migration.py "message" [0002]`` autogenerates a
desk revision by comparing the models with a scratch database upgraded to the current head.
(A script, not part of the package: it needs the models, which sit above ``frontdesk.db``.)"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from frontdesk.db.engine import make_engine
from frontdesk.db.migrate import alembic_config, upgrade


def main() -> None:
    import frontdesk.models

    message = sys.argv[1] if len(sys.argv) > 1 else "change"
    rev_id = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "scratch.sqlite3")
        upgrade(engine)
        with engine.begin() as conn:
            cfg = alembic_config(frontdesk.models.Base.metadata)
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main()
