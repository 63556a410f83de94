"""Money rules as properties: line and invoice totals, GST one eleventh per line, allocations,
credit-note limits, the ledger, age buckets and the words a tax invoice must carry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.domain.billing import (
    AgeBucket,
    CreditableLine,
    EntryKind,
    LineInput,
    age_bucket,
    buyer_identity_required,
    check_allocation,
    credit_line,
    document_title,
    includes_gst_statement,
    invoice_totals,
    ledger_balance,
    line_totals,
    split_payment,
)
from frontdesk.domain.errors import RuleViolation, ValidationFailed

lines = st.builds(
    LineInput,
    quantity=st.integers(1, 50),
    unit_price_cents=st.integers(0, 500_000),
    discount_bp=st.integers(0, 10_000),
    taxable=st.booleans(),
    tax_rate_bp=st.just(1000),
)


@given(lines)
def test_line_total_is_gross_less_discount_and_never_negative(line: LineInput) -> None:
    t = line_totals(line)
    assert t.gross_cents == line.quantity * line.unit_price_cents
    assert 0 <= t.discount_cents <= t.gross_cents
    assert t.total_cents == t.gross_cents - t.discount_cents
    exact = Decimal(t.gross_cents) * line.discount_bp / 10_000
    assert abs(t.discount_cents - exact) <= Decimal("0.5")


@given(lines)
def test_line_gst_is_one_eleventh_rounded_to_the_cent(line: LineInput) -> None:
    t = line_totals(line)
    if not line.taxable:
        assert t.tax_cents == 0
        return
    assert abs(Decimal(t.tax_cents) - Decimal(t.total_cents) / 11) <= Decimal("0.5")
    assert 0 <= t.tax_cents <= t.total_cents


@given(st.lists(lines, min_size=1, max_size=12))
def test_invoice_totals_are_the_sum_of_the_lines(items: list[LineInput]) -> None:
    totals = [line_totals(x) for x in items]
    inv = invoice_totals(totals)
    assert inv.total_cents == sum(t.total_cents for t in totals)
    assert inv.tax_cents == sum(t.tax_cents for t in totals)
    # Per-line rounding differs from per-invoice rounding by at most half a cent per line.
    taxable = sum(t.total_cents for t, x in zip(totals, items, strict=True) if x.taxable)
    assert abs(Decimal(inv.tax_cents) - Decimal(taxable) / 11) <= Decimal("0.5") * len(items)


def test_full_discount_makes_a_free_line_and_gst_of_worked_examples() -> None:
    assert line_totals(LineInput(1, 9500, 10_000)).total_cents == 0
    assert line_totals(LineInput(1, 6500, 0, True, 1000)).tax_cents == 591  # 65.00 / 11 = 5.909
    assert line_totals(LineInput(3, 1000, 0, True, 1000)).tax_cents == 273  # 30.00 / 11 = 2.727
    assert line_totals(LineInput(1, 5, 0, True, 1000)).tax_cents == 0  # 0.45 c rounds down
    assert line_totals(LineInput(1, 6, 0, True, 1000)).tax_cents == 1  # 0.55 c rounds up


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineInput(0, 100), "quantity"),
        (LineInput(-2, 100), "quantity"),
        (LineInput(1, -100), "unit_price"),
        (LineInput(1, 100, 10_001), "discount"),
        (LineInput(1, 100, -1), "discount"),
    ],
)
def test_bad_lines_are_refused_with_the_field_named(line: LineInput, field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        line_totals(line)
    assert info.value.field == field
    assert info.value.user_message.endswith(".")


@given(st.integers(1, 10**7), st.lists(st.integers(-5000, 10**6), max_size=8))
def test_split_payment_never_applies_more_than_owed_or_paid(amount: int, owing: list[int]) -> None:
    applied, left = split_payment(amount, owing)
    assert sum(applied) + left == amount
    assert left >= 0
    for part, owed in zip(applied, owing, strict=True):
        assert 0 <= part <= max(owed, 0)
    if left:
        assert all(part == max(owed, 0) for part, owed in zip(applied, owing, strict=True))


def test_allocation_checks() -> None:
    check_allocation(500, 500, 500)
    with pytest.raises(RuleViolation):
        check_allocation(501, 500, 1000)
    with pytest.raises(RuleViolation):
        check_allocation(500, 1000, 499)
    with pytest.raises(ValidationFailed):
        check_allocation(0, 1000, 1000)


@given(lines, st.lists(st.integers(1, 10**6), min_size=1, max_size=6))
def test_credit_notes_never_exceed_the_line_nor_its_gst(line: LineInput, asks: list[int]) -> None:
    t = line_totals(line)
    state = CreditableLine(t.total_cents, t.tax_cents, tax_rate_bp=line.tax_rate_bp)
    for ask in asks:
        if ask > state.remaining_cents:
            with pytest.raises(RuleViolation):
                credit_line(state, ask)
            continue
        tax = credit_line(state, ask)
        state = CreditableLine(
            state.total_cents,
            state.tax_cents,
            state.credited_cents + ask,
            state.credited_tax_cents + tax,
            state.tax_rate_bp,
        )
        assert 0 <= state.credited_tax_cents <= state.tax_cents
        assert state.credited_cents <= state.total_cents
    if state.remaining_cents:
        final = credit_line(state, state.remaining_cents)
        assert state.credited_tax_cents + final == state.tax_cents


entries = st.lists(st.tuples(st.sampled_from(list(EntryKind)), st.integers(1, 10**6)))


@given(entries, entries)
def test_ledger_balance_is_additive_and_reversals_cancel(a: list, b: list) -> None:  # type: ignore[type-arg]
    assert ledger_balance(a + b) == ledger_balance(a) + ledger_balance(b)
    pay = [(EntryKind.PAYMENT, n) for _k, n in a]
    undo = [(EntryKind.REVERSAL_OF_PAYMENT, n) for _k, n in a]
    assert ledger_balance(pay + undo) == 0
    refunds = [(EntryKind.REFUND, n) for _k, n in b]
    assert ledger_balance(refunds + [(EntryKind.REVERSAL_OF_REFUND, n) for _k, n in b]) == 0


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, AgeBucket.CURRENT), (30, AgeBucket.CURRENT), (31, AgeBucket.DAYS_31_60),
     (60, AgeBucket.DAYS_31_60), (61, AgeBucket.DAYS_61_90), (90, AgeBucket.DAYS_61_90),
     (91, AgeBucket.OVER_90), (4000, AgeBucket.OVER_90)],
)  # fmt: skip
def test_age_buckets(days: int, bucket: AgeBucket) -> None:
    today = date(2026, 11, 27)
    assert age_bucket(today - timedelta(days=days), today) is bucket


def test_tax_invoice_wording() -> None:
    assert document_title(True) == "Tax invoice"
    assert document_title(False) == "Invoice"
    assert not buyer_identity_required(99_999)
    assert buyer_identity_required(100_000)
    all_taxable = [(6500, 591, True, 1000), (2200, 200, True, 1000)]
    assert includes_gst_statement(all_taxable, True)
    assert not includes_gst_statement(all_taxable, False)
    assert not includes_gst_statement([*all_taxable, (9500, 0, False, 0)], True)
    # per-line rounding that lands a cent away from one eleventh of the total: show amounts
    assert not includes_gst_statement([(6, 1, True, 1000), (6, 1, True, 1000)], True)
