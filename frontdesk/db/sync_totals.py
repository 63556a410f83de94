"""Per-table totals for the check after a sync (issues 17 and 21), maintained, not scanned.

``sync_table_totals`` holds, for every synced table, the number of rows with ``version > 0``
and the sum of their versions — the figures a desk and the clinic server compare after each
sync (``frontdesk/sync/checks.py``). Reading them is O(1) in the size of the clinic; counting
the whole of ``appointments`` at every sync took 1–2 s on a ten-year desk and again on the
server.

Triggers keep them in the same transaction as every write, whoever writes (the services
through the ORM, sync's bulk upsert, the server's merge and its own rows, a restore):

- SQLite (desk and server): one row trigger per table for insert, delete and a change of
  ``version``. On the desk they share the summaries' switch (``ledger_summary_state.paused``):
  a first snapshot loaded bare pauses them and ``rebuild`` recounts once at the end.
- PostgreSQL (server): statement triggers with transition tables (one aggregate per
  statement, so a bulk insert pays once), plus TRUNCATE.

``recount`` computes the figures again from the tables (what the check used to read) and
``differences`` names any table where the kept figures disagree: run when a desk sees a
mismatch, by the balances check on the desk, and by ``frontdesk-server check-totals``.

Created by desk revision 0380_checks and server revision s0008_checks (``TABLES_0380``). A
synced table added by a later revision needs ``add_table`` in that revision
(tests/sync/test_sync_totals.py checks every synced table has its triggers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

TABLE = "sync_table_totals"
DESK_GATE = "(SELECT paused FROM ledger_summary_state) = 0"

Execute = Callable[[str], object]
Query = Callable[[str], Sequence[Sequence[Any]]]

CREATE_TABLE = (
    f"CREATE TABLE {TABLE} ("
    " name VARCHAR(60) NOT NULL PRIMARY KEY,"
    " row_count BIGINT NOT NULL DEFAULT 0,"
    " version_sum BIGINT NOT NULL DEFAULT 0)"
)


# The tables revisions 0380_checks / s0008_checks gave figures and triggers (every synced table
# the server keeps, with versions, at that time; ``store.balances.covered_tables`` is today's).
TABLES_0380 = (
    "accounting_exports",
    "appointment_attendees",
    "appointment_holds",
    "appointment_series",
    "appointment_status_changes",
    "appointment_types",
    "appointments",
    "audit_events",
    "catalogue_funder_prices",
    "catalogue_items",
    "claims",
    "clinic_settings",
    "credit_note_lines",
    "credit_notes",
    "day_close_counts",
    "day_closes",
    "document_chunks",
    "funders",
    "funding_budgets",
    "funding_memberships",
    "funding_plans",
    "inbound_messages",
    "invoice_lines",
    "invoices",
    "leave",
    "locations",
    "message_preferences",
    "message_templates",
    "messaging_settings",
    "ndis_support_items",
    "outgoing_messages",
    "patient_alerts",
    "patient_duplicates",
    "patient_merges",
    "patients",
    "payment_allocations",
    "payments",
    "plan_documents",
    "plan_sessions",
    "practitioners",
    "provider_numbers",
    "remittance_imports",
    "rooms",
    "roster_entries",
    "staff_users",
    "sync_conflicts",
    "waitlist_entries",
)


def _aggregate(table: str) -> str:
    return f"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM {_q(table)} WHERE version > 0"


def _q(name: str) -> str:
    return f'"{name}"'


# -- SQLite ---------------------------------------------------------------------------------
def _sqlite_triggers(table: str, gate: str | None) -> list[str]:
    when = f" AND {gate}" if gate else ""

    def upd(s: str, v: str) -> str:  # one row in (+, NEW) or out (-, OLD)
        return (
            f"UPDATE {TABLE} SET row_count = row_count {s} 1,"
            f" version_sum = version_sum {s} {v}.version WHERE name = '{table}';"
        )

    pos_new = "CASE WHEN NEW.version > 0 THEN NEW.version ELSE 0 END"
    pos_old = "CASE WHEN OLD.version > 0 THEN OLD.version ELSE 0 END"
    return [
        f"CREATE TRIGGER sync_totals_{table}_ai AFTER INSERT ON {_q(table)} FOR EACH ROW"
        f" WHEN NEW.version > 0{when} BEGIN {upd('+', 'NEW')} END",
        f"CREATE TRIGGER sync_totals_{table}_ad AFTER DELETE ON {_q(table)} FOR EACH ROW"
        f" WHEN OLD.version > 0{when} BEGIN {upd('-', 'OLD')} END",
        f"CREATE TRIGGER sync_totals_{table}_au AFTER UPDATE OF version ON {_q(table)}"
        f" FOR EACH ROW WHEN OLD.version IS NOT NEW.version{when} BEGIN"
        f" UPDATE {TABLE} SET row_count = row_count + (NEW.version > 0) - (OLD.version > 0),"
        f" version_sum = version_sum + {pos_new} - {pos_old} WHERE name = '{table}'; END",
    ]


# -- PostgreSQL -----------------------------------------------------------------------------
_PG_FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION sync_totals_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE {TABLE} t SET row_count = t.row_count + d.n, version_sum = t.version_sum + d.s
  FROM ({body}) d WHERE t.name = TG_TABLE_NAME AND (d.n <> 0 OR d.s <> 0);
  RETURN NULL;
END $$"""
    for kind, body in (
        ("ins", "SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS s FROM new_rows"
                " WHERE version > 0"),
        ("del", "SELECT -COUNT(*) AS n, -COALESCE(SUM(version), 0) AS s FROM old_rows"
                " WHERE version > 0"),
        ("upd", "SELECT SUM(n) AS n, SUM(s) AS s FROM ("
                " SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS s FROM new_rows"
                " WHERE version > 0 UNION ALL"
                " SELECT -COUNT(*), -COALESCE(SUM(version), 0) FROM old_rows"
                " WHERE version > 0) x"),
    )
] + [
    f"""CREATE OR REPLACE FUNCTION sync_totals_trunc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE {TABLE} SET row_count = 0, version_sum = 0 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END $$"""
]  # fmt: skip


def _pg_triggers(table: str) -> list[str]:
    t = _q(table)
    return [
        f"CREATE TRIGGER sync_totals_ai AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION sync_totals_ins()",
        f"CREATE TRIGGER sync_totals_ad AFTER DELETE ON {t} REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION sync_totals_del()",
        f"CREATE TRIGGER sync_totals_au AFTER UPDATE ON {t}"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION sync_totals_upd()",
        f"CREATE TRIGGER sync_totals_at AFTER TRUNCATE ON {t}"
        " FOR EACH STATEMENT EXECUTE FUNCTION sync_totals_trunc()",
    ]


# -- making, filling, dropping --------------------------------------------------------------
def add_table(execute: Execute, table: str, *, dialect: str, gate: str | None = None) -> None:
    """Triggers for one table and its figures, counted now (inside the caller's transaction)."""
    made = _pg_triggers(table) if dialect == "postgresql" else _sqlite_triggers(table, gate)
    for stmt in made:
        execute(stmt)
    execute(f"DELETE FROM {TABLE} WHERE name = '{table}'")
    execute(f"INSERT INTO {TABLE} (name, row_count, version_sum) {_aggregate_named(table)}")


def _aggregate_named(table: str) -> str:
    return (
        f"SELECT '{table}', COUNT(*), COALESCE(SUM(version), 0) FROM {_q(table)} WHERE version > 0"
    )


def create(
    execute: Execute,
    tables: Iterable[str],
    *,
    dialect: str,
    gate: str | None = None,
    make_table: bool = True,
) -> None:
    """The totals table (unless the caller made it), the triggers, and the figures as of now."""
    if make_table:
        execute(CREATE_TABLE)
    if dialect == "postgresql":
        for stmt in _PG_FUNCTIONS:
            execute(stmt)
    for table in tables:
        add_table(execute, table, dialect=dialect, gate=gate)


def drop(execute: Execute, tables: Iterable[str], *, dialect: str, drop_table: bool = True) -> None:
    for table in tables:
        for suffix in ("ai", "ad", "au", "at"):
            if dialect == "postgresql":
                execute(f"DROP TRIGGER IF EXISTS sync_totals_{suffix} ON {_q(table)}")
            else:
                execute(f"DROP TRIGGER IF EXISTS sync_totals_{table}_{suffix}")
    if dialect == "postgresql":
        for kind in ("ins", "del", "upd", "trunc"):
            execute(f"DROP FUNCTION IF EXISTS sync_totals_{kind}()")
    if drop_table:
        execute(f"DROP TABLE IF EXISTS {TABLE}")


def rebuild(execute: Execute, tables: Iterable[str]) -> None:
    """Count the figures again from the tables (after a bulk load with the triggers paused)."""
    for table in tables:
        execute(f"DELETE FROM {TABLE} WHERE name = '{table}'")
        execute(f"INSERT INTO {TABLE} (name, row_count, version_sum) {_aggregate_named(table)}")


# -- reading and proving ----------------------------------------------------------------------
def kept(query: Query, tables: Iterable[str]) -> dict[str, list[int]]:
    """The maintained figures of these tables (those the totals cover)."""
    wanted = set(tables)
    rows = query(f"SELECT name, row_count, version_sum FROM {TABLE}")
    return {str(r[0]): [int(r[1]), int(r[2])] for r in rows if r[0] in wanted}


def recount(query: Query, tables: Iterable[str]) -> dict[str, list[int]]:
    """The same figures counted from the tables themselves (a scan of each)."""
    out: dict[str, list[int]] = {}
    for table in tables:
        row = query(_aggregate(table))[0]
        out[table] = [int(row[0]), int(row[1])]
    return out


def compare(query: Query, tables: Iterable[str]) -> dict[str, tuple[list[int] | None, list[int]]]:
    """Each table whose kept figures differ from a recount: (kept, counted)."""
    names = list(tables)
    have, want = kept(query, names), recount(query, names)
    return {n: (have.get(n), want[n]) for n in names if have.get(n) != want[n]}


def differences(query: Query, tables: Iterable[str]) -> list[str]:
    """``compare`` as sentences (none when the triggers held)."""
    return [
        f"sync totals of {name}: kept {have}, counted {want}"
        for name, (have, want) in compare(query, tables).items()
    ]
