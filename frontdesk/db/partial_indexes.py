"""The indexes made partial by desk revision 0370_dbsize and server revision s0007_dbsize:
each holds only the rows whose first column is filled (``models.base.filled_index``)."""

from __future__ import annotations

# (index, table, columns): the first column is empty in most rows and only looked up by value
FILLED_ONLY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_appointments_room_start", "appointments", ("room_id", "starts_at")),
    ("ix_appointments_series_id", "appointments", ("series_id",)),
    ("ix_invoices_payer", "invoices", ("payer_funder_id", "issue_date")),
    ("ix_payments_payer", "payments", ("payer_funder_id", "received_at")),
)


def make_filled_only(name: str, table: str, columns: tuple[str, ...]) -> str:
    return f"{make_full(name, table, columns)} WHERE {columns[0]} IS NOT NULL"


def make_full(name: str, table: str, columns: tuple[str, ...]) -> str:
    return f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"
