"""Payments, credit, refunds, reversals, balances and end-of-day takings — and the invariant that
a balance always equals the sum of the ledger and what is owed minus the credit held."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from billing_world import World, make_world
from sqlalchemy import func, select

from frontdesk.domain.errors import PermissionDenied, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import PaymentMethod, Role
from frontdesk.models import AuditEvent, Payment, PaymentAllocation, StaffUser
from frontdesk.services import billing
from frontdesk.services.billing.common import Debtor
from frontdesk.store.context import Actor, ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def issued(ctx: ServiceContext, appointment_id: str) -> str:
    invoice_id = billing.invoice_from_appointment(ctx, appointment_id)
    billing.issue_invoice(ctx, invoice_id)
    return invoice_id


def money_rows(ctx: ServiceContext) -> tuple[int, int]:
    with ctx.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Payment)) or 0,
            s.scalar(select(func.count()).select_from(PaymentAllocation)) or 0,
        )


def assert_ledger_consistent(ctx: ServiceContext, debtor: Debtor) -> None:
    from frontdesk.services.billing.ledger import account

    acc = account(ctx, debtor)
    assert acc.balance_cents == acc.owing_cents - acc.credit_cents
    assert acc.credit_cents >= 0


def test_partial_payments_and_one_payment_across_invoices(
    ctx: ServiceContext, world: World
) -> None:
    a, b, c = (issued(ctx, x) for x in world.appointments)
    billing.take_payment(ctx, method="cash", amount_cents=4000, invoice_ids=[a])
    assert billing.invoice_view(ctx, a).owing_cents == 5500
    result = billing.take_payment(
        ctx,
        method=PaymentMethod.EFTPOS,
        amount_cents=5500 + 9500 + 100,
        invoice_ids=[a, b, c],
        reference="T-1",
    )
    assert result.applied == {a: 5500, b: 9500, c: 100}
    assert result.credit_cents == 0
    assert [billing.invoice_view(ctx, i).owing_cents for i in (a, b, c)] == [0, 0, 9400]
    assert_ledger_consistent(ctx, Debtor(patient_id=world.patient))


def test_overpayment_is_offered_as_credit_and_used_later(ctx: ServiceContext, world: World) -> None:
    a = issued(ctx, world.appointments[0])
    before = money_rows(ctx)
    with pytest.raises(billing.OverpaymentOffered) as offer:
        billing.take_payment(ctx, method="eftpos", amount_cents=20000, invoice_ids=[a])
    assert offer.value.excess_cents == 10500
    assert "account credit" in offer.value.user_message
    assert money_rows(ctx) == before
    billing.take_payment(
        ctx, method="eftpos", amount_cents=20000, invoice_ids=[a], keep_credit=True
    )
    acc = billing.patient_account(ctx, world.patient)
    assert (acc.credit_cents, acc.balance_cents) == (10500, -10500)
    b = issued(ctx, world.appointments[1])
    assert billing.apply_credit(ctx, b) == 9500
    assert billing.invoice_view(ctx, b).owing_cents == 0
    assert billing.patient_account(ctx, world.patient).credit_cents == 1000
    # Using credit moves no money: the day's takings are still the one payment.
    assert billing.takings(ctx, billing.business_day(ctx)).expected_cents == 20000
    assert_ledger_consistent(ctx, Debtor(patient_id=world.patient))


def test_refunds_never_exceed_what_was_paid_and_not_used(ctx: ServiceContext, world: World) -> None:
    a = issued(ctx, world.appointments[0])
    billing.take_payment(
        ctx,
        method="credit_card",
        amount_cents=10000,
        invoice_ids=[a],
        keep_credit=True,
    )
    before = money_rows(ctx)
    with pytest.raises(RuleViolation, match="more than that"):
        billing.refund(ctx, method="credit_card", amount_cents=501, patient_id=world.patient)
    with pytest.raises(ValidationFailed):
        billing.refund(ctx, method="credit_card", amount_cents=0, patient_id=world.patient)
    assert money_rows(ctx) == before
    billing.refund(ctx, method="credit_card", amount_cents=500, patient_id=world.patient)
    assert billing.patient_account(ctx, world.patient).balance_cents == 0
    # Refunding money paid on an invoice needs a credit note first.
    billing.issue_credit_note(
        ctx, a, "Session cut short", {billing.invoice_view(ctx, a).lines[0].id: 2000}
    )
    assert billing.patient_account(ctx, world.patient).credit_cents == 2000
    billing.refund(ctx, method="credit_card", amount_cents=2000, patient_id=world.patient)
    takings = billing.takings(ctx, billing.business_day(ctx))
    assert takings.by_method[PaymentMethod.CREDIT_CARD] == 10000 - 500 - 2000
    assert_ledger_consistent(ctx, Debtor(patient_id=world.patient))


def test_reversals_keep_history_and_restore_the_invoice(ctx: ServiceContext, world: World) -> None:
    a = issued(ctx, world.appointments[0])
    paid = billing.take_payment(ctx, method="eftpos", amount_cents=9500, invoice_ids=[a])
    with pytest.raises(ValidationFailed):
        billing.reverse_entry(ctx, paid.payment_id, "")
    rev = billing.reverse_entry(ctx, paid.payment_id, "Terminal declined after all")
    assert billing.invoice_view(ctx, a).owing_cents == 9500
    with pytest.raises(RuleViolation, match="already been reversed"):
        billing.reverse_entry(ctx, paid.payment_id, "again")
    with pytest.raises(RuleViolation, match="cannot itself"):
        billing.reverse_entry(ctx, rev, "undo")
    with ctx.read() as s:
        kinds = sorted(s.scalars(select(Payment.kind)))
    assert kinds == ["payment", "reversal"]
    assert billing.takings(ctx, billing.business_day(ctx)).expected_cents == 0
    assert_ledger_consistent(ctx, Debtor(patient_id=world.patient))


def test_a_refunded_payment_cannot_be_reversed_until_the_refund_is(
    ctx: ServiceContext, world: World
) -> None:
    pay = billing.take_payment(ctx, method="cash", amount_cents=3000, patient_id=world.patient)
    refund_id = billing.refund(ctx, method="cash", amount_cents=1000, patient_id=world.patient)
    with pytest.raises(RuleViolation, match="Reverse the refund first"):
        billing.reverse_entry(ctx, pay.payment_id, "mistake")
    billing.reverse_entry(ctx, refund_id, "mistake")
    billing.reverse_entry(ctx, pay.payment_id, "mistake")
    acc = billing.patient_account(ctx, world.patient)
    assert (acc.balance_cents, acc.credit_cents) == (0, 0)


def test_payer_balances_and_aged_debtors(ctx: ServiceContext, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    funded = issued(ctx, world.fund_appointment)
    own = issued(ctx, world.appointments[0])
    clock.advance(timedelta(days=45))
    late = issued(ctx, world.appointments[1])
    billing.take_payment(ctx, method="bank_transfer", amount_cents=4000, invoice_ids=[funded])
    payer = billing.payer_account(ctx, world.fund)
    assert (payer.name, payer.owing_cents) == ("Bupa", 5000)
    aged = billing.aged_debtors(ctx)
    rows = {r.name: r for r in aged.rows}
    assert (
        rows["Bupa"].is_payer and rows["Bupa"].buckets[billing.ledger.AgeBucket.DAYS_31_60] == 5000
    )
    karen = rows["Karen Kim"]
    assert karen.buckets[billing.ledger.AgeBucket.DAYS_31_60] == 9500
    assert karen.buckets[billing.ledger.AgeBucket.CURRENT] == 9500
    assert aged.total_cents == 5000 + 9500 + 9500
    st = billing.statement(
        ctx, Debtor(patient_id=world.patient), date(2026, 11, 1), billing.business_day(ctx)
    )
    assert st.closing_cents == 19000
    assert [ln.entry.reference for ln in st.lines] == ["INV-000002", "INV-000003"]
    assert own and late


def test_end_of_day_close_variance_and_reopen(ctx: ServiceContext, world: World) -> None:
    a = issued(ctx, world.appointments[0])
    billing.take_payment(ctx, method="cash", amount_cents=5000, invoice_ids=[a])
    billing.take_payment(ctx, method="eftpos", amount_cents=4500, invoice_ids=[a])
    today = billing.business_day(ctx)
    t = billing.takings(ctx, today)
    assert (t.by_method[PaymentMethod.CASH], t.by_method[PaymentMethod.EFTPOS]) == (5000, 4500)
    with pytest.raises(ValidationFailed, match="note"):
        billing.close_day(ctx, today, {"cash": 4950, "eftpos": 4500})
    billing.close_day(ctx, today, {"cash": 4950, "eftpos": 4500}, "Short 50c in the float")
    closed = billing.takings(ctx, today)
    assert closed.closed_at is not None and closed.variance_cents == -50
    b = issued(ctx, world.appointments[1])
    before = money_rows(ctx)
    with pytest.raises(RuleViolation, match="reopen"):
        billing.take_payment(ctx, method="cash", amount_cents=100, invoice_ids=[b])
    assert money_rows(ctx) == before
    with ctx.write("add staff") as s:
        user = StaffUser(username="r", display_name="R", role="reception", password_hash="x")
        s.add(user)
        s.flush()
        uid = user.id
    ctx.actor = Actor(uid, "R", Role.RECEPTION)
    with pytest.raises(PermissionDenied):
        billing.reopen_day(ctx, today, "late payment")
    ctx.actor = Actor()
    billing.reopen_day(ctx, today, "late payment")
    billing.take_payment(ctx, method="cash", amount_cents=100, invoice_ids=[b])
    billing.close_day(ctx, today, {"cash": 5050, "eftpos": 4500}, "Short 50c in the float")
    assert billing.takings(ctx, today).counted_cents == 9550
    with ctx.read() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "reopen a closed day")
            )
            == 2
        )  # the row change and the event


def test_payment_bad_input_changes_nothing(ctx: ServiceContext, world: World) -> None:
    a = issued(ctx, world.appointments[0])
    funded = issued(ctx, world.fund_appointment)
    draft = billing.invoice_from_appointment(ctx, world.appointments[1])
    before = money_rows(ctx)
    for kwargs, error in [
        ({"amount_cents": 0, "invoice_ids": [a]}, ValidationFailed),
        ({"amount_cents": -500, "invoice_ids": [a]}, ValidationFailed),
        ({"amount_cents": 500, "invoice_ids": [a, funded]}, RuleViolation),
        ({"amount_cents": 500, "invoice_ids": [draft]}, RuleViolation),
        ({"amount_cents": 500}, ValidationFailed),
    ]:
        with pytest.raises(error):
            billing.take_payment(ctx, method="cash", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        billing.take_payment(ctx, method="account_credit", amount_cents=500, invoice_ids=[a])
    with pytest.raises(RuleViolation, match="no account credit"):
        billing.apply_credit(ctx, a)
    assert money_rows(ctx) == before
