"""The one "parents before children" order of the desk's tables (foreign keys first), used
wherever rows of several tables are written together: the outbox, sync batches, snapshots,
the demo clinic and the server's copy."""

from __future__ import annotations

import functools

from sqlalchemy import Table

from frontdesk.models.base import Base


@functools.cache
def parents_first() -> tuple[Table, ...]:
    """Every table, each after the tables it refers to."""
    return tuple(Base.metadata.sorted_tables)


@functools.cache
def table_rank() -> dict[str, int]:
    """Each table's place in ``parents_first`` (a sort key)."""
    return {t.name: i for i, t in enumerate(parents_first())}
