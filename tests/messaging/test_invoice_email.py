"""Invoices to plan managers and insurers by email (issue 19): an issued NDIS invoice is queued
to the plan manager's address with its PDF attached, sent once through a real local SMTP server
(aiosmtpd, STARTTLS, AUTH) and read back there — the attachment is the invoice PDF byte for
byte; a patient's invoice, a draft or a missing address is refused with nothing queued."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from claims_world import Funded, make_funded, session
from pypdf import PdfReader
from sqlalchemy import func, select

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.models import DocumentChunk, Funder, OutgoingMessage, PlanDocument
from frontdesk.services import billing
from frontdesk.services.claims.checkout import invoice_under_plan
from frontdesk.services.claims.documents import list_documents, read_document
from frontdesk.services.claims.invoice_mail import email_invoice
from frontdesk.services.messaging import sender
from frontdesk.services.messaging.secrets import save_secret
from frontdesk.services.messaging.setup import build_providers, save_settings
from frontdesk.store.context import ServiceContext
from tests.messaging.local_providers import LocalSmtp
from tests.sync.clinic import Clinic


@pytest.fixture
def f(ctx: ServiceContext, keychain: object, smtp: LocalSmtp) -> Funded:
    funded = make_funded(ctx)
    save_secret("smtp", smtp.password)
    save_settings(
        ctx, enabled=True, smtp_host="127.0.0.1", smtp_port=smtp.port,
        smtp_username=smtp.user, email_from="accounts@harbour.example",
    )  # fmt: skip
    return funded


def queued(ctx: ServiceContext) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(OutgoingMessage)) or 0)


def test_an_invoice_goes_to_the_plan_manager_with_its_pdf(
    ctx: ServiceContext, f: Funded, smtp: LocalSmtp
) -> None:
    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    inv = invoice_under_plan(ctx, appt)
    number = billing.issue_invoice(ctx, inv)
    with ctx.write("the plan manager's address") as s:
        s.get(Funder, f.ndis).email = "claims@ndia.example"  # type: ignore[union-attr]
    mail = email_invoice(ctx, inv)
    assert (mail.to, mail.file_name) == ("claims@ndia.example", f"Invoice {number}.pdf")
    with pytest.raises(RuleViolation, match="already waiting"):
        email_invoice(ctx, inv)
    report = sender.send_due(
        ctx, build_providers(ctx, smtp_tls=smtp.client_tls()), sender_id="desk-test"
    )
    assert report.sent == 1, report.errors
    [(_from, rcpts, raw)] = smtp.messages
    assert rcpts == ["claims@ndia.example"]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert number in str(parsed["Subject"])
    body = parsed.get_body(("plain",))
    assert body is not None and f"invoice {number}" in body.get_content()
    (part,) = list(parsed.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == f"Invoice {number}.pdf"
    pdf = part.get_payload(decode=True)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert number in text and "193.99" in text
    with ctx.read() as s:
        kept = s.scalars(select(PlanDocument).where(PlanDocument.kind == "sent")).one()
        assert kept.note == "emailed to claims@ndia.example"
        assert read_document(s, kept.id)[1] == pdf  # the record is what was sent
    assert list_documents(ctx, f.participant) == []  # a sent copy is not a scanned referral
    assert (
        sender.send_due(
            ctx, build_providers(ctx, smtp_tls=smtp.client_tls()), sender_id="desk-test"
        ).sent
        == 0
    )  # once


def test_what_cannot_be_emailed_is_refused_and_nothing_queued(
    ctx: ServiceContext, f: Funded
) -> None:
    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    inv = invoice_under_plan(ctx, appt)
    with pytest.raises(RuleViolation, match="Only an issued invoice"):
        email_invoice(ctx, inv)
    billing.issue_invoice(ctx, inv)
    with pytest.raises(ValidationFailed, match="has no email address on file"):
        email_invoice(ctx, inv)
    with pytest.raises(ValidationFailed, match="is not an email address"):
        email_invoice(ctx, inv, "claims at ndia")
    own = billing.create_draft(
        ctx, billing.DraftHeader(f.participant), [billing.DraftLine("Consultation", 9500)]
    )
    billing.issue_invoice(ctx, own)
    with pytest.raises(RuleViolation, match="billed to the patient"):
        email_invoice(ctx, own, "someone@example.com")
    assert queued(ctx) == 0
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(PlanDocument)) == 0


def test_queued_on_one_desk_sent_by_the_messaging_desk(
    tmp_path: Path, keychain: object, smtp: LocalSmtp
) -> None:
    """Reception queues the email on desk A; the messaging desk B sends it after a sync through
    the clinic server — the PDF's pieces came with it."""
    clinic = Clinic(tmp_path / "clinic", str(tmp_path / "server.sqlite3"))
    try:
        a, b = clinic.add_desk(), clinic.add_desk()
        f = make_funded(a.ctx)
        appt = session(a.ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
        inv = invoice_under_plan(a.ctx, appt)
        number = billing.issue_invoice(a.ctx, inv)
        email_invoice(a.ctx, inv, "claims@ndia.example")
        save_secret("smtp", smtp.password)
        save_settings(
            b.ctx, enabled=True, smtp_host="127.0.0.1", smtp_port=smtp.port,
            smtp_username=smtp.user, email_from="accounts@harbour.example",
        )  # fmt: skip
        clinic.settle()
        report = sender.send_due(
            b.ctx, build_providers(b.ctx, smtp_tls=smtp.client_tls()), sender_id="desk-b"
        )
        assert report.sent == 1, report.errors
        [(_from, _rcpts, raw)] = smtp.messages
        (part,) = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
        pdf = part.get_payload(decode=True)
        assert number in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        clinic.settle()
        with a.ctx.read() as s:  # the sent status came back to the desk that queued it
            assert s.scalars(select(OutgoingMessage.status)).one() == "sent"
    finally:
        clinic.close()


def test_an_email_waits_while_its_attachment_is_still_arriving(
    ctx: ServiceContext, f: Funded, smtp: LocalSmtp, clock: FakeClock
) -> None:
    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    inv = invoice_under_plan(ctx, appt)
    billing.issue_invoice(ctx, inv)
    email_invoice(ctx, inv, "claims@ndia.example")
    with ctx.write("a piece not here yet") as s:  # as on a desk the sync has not filled in
        piece = s.scalars(select(DocumentChunk).where(DocumentChunk.seq == 0)).one()
        piece.deleted_at = clock.now()
    providers = build_providers(ctx, smtp_tls=smtp.client_tls())
    assert sender.send_due(ctx, providers, sender_id="desk-test").sent == 0
    with ctx.read() as s:
        msg = s.scalars(select(OutgoingMessage)).one()
        assert msg.status == "queued" and "has not fully arrived" in (msg.error or "")
    with ctx.write("the piece arrives") as s:
        s.scalars(select(DocumentChunk).where(DocumentChunk.seq == 0)).one().deleted_at = None
    assert sender.send_due(ctx, providers, sender_id="desk-test").sent == 0  # not before its time
    clock.advance(timedelta(minutes=5))
    assert sender.send_due(ctx, providers, sender_id="desk-test").sent == 1
    assert len(smtp.messages) == 1
