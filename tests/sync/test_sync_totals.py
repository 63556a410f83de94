"""The sync check's per-table totals (frontdesk/db/sync_totals.py): kept by triggers on the desk
and on the server (SQLite and PostgreSQL), read by the check instead of counting whole tables,
recounted when a table disagrees, and proved by ``frontdesk-server check-totals``."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import text

from frontdesk.db import sync_totals
from frontdesk.models import Appointment
from frontdesk.server.cli import main as server_main
from frontdesk.services.billing.balances import check_balances
from frontdesk.store.balances import covered_tables
from tests.sync.clinic import START, Clinic


def _desk_sql(clinic_desk, sql: str) -> None:  # type: ignore[no-untyped-def]
    """A write behind sync's back, straight into the desk's file."""
    path = clinic_desk.ctx.engine.url.database
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def _kept(desk) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    with desk.ctx.read() as s:
        return sync_totals.kept(lambda q: s.execute(text(q)).all(), ["appointments"])


def test_every_synced_table_has_its_triggers_on_desk_and_server(any_clinic: Clinic) -> None:
    d = any_clinic.add_desk()
    covered = covered_tables()
    assert set(sync_totals.TABLES_0380) <= set(covered)
    assert "appointments" in covered and "audit_events" in covered
    with d.ctx.read() as s:
        names = set(
            s.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
        kept = set(s.execute(text("SELECT name FROM sync_table_totals")).scalars())
    for table in covered:
        assert {f"sync_totals_{table}_{k}" for k in ("ai", "ad", "au")} <= names, table
    assert kept == set(covered)
    with any_clinic.store.reading() as conn:
        if any_clinic.store.is_postgres:
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE t.tgname = 'sync_totals_ai'"
                )
            ).scalars()
            triggered = set(rows)
        else:
            triggered = {
                n.removeprefix("sync_totals_").removesuffix("_ai")
                for n in conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name LIKE 'sync_totals_%_ai'")
                ).scalars()
            }
        assert triggered == set(covered)


def test_a_desk_that_lost_rows_is_detected_and_repaired_at_its_next_sync(
    any_clinic: Clinic,
) -> None:
    a = any_clinic.add_desk()
    prac = a.add_practitioner()
    for n in range(6):
        a.book(prac, None, START + timedelta(hours=n))
    b = any_clinic.add_desk()
    any_clinic.settle()
    before = _kept(b)["appointments"]
    _desk_sql(b, "DELETE FROM appointments WHERE rowid IN (SELECT rowid FROM appointments LIMIT 2)")
    assert _kept(b)["appointments"][0] == before[0] - 2  # the triggers saw the loss
    a.book(prac, None, START + timedelta(days=1))  # one incoming change to the table
    a.sync()
    summary = b.engine.sync()
    assert summary.snapshot_rows >= 7 and summary.mismatched == []
    assert len(b.ids(Appointment)) == 7
    assert any_clinic.totals_differences() == []
    any_clinic.assert_converged()


def test_a_desk_figure_that_drifted_is_recounted_without_a_resync(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    """The rows agree with the server but the kept figure does not (e.g. written while the
    triggers were off): the check counts this desk's table, corrects the figure, and does not
    re-sync the table."""
    a = clinic.add_desk()
    prac = a.add_practitioner()
    a.book(prac, None, START)
    b = clinic.add_desk()
    clinic.settle()
    _desk_sql(
        b, "UPDATE sync_table_totals SET row_count = row_count + 5 WHERE name = 'appointments'"
    )
    with b.ctx.read() as s:
        assert sync_totals.differences(lambda q: s.execute(text(q)).all(), covered_tables())
    assert any("sync totals of appointments" in x for x in check_balances(b.ctx).differences)
    a.book(prac, None, START + timedelta(hours=1))
    a.sync()
    with caplog.at_level(logging.WARNING, logger="frontdesk.sync"):
        summary = b.engine.sync()
    assert "sync totals differed from a count: appointments" in caplog.text
    assert "table check mismatch" not in caplog.text
    assert summary.snapshot_rows == 0 and summary.mismatched == []
    assert clinic.totals_differences() == []
    assert check_balances(b.ctx).differences == []


def test_server_totals_are_proved_and_repaired_by_the_cli(
    any_clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    a = any_clinic.add_desk()
    a.book(a.add_practitioner(), None, START)
    any_clinic.settle(1)
    url = any_clinic.url
    assert server_main(["--database", url, "check-totals"]) == 0
    assert "0 table(s) differ." in capsys.readouterr().out
    with any_clinic.store.writing() as conn:
        conn.execute(
            text(
                "UPDATE sync_table_totals SET version_sum = version_sum + 3"
                " WHERE name = 'appointments'"
            )
        )
    assert server_main(["--database", url, "check-totals"]) == 1
    out = capsys.readouterr().out
    assert "Differs: appointments: kept [1, 4], counted [1, 1]" in out
    assert server_main(["--database", url, "check-totals", "--repair"]) == 0
    assert any_clinic.totals_differences() == []


def test_server_made_rows_and_deletes_keep_the_server_totals(any_clinic: Clinic) -> None:
    """Rows the server writes itself (its audit trail's refusals, merges that bump versions)
    and rows deleted on the server move the figures in the same transaction."""
    a = any_clinic.add_desk()
    prac = a.add_practitioner()
    ids = [a.book(prac, None, START + timedelta(hours=n)) for n in range(3)]
    a.move(ids[0], START + timedelta(hours=5))
    a.cancel(ids[1])
    any_clinic.settle(2)
    with any_clinic.store.writing() as conn:
        conn.execute(text("DELETE FROM appointments WHERE id = :i"), {"i": ids[2]})
    assert any_clinic.totals_differences() == []
    with any_clinic.store.reading() as conn:
        n, total = sync_totals.kept(lambda q: conn.execute(text(q)).all(), ["appointments"])[
            "appointments"
        ]
    assert n == 2 and total >= 2 + 2  # two left, two of them changed after booking
