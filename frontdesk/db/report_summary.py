"""The report summary (issue 20): revenue and booked time kept by SQLite triggers, not scanned.

Two hand-made tables kept in the same transaction as every write to invoices and appointments
— whoever writes them (the services through the ORM, sync's upserts, a restore's migration):

- ``report_summary_revenue``: per issue day × practitioner × payer, the total of live issued
  invoices and how many (what revenue by month reads instead of a year of invoices);
- ``report_summary_booked``: per UTC start day × UTC start minute × length, how many live
  appointments not cancelled (what the occupancy heat map reads: a clinic's few hundred
  distinct start times a day instead of every appointment; the clinic's zone is applied when
  reading, so the triggers need no time-zone rules);
- ``report_summary_first_visits``: each patient's first live appointment not cancelled (when,
  with whom): what "new patients" counts instead of probing every patient seen in a period.

Keys never hold NULL (``''`` for "none") so the upsert finds its row. The triggers share the
ledger summary's switch (``ledger_summary_state.paused``): a bulk load that pauses the ledger
summary pauses these too, and ``store/balances.rebuild`` rebuilds both. ``check`` lists every
difference between the summary and the raw tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from frontdesk.db.ledger_summary import ACTIVE

TABLES = """
CREATE TABLE report_summary_revenue (
    issue_date DATE NOT NULL,
    practitioner_id VARCHAR(36) NOT NULL,
    payer_funder_id VARCHAR(36) NOT NULL,
    total_cents INTEGER NOT NULL DEFAULT 0,
    invoices INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_date, practitioner_id, payer_funder_id)
) WITHOUT ROWID;
CREATE TABLE report_summary_booked (
    day DATE NOT NULL,
    start_minute INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    appointments INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, start_minute, minutes)
) WITHOUT ROWID;
CREATE TABLE report_summary_first_visits (
    patient_id VARCHAR(36) NOT NULL PRIMARY KEY,
    first_at DATETIME NOT NULL,
    practitioner_id VARCHAR(36) NOT NULL
);
CREATE INDEX ix_report_summary_first_visits_first_at
    ON report_summary_first_visits (first_at, practitioner_id);
"""

# what counts, for a row alias r (NEW / OLD / a table alias)
_REVENUE_COUNTS = "{r}.status = 'issued' AND {r}.deleted_at IS NULL AND {r}.issue_date IS NOT NULL"
_BOOKED_COUNTS = "{r}.status != 'cancelled' AND {r}.deleted_at IS NULL"


def _revenue_key(r: str) -> str:
    return f"{r}.issue_date, coalesce({r}.practitioner_id, ''), coalesce({r}.payer_funder_id, '')"


def _booked_key(r: str, integer_times: bool = True) -> str:
    if integer_times:  # microseconds since 1970 (0390_inttimes)
        return (
            f"date({r}.starts_at / 1000000, 'unixepoch'), "
            f"({r}.starts_at / 60000000) % 1440, "
            f"CAST(round(({r}.ends_at - {r}.starts_at) / 60000000.0) AS INTEGER)"
        )
    return (  # the text times before 0390_inttimes
        f"substr({r}.starts_at, 1, 10), "
        f"CAST(substr({r}.starts_at, 12, 2) AS INTEGER) * 60 "
        f"+ CAST(substr({r}.starts_at, 15, 2) AS INTEGER), "
        f"CAST(round((julianday({r}.ends_at) - julianday({r}.starts_at)) * 1440) AS INTEGER)"
    )


def _add_revenue(r: str, sign: str) -> str:
    return (
        "INSERT INTO report_summary_revenue "
        "(issue_date, practitioner_id, payer_funder_id, total_cents, invoices) "
        f"SELECT {_revenue_key(r)}, {sign}{r}.total_cents, {sign}1 "
        f"WHERE {_REVENUE_COUNTS.format(r=r)} "
        "ON CONFLICT (issue_date, practitioner_id, payer_funder_id) DO UPDATE SET "
        "total_cents = total_cents + excluded.total_cents, "
        "invoices = invoices + excluded.invoices;"
    )


def _add_booked(r: str, sign: str, integer_times: bool) -> str:
    return (
        "INSERT INTO report_summary_booked (day, start_minute, minutes, appointments) "
        f"SELECT {_booked_key(r, integer_times)}, {sign}1 WHERE {_BOOKED_COUNTS.format(r=r)} "
        "ON CONFLICT (day, start_minute, minutes) DO UPDATE SET "
        "appointments = appointments + excluded.appointments;"
    )


_FIRST_VISIT = (
    "SELECT a.patient_id, a.starts_at, coalesce(a.practitioner_id, '') FROM appointments a "
    f"WHERE a.patient_id = {{p}} AND {_BOOKED_COUNTS.format(r='a')} "
    "ORDER BY a.starts_at, a.id LIMIT 1"
)


def _refresh_first_visit(patient: str) -> str:
    """The patient's first visit found again (one probe of the patient-and-start index)."""
    return (
        f"DELETE FROM report_summary_first_visits WHERE patient_id = {patient};"
        "INSERT INTO report_summary_first_visits (patient_id, first_at, practitioner_id) "
        f"SELECT * FROM ({_FIRST_VISIT.format(p=patient)}) WHERE {patient} IS NOT NULL;"
    )


def _trigger(name: str, event: str, table: str, body: Sequence[str]) -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {ACTIVE}\nBEGIN\n"
        + "\n".join(body)
        + "\nEND;"
    )


_INVOICE_COLUMNS = "status, total_cents, deleted_at, issue_date, practitioner_id, payer_funder_id"
_APPOINTMENT_COLUMNS = "status, deleted_at, starts_at, ends_at, patient_id, practitioner_id"


def triggers(integer_times: bool = True) -> list[str]:
    """The triggers; ``integer_times=False`` for a file before 0390_inttimes."""
    i = integer_times
    return [
        _trigger("report_invoices_ai", "INSERT", "invoices", [_add_revenue("NEW", "")]),
        _trigger("report_invoices_au", f"UPDATE OF {_INVOICE_COLUMNS}", "invoices",
                 [_add_revenue("OLD", "-"), _add_revenue("NEW", "")]),
        _trigger("report_invoices_ad", "DELETE", "invoices", [_add_revenue("OLD", "-")]),
        _trigger("report_appointments_ai", "INSERT", "appointments",
                 [_add_booked("NEW", "", i), _refresh_first_visit("NEW.patient_id")]),
        _trigger("report_appointments_au", f"UPDATE OF {_APPOINTMENT_COLUMNS}", "appointments",
                 [_add_booked("OLD", "-", i), _add_booked("NEW", "", i),
                  _refresh_first_visit("OLD.patient_id"), _refresh_first_visit("NEW.patient_id")]),
        _trigger("report_appointments_ad", "DELETE", "appointments",
                 [_add_booked("OLD", "-", i), _refresh_first_visit("OLD.patient_id")]),
    ]  # fmt: skip


TRIGGER_NAMES = [
    "report_invoices_ai", "report_invoices_au", "report_invoices_ad",
    "report_appointments_ai", "report_appointments_au", "report_appointments_ad",
]  # fmt: skip

# The same rows, computed from the raw tables at once (the backfill, the rebuild, the check).
RAW_REVENUE = (
    f"SELECT {_revenue_key('i')}, sum(i.total_cents), count(*) FROM invoices i "
    f"WHERE {_REVENUE_COUNTS.format(r='i')} GROUP BY 1, 2, 3"
)


def raw_booked(integer_times: bool = True) -> str:
    return (
        f"SELECT {_booked_key('a', integer_times)}, count(*) FROM appointments a "
        f"WHERE {_BOOKED_COUNTS.format(r='a')} GROUP BY 1, 2, 3"
    )


RAW_BOOKED = raw_booked()
RAW_FIRST_VISITS = (
    "SELECT patient_id, starts_at, practitioner_id FROM ("
    "SELECT a.patient_id, a.starts_at, coalesce(a.practitioner_id, '') AS practitioner_id, "
    "row_number() OVER (PARTITION BY a.patient_id ORDER BY a.starts_at, a.id) AS n "
    f"FROM appointments a WHERE a.patient_id IS NOT NULL AND {_BOOKED_COUNTS.format(r='a')}"
    ") WHERE n = 1"
)
KEPT_FIRST_VISITS = "SELECT patient_id, first_at, practitioner_id FROM report_summary_first_visits"
KEPT_REVENUE = (
    "SELECT issue_date, practitioner_id, payer_funder_id, total_cents, invoices "
    "FROM report_summary_revenue WHERE invoices != 0 OR total_cents != 0"
)
KEPT_BOOKED = (
    "SELECT day, start_minute, minutes, appointments FROM report_summary_booked "
    "WHERE appointments != 0"
)


def fill(execute: Callable[[str], object], integer_times: bool = True) -> None:
    execute(
        "INSERT INTO report_summary_revenue "
        f"(issue_date, practitioner_id, payer_funder_id, total_cents, invoices) {RAW_REVENUE}"
    )
    execute(
        "INSERT INTO report_summary_booked (day, start_minute, minutes, appointments) "
        + raw_booked(integer_times)
    )
    execute(
        "INSERT INTO report_summary_first_visits (patient_id, first_at, practitioner_id) "
        f"{RAW_FIRST_VISITS}"
    )


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def create(execute: Callable[[str], object], integer_times: bool = True) -> None:
    """Create the tables, backfill them, then add the triggers (``integer_times=False``: for a
    file before 0390_inttimes, whose times are text)."""
    for stmt in _statements(TABLES):
        execute(stmt)
    fill(execute, integer_times)
    for stmt in triggers(integer_times):
        execute(stmt)


def rebuild(execute: Callable[[str], object]) -> None:
    execute("DELETE FROM report_summary_revenue")
    execute("DELETE FROM report_summary_booked")
    execute("DELETE FROM report_summary_first_visits")
    fill(execute)


def drop(execute: Callable[[str], object]) -> None:
    for name in TRIGGER_NAMES:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    execute("DROP TABLE IF EXISTS report_summary_revenue")
    execute("DROP TABLE IF EXISTS report_summary_booked")
    execute("DROP TABLE IF EXISTS report_summary_first_visits")


def differences(query: Callable[[str], Sequence[Sequence[Any]]]) -> list[str]:
    """Every row where the summary and the raw tables disagree (empty when they agree)."""
    out: list[str] = []
    for name, raw_sql, kept_sql, width in (
        ("revenue", RAW_REVENUE, KEPT_REVENUE, 3),
        ("booked", RAW_BOOKED, KEPT_BOOKED, 3),
        ("first visit", RAW_FIRST_VISITS, KEPT_FIRST_VISITS, 1),
    ):
        want = {tuple(r[:width]): tuple(r[width:]) for r in query(raw_sql)}
        have = {tuple(r[:width]): tuple(r[width:]) for r in query(kept_sql)}
        for key in sorted(want.keys() | have.keys(), key=repr):
            if want.get(key) != have.get(key):
                out.append(f"{name} {key}: raw {want.get(key)}, summary {have.get(key)}")
    return out
