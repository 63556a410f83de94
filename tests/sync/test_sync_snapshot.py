"""The first sync of a desk from a snapshot: what lands in the desk database is byte for byte
what the desk's own writes store, bad values are refused with nothing changed, local changes
still waiting are kept, indexes are all there afterwards, and progress advances."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest

from frontdesk.models import Appointment, CatalogueItem, Patient, synced_tables
from frontdesk.protocol import LOCAL_ONLY
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.billing.ledger import aged_debtors
from frontdesk.sync import snapshot
from frontdesk.sync.apply import desk_table
from frontdesk.sync.summary import SyncSummary
from frontdesk.sync.transport import desk_headers
from tests.sync.clinic import START, Clinic, Desk


def _raw_rows(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    path = desk.ctx.engine.url.database
    assert path
    conn = sqlite3.connect(path)
    try:
        return {
            name: conn.execute(f'SELECT * FROM "{name}" ORDER BY id').fetchall()
            for name in synced_tables()
            if name not in LOCAL_ONLY
        }
    finally:
        conn.close()


def _indexes(desk: Desk) -> set[tuple[str, str]]:
    path = desk.ctx.engine.url.database
    assert path
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
        return {(n, " ".join((sql or "").replace('"', "").split())) for n, sql in rows}
    finally:
        conn.close()


def _clinic_with_history(clinic: Clinic) -> Desk:
    a = clinic.add_desk("front")
    prac = a.add_practitioner()
    for n in range(30):
        pat = a.add_patient(f"Pat{n}", "O'Brien-Lee")
        a.edit_patient(pat, date_of_birth=date(1980, 1, 1) + timedelta(days=n), email=f"p{n}@x.au")
        appt = a.book(prac, pat, START + timedelta(hours=n))
        if n % 3 == 0:
            a.cancel(appt)
        a.pay(pat, 1000 + n)
        if n % 5 == 0:
            a.invoice(pat, 5000 + n)
    with a.ctx.write("catalogue") as s:
        s.add(CatalogueItem(code="X1", name="Consult", price_cents=9900, taxable=True))
    clinic.settle()
    return a


def test_first_sync_stores_exactly_what_the_desks_own_writes_store(any_clinic: Clinic) -> None:
    a = _clinic_with_history(any_clinic)
    seen: list[float] = []
    b = any_clinic.add_desk("new")
    b.engine.progress = lambda _stage, fraction: seen.append(fraction)
    assert b.sync()
    any_clinic.settle()
    any_clinic.assert_converged()
    assert _raw_rows(b) == _raw_rows(a)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    assert _indexes(b) == _indexes(a)  # indexes left out during the load are all back
    # the ledger summary, paused while the tables loaded bare, was rebuilt from them
    check = check_balances(b.ctx)
    assert check.ok and check.debtors_checked == 30, check.differences
    assert aged_debtors(b.ctx).rows == aged_debtors(a.ctx).rows
    with b.ctx.read() as s:  # the patient search index was filled as the rows arrived
        hits = s.connection().exec_driver_sql(
            "SELECT count(*) FROM patients_fts WHERE patients_fts MATCH 'obrienlee'"
        )
        assert hits.scalar() == 30


def test_snapshot_keeps_local_changes_still_waiting(clinic: Clinic) -> None:
    a = clinic.add_desk()
    b = clinic.add_desk()
    pat = a.add_patient("Sam", "Lee")
    clinic.settle()
    b.plain.online = False
    b.edit_patient(pat, first_name="Samuel")  # waiting to be pushed
    a.edit_patient(pat, last_name="Leigh", email="sam@x.au")
    assert a.sync()
    b.plain.online = True
    b.engine.resync(SyncSummary(), ["patients"])  # without pushing first
    with b.ctx.read() as s:
        row = s.get(Patient, pat)
        assert row is not None and row.first_name == "Samuel"  # nothing local discarded
    clinic.settle()
    clinic.assert_converged()
    with a.ctx.read() as s:
        row = s.get(Patient, pat)
        assert row is not None and (row.first_name, row.last_name) == ("Samuel", "Leigh")


def test_resync_of_one_mismatched_table_repairs_it(clinic: Clinic) -> None:
    a = clinic.add_desk()
    prac = a.add_practitioner()
    for n in range(12):
        a.book(prac, None, START + timedelta(hours=n))
    b = clinic.add_desk()
    clinic.settle()
    path = b.ctx.engine.url.database
    assert path
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM appointments WHERE rowid % 3 = 0")  # damage behind sync's back
    conn.commit()
    conn.close()
    summary = SyncSummary()
    assert b.engine.check_tables(["appointments"], summary) == ["appointments"]
    assert summary.mismatched == [] and summary.snapshot_rows == 12
    assert len(b.ids(Appointment)) == 12
    clinic.assert_converged()


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("appointments", "starts_at", "2026-11-27T09:00:00"),  # no zone
        ("appointments", "starts_at", "tomorrow"),
        ("appointments", "series_index", True),  # a bool is not a whole number
        ("appointments", "series_index", "3"),
        ("catalogue_items", "taxable", 1),  # 1 is not true
        ("patients", "date_of_birth", "1980-13-01"),
        ("patients", "postcode", "1234567890123"),  # longer than 12
        ("patients", "first_name", 7),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(
    clinic: Clinic, table: str, column: str, value: Any
) -> None:
    a = clinic.add_desk()
    prac = a.add_practitioner()
    a.book(prac, a.add_patient(), START)
    with a.ctx.write("catalogue") as s:
        s.add(CatalogueItem(code="X1", name="Consult", price_cents=9900))
    clinic.settle()
    page = clinic.client.get(
        f"/v1/snapshot/{table}",
        params={"form": "columns"},
        headers=desk_headers(a.engine.token),
    ).json()
    columns, rows = page["columns"], page["rows"]
    rows[0][columns.index(column)] = value
    rows[0][columns.index("version")] += 1
    t = desk_table(table)
    assert t is not None
    before = _raw_rows(a)
    with pytest.raises(ValueError), a.ctx.write("sync snapshot", origin="sync") as session:
        snapshot.apply_page(session, t, columns, rows, set())
    assert _raw_rows(a) == before


def test_pages_from_an_older_server_one_object_per_row_still_apply(clinic: Clinic) -> None:
    a = clinic.add_desk()
    for n in range(5):
        a.add_patient(f"Old{n}")
    clinic.settle()
    b = clinic.add_desk()
    real = b.engine._snapshot_page

    def old_server(name: str, after: str) -> dict[str, Any]:
        page = real(name, after)
        columns = page.pop("columns")
        page["rows"] = [dict(zip(columns, r, strict=True)) for r in page["rows"]]
        return page

    b.engine._snapshot_page = old_server  # type: ignore[method-assign]
    assert b.sync()
    clinic.settle()
    clinic.assert_converged()
    assert _raw_rows(a) == _raw_rows(b)
