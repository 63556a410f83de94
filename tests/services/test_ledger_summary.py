"""The ledger summary (issue 21): balances the database maintains by trigger, proved equal to
the ledger — after money moves through every billing service, after a migration backfills an
existing desk, and after a bulk load rebuilds it — and read by aged debtors, accounts and
statements with the same figures a full scan of the ledger gives."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from billing_world import World, make_world
from sqlalchemy import text

from frontdesk.db import migrate
from frontdesk.db.types import key_text
from frontdesk.domain.billing import bucket_cutoffs
from frontdesk.services import billing
from frontdesk.services.billing.balances import check_balances, rebuild_balances
from frontdesk.services.billing.common import Debtor
from frontdesk.services.billing.ledger import aged_sql, ledger_entries
from frontdesk.store import balances
from frontdesk.store.context import ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    w = make_world(ctx, appointments=3)
    move_money(ctx, w)
    return w


def move_money(ctx: ServiceContext, w: World) -> None:
    """Every kind of ledger entry: invoices for a patient and for a payer, a part payment, a
    payment across invoices with credit kept, a credit note, a void, a refund, reversals."""
    a, b, c = (billing.invoice_from_appointment(ctx, x) for x in w.appointments)
    for inv in (a, b, c):
        billing.issue_invoice(ctx, inv)
    fund_inv = billing.invoice_from_appointment(ctx, w.fund_appointment)
    billing.issue_invoice(ctx, fund_inv)
    billing.take_payment(ctx, method="cash", amount_cents=4000, invoice_ids=[a])
    paid = billing.take_payment(
        ctx, method="eftpos", amount_cents=12_000, invoice_ids=[b], keep_credit=True
    )
    line = billing.invoice_view(ctx, c).lines[0]
    billing.issue_credit_note(ctx, c, "charged twice", {line.id: 2000})
    refund = billing.refund(ctx, method="cash", amount_cents=500, patient_id=w.patient)
    billing.reverse_entry(ctx, refund, "keyed twice")
    billing.void_invoice(ctx, b, "wrong patient")
    billing.take_payment(ctx, method="bank_transfer", amount_cents=1000, invoice_ids=[fund_inv])
    assert paid.payment_id


def figures(ctx: ServiceContext) -> list[tuple[object, ...]]:
    with ctx.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT debtor_id, balance_cents, owing_cents, credit_cents, open_invoices"
                    " FROM ledger_summary_debtors WHERE balance_cents != 0 OR owing_cents != 0"
                    " OR credit_cents != 0 ORDER BY debtor_id"
                )
            )
        ]


def test_money_through_every_service_keeps_the_summary_equal_to_the_ledger(
    ctx: ServiceContext, world: World
) -> None:
    check = check_balances(ctx)
    assert check.ok, check.differences
    assert check.invoices_checked >= 2 and check.debtors_checked >= 2
    acc = billing.patient_account(ctx, world.patient)
    with ctx.read() as s:
        scanned = sum(
            e.amount_cents for e in ledger_entries(s, Debtor(patient_id=world.patient), ctx.tz)
        )
    assert acc.balance_cents == scanned
    assert acc.balance_cents == acc.owing_cents - acc.credit_cents
    assert acc.credit_cents > 0  # the payment kept its extra as credit


def test_the_check_finds_a_summary_that_drifted_and_a_rebuild_repairs_it(
    ctx: ServiceContext, world: World
) -> None:
    with ctx.write("tamper") as s:
        s.execute(text("UPDATE ledger_summary_debtors SET balance_cents = balance_cents + 1"))
        s.execute(text("DELETE FROM ledger_summary_invoices"))
    check = check_balances(ctx)
    assert not check.ok
    assert any("balance" in d for d in check.differences)
    assert any(d.startswith("invoice ") for d in check.differences)
    rebuild_balances(ctx)
    assert check_balances(ctx).ok


def test_a_paused_summary_is_reported_and_a_rebuild_catches_up(
    ctx: ServiceContext, world: World
) -> None:
    before = figures(ctx)
    with ctx.write("bulk load") as s:
        balances.set_paused(s, True)
    billing.take_payment(ctx, method="cash", amount_cents=700, patient_id=world.patient)
    check = check_balances(ctx)
    assert any("paused" in d for d in check.differences)
    assert figures(ctx) == before  # the triggers were off
    rebuild_balances(ctx)
    assert check_balances(ctx).ok and figures(ctx) != before


def test_the_migration_backfills_an_existing_desk_from_its_ledger(
    ctx: ServiceContext, world: World
) -> None:
    expected = figures(ctx)
    path = ctx.engine.url.database
    assert path
    ctx.engine.dispose()
    _down(ctx)
    raw = sqlite3.connect(path)
    assert not raw.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'ledger_summary%'"
    ).fetchall()
    raw.close()
    migrate.upgrade(ctx.engine)
    assert figures(ctx) == expected
    assert check_balances(ctx).ok


def _down(ctx: ServiceContext) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    with ctx.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        before = ScriptDirectory.from_config(cfg).get_revision("0350_perf").down_revision
        command.downgrade(cfg, str(before))  # to just before the summary
    ctx.engine.dispose()


def test_aged_debtors_and_statements_give_the_full_ledger_scan_figures(
    ctx: ServiceContext, world: World
) -> None:
    today = date(2027, 2, 10)  # some invoices now in older buckets
    aged = billing.aged_debtors(ctx, today)
    c30, c60, c90 = bucket_cutoffs(today)
    with ctx.read() as s:
        raw = s.execute(
            text(aged_sql()),
            {"c30": c30.isoformat(), "c60": c60.isoformat(), "c90": c90.isoformat()},
        ).all()
    scanned = sorted((key_text(r[0] or r[1]), *map(int, r[2:])) for r in raw)  # keys: 16 bytes
    got = sorted(
        (row.debtor.funder_id or row.debtor.patient_id, *row.buckets.values(), row.total_cents)
        for row in aged.rows
    )
    assert got == scanned and len(got) == 2
    assert {r.is_payer for r in aged.rows} == {True, False}
    debtor = Debtor(patient_id=world.patient)
    start, end = today - timedelta(days=120), today
    st = billing.statement(ctx, debtor, start, end)
    with ctx.read() as s:
        entries = ledger_entries(s, debtor, ctx.tz)
    assert st.opening_cents == sum(e.amount_cents for e in entries if e.day < start)
    assert st.closing_cents == sum(e.amount_cents for e in entries if e.day <= end)
    assert [ln.entry for ln in st.lines] == [e for e in entries if start <= e.day <= end]
    late = billing.statement(ctx, debtor, today + timedelta(days=1), today + timedelta(days=30))
    assert late.lines == [] and late.opening_cents == st.closing_cents
