"""Billing steps for the multi-desk property test, each through the services the screens use
(never the session), and the checks after quiescence: every billing row a desk made is on the
server or set aside there with a reason a person sees, and every balance equals the ledger."""

from __future__ import annotations

import contextlib
import json

from sqlalchemy import select

from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import Invoice, Patient, SyncOutbox
from frontdesk.services.billing.credit_notes import issue_credit_note
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    issue_invoice,
    void_invoice,
)
from frontdesk.services.billing.ledger import patient_account
from frontdesk.services.billing.payments import owing_on, refund, take_payment
from frontdesk.sync.conflicts import list_refused
from tests.sync.clinic import Clinic, Desk


def _pick(ids: list[str], k: int) -> str | None:
    return ids[k % len(ids)] if ids else None


def _invoices(desk: Desk, status: str) -> list[str]:
    with desk.ctx.read() as s:
        return list(
            s.scalars(
                select(Invoice.id)
                .where(Invoice.status == status, Invoice.deleted_at.is_(None))
                .order_by(Invoice.id)
            )
        )


def draft(desk: Desk, k: int, cents: int) -> str | None:
    patient = _pick(desk.ids(Patient), k)
    if patient is None:
        return None
    with contextlib.suppress(FrontdeskError):  # e.g. the patient was archived: nothing made
        return create_draft(desk.ctx, DraftHeader(patient), [DraftLine("Consultation", cents)])
    return None


def issue(desk: Desk, k: int) -> None:
    invoice = _pick(_invoices(desk, "draft"), k)
    if invoice is not None:
        with contextlib.suppress(FrontdeskError):
            issue_invoice(desk.ctx, invoice)


def an_issued_invoice(desk: Desk, k: int) -> str | None:
    return _pick(_invoices(desk, "issued"), k)


def pay_in_full(desk: Desk, invoice_id: str) -> str | None:
    with desk.ctx.read() as s:
        invoice = s.get(Invoice, invoice_id)
        owing = owing_on(s, invoice) if invoice is not None else 0
    if owing <= 0:
        return None
    with contextlib.suppress(FrontdeskError):
        paid = take_payment(desk.ctx, method="eftpos", amount_cents=owing, invoice_ids=[invoice_id])
        return paid.payment_id
    return None


def credit(desk: Desk, k: int) -> str | None:
    invoice = an_issued_invoice(desk, k)
    if invoice is None:
        return None
    with contextlib.suppress(FrontdeskError):  # e.g. already credited in full
        return issue_credit_note(desk.ctx, invoice, "Charged in error")
    return None


def void(desk: Desk, k: int) -> None:
    invoice = an_issued_invoice(desk, k)
    if invoice is not None:
        with contextlib.suppress(FrontdeskError):
            void_invoice(desk.ctx, invoice, "Wrong patient")


def refund_credit(desk: Desk, k: int) -> str | None:
    patient = _pick(desk.ids(Patient), k)
    if patient is None:
        return None
    credit_cents = patient_account(desk.ctx, patient).credit_cents
    if credit_cents <= 0:
        return None
    with contextlib.suppress(FrontdeskError):
        return refund(desk.ctx, method="cash", amount_cents=credit_cents, patient_id=patient)
    return None


def assert_billing_settled(clinic: Clinic, billed: dict[str, set[str]]) -> None:
    server = clinic.server_rows()
    on_server = set().union(*(set(rows) for rows in server.values()))
    for d in clinic.desks:
        with d.ctx.read() as s:
            refused = {
                r.row_id: json.loads(r.result_json or "{}").get("reason")
                for r in s.scalars(select(SyncOutbox).where(SyncOutbox.state == "rejected"))
            }
        shown = {r.reason for r in list_refused(d.ctx)}
        for made in billed.get(d.name, set()):
            if made in on_server:
                continue
            reason = refused.get(made)  # set aside here, with a reason a person reads
            assert reason and reason in shown, (d.name, made, reason)
    patients = sorted(server["patients"])
    for patient in patients:
        seen = set()
        for d in clinic.desks:
            acc = patient_account(d.ctx, patient)
            assert acc.balance_cents == acc.owing_cents - acc.credit_cents, (d.name, acc)
            seen.add((acc.balance_cents, acc.owing_cents, acc.credit_cents))
        assert len(seen) == 1, (patient, seen)
