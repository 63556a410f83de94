"""Invoices to plan managers and insurers by email (issue 19, claims): the issued invoice's PDF
is kept as a document (so what was sent is what stays on record, and it syncs to the desk or
server that sends) and an email is queued through the messaging module with it attached. The
sender (services/messaging/sender.py) sends it once, over SMTP with STARTTLS."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.messaging import MessageKind, check_email
from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import InvoiceStatus, MessageChannel
from frontdesk.models import Funder, Invoice, OutgoingMessage
from frontdesk.services.billing.views import invoice_view
from frontdesk.services.claims.documents import store_document
from frontdesk.services.clinic_settings import clinic_name
from frontdesk.services.documents import render_invoice
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class QueuedInvoiceMail:
    message_id: str
    to: str
    file_name: str


def email_invoice(ctx: ServiceContext, invoice_id: str, to: str = "") -> QueuedInvoiceMail:
    """Queue an email of an issued invoice to the plan manager or insurer it is billed to (their
    address on file, or ``to``). Refused, with nothing queued, for a draft or void invoice, one
    billed to the patient, or without a valid address."""
    require(ctx.actor, Action.CREATE_INVOICE)
    view = invoice_view(ctx, invoice_id)
    if view.status != InvoiceStatus.ISSUED or not view.number:
        raise RuleViolation("Only an issued invoice can be emailed.")
    if view.payer_funder_id is None:
        raise RuleViolation(
            "This invoice is billed to the patient; only invoices to a plan manager or insurer "
            "are emailed from the claims queue."
        )
    pdf = render_invoice(view)
    file_name = f"Invoice {view.number}.pdf"
    clinic = clinic_name(ctx)
    with ctx.write("email an invoice") as s:
        inv = s.get(Invoice, invoice_id)
        funder = s.get(Funder, view.payer_funder_id)
        if inv is None or funder is None:
            raise NotFound("That invoice no longer exists.")
        address = to.strip() or funder.email
        if not address:
            raise ValidationFailed(
                f"{funder.name} has no email address on file; type the address to send to.",
                field="email",
            )
        address = check_email(address)
        already = s.scalars(
            select(OutgoingMessage.id).where(
                OutgoingMessage.kind == MessageKind.INVOICE.value,
                OutgoingMessage.to_address == address,
                OutgoingMessage.subject.contains(view.number),
                OutgoingMessage.status.in_(("queued", "sending")),
                OutgoingMessage.deleted_at.is_(None),
            )
        ).first()
        if already:
            raise RuleViolation(f"Invoice {view.number} is already waiting to go to {address}.")
        doc = store_document(
            s, inv.patient_id, file_name, "application/pdf", pdf,
            note=f"emailed to {address}"[:200], kind="sent",
        )  # fmt: skip
        body = (
            f"Dear {funder.name},\n\n"
            f"Please find attached invoice {view.number} for {view.patient.name}, "
            f"{format_money(view.total_cents)}.\n\n"
            f"Kind regards,\n{clinic}"
        )
        msg = OutgoingMessage(
            patient_id=inv.patient_id, channel=MessageChannel.EMAIL.value, to_address=address,
            subject=f"{clinic}: invoice {view.number}"[:200], body=body, status="queued",
            queued_at=ctx.clock.now(), kind=MessageKind.INVOICE.value, attachment_id=doc,
        )  # fmt: skip
        s.add(msg)
        s.flush()
        msg.idempotency_key = msg.id
        return QueuedInvoiceMail(msg.id, address, file_name)
