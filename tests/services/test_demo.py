"""The demo clinic is realistic, consistent, and leaves the desk usable."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.identifiers import is_valid_medicare
from frontdesk.domain.vocab import SeriesKind
from frontdesk.services.billing.balances import check_balances
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number


def _db(ctx: ServiceContext) -> sqlite3.Connection:
    path = ctx.engine.url.database
    assert path
    return sqlite3.connect(path)


def test_demo_clinic_is_realistic_and_consistent(ctx: ServiceContext) -> None:
    summary = build_demo(ctx, DemoSpec(practitioners=8, patients=800))
    c = summary.counts
    assert c["practitioners"] == 8 and c["patients"] == 800 and c["rooms"] == 3
    assert c["appointments"] > 2000 and c["invoices"] > 1000 and c["payments"] > 1000
    db = _db(ctx)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    balances = check_balances(ctx)  # the ledger summary was computed once, at the end
    assert balances.ok and balances.invoices_checked > 10, balances.differences
    statuses = Counter(s for (s,) in db.execute("SELECT status FROM appointments"))
    assert {"completed", "booked", "cancelled", "did_not_arrive"} <= set(statuses)
    assert statuses["cancelled"] < statuses["completed"] / 5
    reasons = {r for (r,) in db.execute("SELECT cancellation_reason FROM appointments "
                                        "WHERE status = 'cancelled'")}  # fmt: skip
    assert None not in reasons and len(reasons) >= 4
    professions = {p for (p,) in db.execute("SELECT profession FROM practitioners")}
    assert len(professions) == 8
    assert db.execute("SELECT count(*) FROM roster_entries WHERE kind = 'break'").fetchone()[0]
    medicare = [m + i for m, i in db.execute("SELECT medicare_number, medicare_irn FROM patients")]
    assert all(is_valid_medicare(m) for m in medicare)
    numbers = [n for (n,) in db.execute("SELECT number FROM invoices ORDER BY number")]
    assert numbers == [f"INV-{i:06d}" for i in range(1, len(numbers) + 1)]
    # Invoices balance: every allocation points at an issued invoice and none is over-paid.
    over = db.execute(
        "SELECT count(*) FROM invoices i JOIN (SELECT invoice_id, sum(amount_cents) AS paid "
        "FROM payment_allocations GROUP BY invoice_id) a ON a.invoice_id = i.id "
        "WHERE a.paid > i.total_cents"
    ).fetchone()[0]
    assert over == 0
    # No appointment of one practitioner overlaps another of theirs.
    clash = db.execute(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.practitioner_id = "
        "b.practitioner_id AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
    ).fetchone()[0]
    assert clash == 0
    room_clash = db.execute(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.room_id = b.room_id "
        "AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
        "AND a.status != 'cancelled' AND b.status != 'cancelled'"
    ).fetchone()[0]
    assert room_clash == 0
    db.close()
    # The desk carries on numbering after the demo's invoices.
    with ctx.write("next") as s:
        _series, number = next_number(s, SeriesKind.INVOICE)
    assert number == f"INV-{len(numbers) + 1:06d}"


def test_demo_refuses_a_clinic_that_already_has_data(demo_ctx: ServiceContext) -> None:
    with pytest.raises(ValueError, match="already has practitioners"):
        build_demo(demo_ctx, DemoSpec(practitioners=1, patients=10))
