"""Receipts carry a receipt number (issue 14 item 7): money in is numbered from the desk's own
receipt series, gapless (a refused payment uses no number), refunds and reversals carry none,
and the number is printed on the receipt PDF (read back with pypdf)."""

from __future__ import annotations

import io

import pytest
from billing_world import World, make_world
from pypdf import PdfReader
from sqlalchemy import select

from frontdesk.domain.errors import ValidationFailed
from frontdesk.models import Payment
from frontdesk.services import billing
from frontdesk.services.documents import render_receipt
from frontdesk.store.context import ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def _receipt_text(ctx: ServiceContext, payment_id: str) -> str:
    pdf = render_receipt(billing.receipt_view(ctx, payment_id))
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_payments_are_numbered_gapless_and_the_number_is_printed(
    ctx: ServiceContext, world: World
) -> None:
    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    first = billing.take_payment(ctx, method="eftpos", amount_cents=1000, invoice_ids=[inv])
    assert first.receipt_number == "R-000001"
    # Refused payments (more than owing without keeping credit; nothing) use no number.
    with pytest.raises(billing.OverpaymentOffered):
        billing.take_payment(ctx, method="cash", amount_cents=999_999, invoice_ids=[inv])
    with pytest.raises(ValidationFailed):
        billing.take_payment(ctx, method="cash", amount_cents=0, invoice_ids=[inv])
    second = billing.take_payment(ctx, method="cash", amount_cents=500, invoice_ids=[inv])
    assert second.receipt_number == "R-000002"

    text = _receipt_text(ctx, second.payment_id)
    assert "Receipt no. R-000002" in text
    assert "R-000001" not in text
    assert "Receipt no. R-000001" in _receipt_text(ctx, first.payment_id)

    billing.reverse_entry(ctx, first.payment_id, "Keyed twice")
    credit = billing.take_payment(ctx, method="cash", amount_cents=200, patient_id=world.patient)
    assert credit.receipt_number == "R-000003"
    billing.refund(ctx, method="cash", amount_cents=200, patient_id=world.patient)
    with ctx.read() as s:
        rows = s.execute(select(Payment.kind, Payment.receipt_number)).all()
    numbered = sorted(n for k, n in rows if k == "payment")
    assert numbered == ["R-000001", "R-000002", "R-000003"]
    assert all(n is None for k, n in rows if k != "payment"), rows


def test_a_payment_recorded_before_receipt_numbers_prints_without_one(
    ctx: ServiceContext, world: World
) -> None:
    paid = billing.take_payment(ctx, method="cash", amount_cents=700, patient_id=world.patient)
    with ctx.write("an old payment") as s:
        row = s.get(Payment, paid.payment_id)
        assert row is not None
        row.receipt_number = None
    text = _receipt_text(ctx, paid.payment_id)
    assert "Receipt" in text and "Receipt no." not in text and "$7.00" in text
