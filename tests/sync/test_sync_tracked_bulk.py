"""The tracked bulk path (store/tracked_bulk.py) records what the ORM path records: the same
outbox fields and audit events for the same change, an intact audit chain, ledger balances equal
to the ledger — and its changes reach another desk through a real clinic server."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from frontdesk.models import AuditEvent, Invoice, Payment, PaymentAllocation, SyncOutbox
from frontdesk.services import billing
from frontdesk.services.audit import verify_chain
from frontdesk.services.billing.balances import check_balances
from frontdesk.store.tracked_bulk import TrackedBulk
from tests.sync.clinic import Clinic

IDS = {"id", "invoice_id", "payment_id"}


def _logged(desk: Any, row_id: str) -> tuple[list[tuple[str, dict[str, Any]]], list[Any]]:
    with desk.ctx.read() as s:
        out = [
            (r.op, {k: v for k, v in json.loads(r.fields_json).items() if k not in IDS})
            for r in s.scalars(select(SyncOutbox).where(SyncOutbox.row_id == row_id))
        ]
        audit = [
            (a.action, a.entity, json.loads(a.before_json or "{}"), json.loads(a.after_json))
            for a in s.scalars(select(AuditEvent).where(AuditEvent.entity_id == row_id))
        ]
    for _action, _entity, _before, after in audit:
        for key in IDS & set(after):
            after.pop(key)
    return out, audit


def test_bulk_writes_log_what_the_orm_logs_and_sync(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient()
    numbers = [a.invoice(patient, 9500), a.invoice(patient, 9500)]
    pay = a.pay(patient, 19_000)
    with a.ctx.read() as s:
        inv_orm, inv_bulk = (
            s.scalars(select(Invoice.id).where(Invoice.number == n)).one() for n in numbers
        )
    with a.ctx.write("allocate") as s:
        s.add(PaymentAllocation(payment_id=pay, invoice_id=inv_orm, amount_cents=9500))
        s.get(Payment, pay).note = "one by one"  # type: ignore[union-attr]
    with a.ctx.write("allocate") as s:
        bulk = TrackedBulk(s)
        alloc = bulk.insert(
            PaymentAllocation, payment_id=pay, invoice_id=inv_bulk, amount_cents=9500
        )
        bulk.update(s.get(Payment, pay), note="in bulk")  # type: ignore[arg-type]
        bulk.flush()
        assert s.get(Payment, pay).note == "in bulk"  # type: ignore[union-attr]
    with a.ctx.read() as s:
        orm_alloc = s.scalars(
            select(PaymentAllocation.id).where(PaymentAllocation.invoice_id == inv_orm)
        ).one()
    assert _logged(a, alloc) == _logged(a, orm_alloc)
    orm_note, bulk_note = _logged(a, pay)[1][-2:]
    assert orm_note[3] == {"note": "one by one"} and bulk_note[3] == {"note": "in bulk"}
    assert bulk_note[2] == {"note": "one by one"}  # the value before, as the ORM records it
    assert verify_chain(a.ctx).intact
    assert check_balances(a.ctx).differences == []
    assert billing.invoice_view(a.ctx, inv_bulk).owing_cents == 0

    clinic.settle()
    assert check_balances(b.ctx).differences == []
    assert billing.invoice_view(b.ctx, inv_bulk).owing_cents == 0
    with b.ctx.read() as s:
        assert s.get(Payment, pay).note == "in bulk"  # type: ignore[union-attr]
    clinic.assert_converged()
