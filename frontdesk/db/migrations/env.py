"""Alembic environment for the desk database. Run through frontdesk.db.migrate, which passes
the connection (and, for autogenerate, the metadata) in ``config.attributes``."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
# Only autogenerate needs the models' metadata (scripts/new_desk_migration.py passes it);
# upgrading runs the revisions as written.
target_metadata = config.attributes.get("target_metadata")

if connection is None:
    raise RuntimeError("run migrations through frontdesk.db.migrate")

from frontdesk.db.hand_made import include_name  # noqa: E402

context.configure(
    connection=connection,
    include_name=include_name,
    target_metadata=target_metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
