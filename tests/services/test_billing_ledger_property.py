"""Random sequences of billing operations on a real desk database. After every step: balances
equal the sum of the ledger and owing minus credit, allocations never exceed what is owed or
paid, and invoice and credit-note numbers stay unique and gapless."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from billing_world import make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import CreditNote, Invoice, Payment, PaymentAllocation
from frontdesk.paths import DeskPaths
from frontdesk.services import billing
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.billing.common import Debtor
from frontdesk.services.billing.ledger import account
from frontdesk.services.billing.payments import credited_on
from frontdesk.services.desk import open_desk

amounts = st.integers(1, 30_000)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), amounts, st.integers(0, 2_000)),
        st.tuples(st.just("pay"), st.integers(0, 5), amounts, st.booleans()),
        st.tuples(st.just("credit"), st.integers(0, 5), amounts),
        st.tuples(st.just("refund"), amounts),
        st.tuples(st.just("reverse"), st.integers(0, 8)),
        st.tuples(st.just("void"), st.integers(0, 5)),
        st.tuples(st.just("use_credit"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=14,
)


def check_invariants(ctx, patient: str) -> None:  # type: ignore[no-untyped-def]
    acc = account(ctx, Debtor(patient_id=patient))
    assert acc.balance_cents == acc.owing_cents - acc.credit_cents
    check = check_balances(ctx)  # the maintained summary equals the ledger (issue 21)
    assert check.ok, check.differences
    assert acc.credit_cents >= 0
    with ctx.read() as s:
        for inv in s.scalars(select(Invoice).where(Invoice.deleted_at.is_(None))):
            allocated = (
                s.scalar(
                    select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0)).where(
                        PaymentAllocation.invoice_id == inv.id
                    )
                )
                or 0
            )
            credited = credited_on(s, inv.id)
            if inv.status == "void":
                assert allocated == 0
            else:
                assert 0 <= allocated <= inv.total_cents - credited
                assert credited <= inv.total_cents
        for pay in s.scalars(select(Payment).where(Payment.kind == "payment")):
            used = (
                s.scalar(
                    select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0)).where(
                        PaymentAllocation.payment_id == pay.id
                    )
                )
                or 0
            )
            assert 0 <= used <= pay.amount_cents
        for model, prefix in ((Invoice, "INV"), (CreditNote, "CN")):
            numbers = sorted(n for n in s.scalars(select(model.number)) if n)
            assert numbers == [f"{prefix}-{i:06d}" for i in range(1, len(numbers) + 1)]


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops)
def test_ledger_invariants_hold_after_any_sequence(tmp_path_factory, steps) -> None:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("desk")
    ctx = open_desk(DeskPaths(folder), clock=FakeClock(datetime(2026, 11, 26, 22, 0, tzinfo=UTC)))
    try:
        world = make_world(ctx, appointments=0)
        invoices: list[str] = []
        entries: list[str] = []
        for step in steps:
            kind = step[0]
            try:
                if kind == "invoice":
                    inv = billing.create_draft(
                        ctx,
                        billing.DraftHeader(world.patient),
                        [billing.DraftLine("Item", step[1], discount_bp=step[2], taxable=True)],
                    )
                    billing.issue_invoice(ctx, inv)
                    invoices.append(inv)
                elif kind == "pay" and invoices:
                    ids = invoices[step[1] % len(invoices) :]
                    entries.append(
                        billing.take_payment(
                            ctx,
                            method="cash",
                            amount_cents=step[2],
                            invoice_ids=ids,
                            keep_credit=step[3],
                        ).payment_id
                    )
                elif kind == "credit" and invoices:
                    inv = invoices[step[1] % len(invoices)]
                    line = billing.invoice_view(ctx, inv).lines[0]
                    billing.issue_credit_note(ctx, inv, "adjust", {line.id: step[2]})
                elif kind == "refund":
                    entries.append(
                        billing.refund(
                            ctx, method="cash", amount_cents=step[1], patient_id=world.patient
                        )
                    )
                elif kind == "reverse" and entries:
                    billing.reverse_entry(ctx, entries[step[1] % len(entries)], "mistake")
                elif kind == "void" and invoices:
                    billing.void_invoice(ctx, invoices[step[1] % len(invoices)], "wrong")
                elif kind == "use_credit" and invoices:
                    billing.apply_credit(ctx, invoices[step[1] % len(invoices)])
            except FrontdeskError:
                pass  # refused: the invariants below must still hold
            check_invariants(ctx, world.patient)
    finally:
        ctx.engine.dispose()
