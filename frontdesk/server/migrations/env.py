"""Alembic environment for the clinic server's database. Run through frontdesk.server.migrate,
which passes the connection (and, for autogenerate, the metadata) in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from frontdesk.server import migrate

config = context.config
connection = config.attributes.get("connection")
target_metadata = config.attributes.get("target_metadata") or migrate.target_metadata()

if connection is None:
    raise RuntimeError("run server migrations through frontdesk.server.migrate")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_name=migrate.include_name,
    include_object=migrate.include_object,
    version_table=migrate.VERSION_TABLE,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
