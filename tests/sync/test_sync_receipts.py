"""Receipt numbers across desks (issue 14 item 7): each desk numbers receipts from its own series
(D1R-…, D2R-…), the clinic server stores the number, and a payment carrying another desk's
receipt number is set aside with a plain reason, like an invoice from another desk's series."""

from __future__ import annotations

from frontdesk.models import Payment
from frontdesk.services.billing.payments import take_payment
from frontdesk.sync.conflicts import list_refused
from tests.sync.clinic import Clinic


def test_receipts_are_numbered_per_desk_and_kept_by_the_server(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient()
    clinic.settle(2)
    ra = take_payment(a.ctx, method="cash", amount_cents=1500, patient_id=patient)
    rb = take_payment(b.ctx, method="eftpos", amount_cents=2500, patient_id=patient)
    assert ra.receipt_number == "D1R-000001" and rb.receipt_number == "D2R-000001"
    clinic.settle(3)
    server = clinic.server_rows()["payments"]
    assert sorted(r["receipt_number"] for r in server.values()) == ["D1R-000001", "D2R-000001"]
    clinic.assert_converged()

    with b.ctx.write("a receipt from another series") as s:
        stray = Payment(
            kind="payment",
            method="cash",
            amount_cents=100,
            patient_id=patient,
            received_at=b.clock.now(),
            business_date=b.clock.now().date(),
            device_id=b.ctx.device_id,
            receipt_number="D1R-000077",
        )
        s.add(stray)
        s.flush()
        stray_id = stray.id
    assert b.sync()
    refused = list_refused(b.ctx)
    assert len(refused) == 1
    assert "D1R-000077" in refused[0].reason and "desk1" in refused[0].reason
    assert stray_id not in clinic.server_rows()["payments"]
