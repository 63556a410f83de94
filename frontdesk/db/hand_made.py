"""Schema objects written by hand in migrations (FTS5 tables and their shadow tables), which
the models do not describe: autogenerate and the models-versus-migrations test skip them."""

from __future__ import annotations

from typing import Any

HAND_MADE_PREFIXES = (
    "patients_fts",
    "patients_search_source",
    "ledger_summary",
    "report_summary",
    "sync_table_totals",
)


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Alembic ``include_name`` hook: False for the hand-made tables."""
    return not (type_ == "table" and name is not None and name.startswith(HAND_MADE_PREFIXES))
