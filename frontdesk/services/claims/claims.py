"""Claims: each issued invoice billed to a funder becomes a claim (prepared → submitted → paid,
part-paid or rejected with a reason), kept in a queue that works offline. Produces the NDIA bulk
payment request for agency-managed participants and a Medicare/DVA summary for the claiming
terminal or portal, and records what a terminal answered (``TerminalResult``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.funding import NDIS_GST_FREE, ClaimStatus, NdisManagement, PlanKind
from frontdesk.domain.ndis import BulkClaimLine, bulk_payment_request
from frontdesk.domain.vocab import FunderKind, InvoiceStatus
from frontdesk.models import (
    Claim,
    Funder,
    FundingPlan,
    Invoice,
    InvoiceLine,
    Patient,
    PlanSession,
    ProviderNumber,
)
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

_FUNDER_KIND_TO_PLAN = {
    FunderKind.MEDICARE: PlanKind.MEDICARE_CDM,
    FunderKind.DVA: PlanKind.DVA,
    FunderKind.NDIS_PLAN_MANAGER: PlanKind.NDIS,
    FunderKind.WORKERS_COMP: PlanKind.WORKCOVER,
    FunderKind.INSURER: PlanKind.CTP,
}


def _plan_of_invoice(s: object, invoice_id: str) -> FundingPlan | None:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    return s.scalars(
        select(FundingPlan)
        .join(PlanSession, PlanSession.plan_id == FundingPlan.id)
        .join(InvoiceLine, InvoiceLine.appointment_id == PlanSession.appointment_id)
        .where(InvoiceLine.invoice_id == invoice_id, PlanSession.deleted_at.is_(None))
        .limit(1)
    ).first()


def prepare_claims(ctx: ServiceContext) -> int:
    """Make a claim for every issued invoice billed to a funder that has none yet (safe to run
    again; claims made on another desk sync here). Returns how many were made."""
    require(ctx.actor, Action.CREATE_INVOICE)
    made = 0
    with ctx.write("prepare claims") as s:
        rows = s.execute(
            select(Invoice, Funder.kind)
            .join(Funder, Funder.id == Invoice.payer_funder_id)
            .outerjoin(Claim, Claim.invoice_id == Invoice.id)
            .where(
                Invoice.status == InvoiceStatus.ISSUED,
                Invoice.deleted_at.is_(None),
                Claim.id.is_(None),
            )
        ).all()
        for invoice, funder_kind in rows:
            plan = _plan_of_invoice(s, invoice.id)
            if plan is not None:
                kind = plan.kind
            else:
                mapped = _FUNDER_KIND_TO_PLAN.get(FunderKind(funder_kind))
                kind = mapped.value if mapped else str(funder_kind)
            s.add(
                Claim(
                    invoice_id=invoice.id,
                    plan_id=plan.id if plan else None,
                    funder_kind=kind,
                    reference=invoice.number or invoice.id,
                    claimed_cents=invoice.total_cents,
                )
            )
            made += 1
    return made


@dataclass(frozen=True)
class ClaimRow:
    id: str
    invoice_id: str
    invoice_number: str
    issue_date: date | None
    patient_name: str
    funder_name: str
    funder_kind: str
    reference: str
    status: ClaimStatus
    claimed_cents: int
    paid_cents: int
    gap_cents: int
    rejection_reason: str


def list_claims(
    ctx: ServiceContext, *, status: ClaimStatus | None = None, funder_kind: str | None = None
) -> list[ClaimRow]:
    """The claims queue, oldest first."""
    require(ctx.actor, Action.CREATE_INVOICE)
    q = (
        select(Claim, Invoice.number, Invoice.issue_date, Patient.first_name, Patient.last_name)
        .join(Invoice, Invoice.id == Claim.invoice_id)
        .join(Patient, Patient.id == Invoice.patient_id)
        .where(Claim.deleted_at.is_(None))
        .order_by(Invoice.issue_date, Invoice.number)
    )
    if status is not None:
        q = q.where(Claim.status == status)
    if funder_kind is not None:
        q = q.where(Claim.funder_kind == funder_kind)
    with ctx.read() as s:
        funders = {f.id: f.name for f in s.scalars(select(Funder))}
        payer = {
            i: f
            for i, f in s.execute(
                select(Invoice.id, Invoice.payer_funder_id).join(
                    Claim, Claim.invoice_id == Invoice.id
                )
            )
        }
        return [
            ClaimRow(
                c.id,
                c.invoice_id,
                number or "",
                issued,
                f"{first} {last}",
                funders.get(payer.get(c.invoice_id) or "", ""),
                c.funder_kind,
                c.reference,
                ClaimStatus(c.status),
                c.claimed_cents,
                c.paid_cents,
                c.gap_cents,
                c.rejection_reason,
            )
            for c, number, issued, first, last in s.execute(q).all()
        ]


def _claim(s: object, claim_id: str) -> Claim:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    claim = s.get(Claim, claim_id)
    if claim is None or claim.deleted_at is not None:
        raise NotFound("That claim no longer exists.")
    return claim


def mark_submitted(ctx: ServiceContext, claim_ids: Sequence[str]) -> None:
    """The claims were sent (uploaded to the portal, lodged with the insurer)."""
    require(ctx.actor, Action.CREATE_INVOICE)
    with ctx.write("mark claims submitted") as s:
        for cid in claim_ids:
            claim = _claim(s, cid)
            if claim.status not in (ClaimStatus.PREPARED, ClaimStatus.REJECTED):
                raise RuleViolation(f"Claim {claim.reference} is already {claim.status}.")
            claim.status = ClaimStatus.SUBMITTED
            claim.submitted_at = ctx.clock.now()
            claim.rejection_reason = ""


def reject_claim(ctx: ServiceContext, claim_id: str, reason: str) -> None:
    require(ctx.actor, Action.CREATE_INVOICE)
    if not reason.strip():
        raise ValidationFailed("Say why the funder rejected the claim.", field="reason")
    with ctx.write("record a rejected claim") as s:
        claim = _claim(s, claim_id)
        if claim.status in (ClaimStatus.PAID,):
            raise RuleViolation(f"Claim {claim.reference} is already paid.")
        claim.status = ClaimStatus.REJECTED
        claim.rejection_reason = reason.strip()[:300]
        claim.settled_at = ctx.clock.now()


# -- claiming terminals ----------------------------------------------------------------------
@dataclass(frozen=True)
class TerminalResult:
    """What a claiming terminal (HICAPS, HealthPoint, Medicare Easyclaim) answered."""

    benefit_cents: int  # paid by the funder
    gap_cents: int  # left for the patient
    reference: str = ""  # the terminal's transaction/approval reference
    declined_reason: str = ""


class ClaimingTerminal(Protocol):
    """A point-of-care terminal integration (its vendor's SDK) implements this; until then
    reception types the terminal's answer into ``record_terminal_result``."""

    def claim(self, claim: ClaimRow) -> TerminalResult: ...


def record_terminal_result(ctx: ServiceContext, claim_id: str, result: TerminalResult) -> None:
    """Record a terminal's answer: the benefit paid and the gap, or that it was declined."""
    require(ctx.actor, Action.CREATE_INVOICE)
    if result.declined_reason.strip():
        reject_claim(ctx, claim_id, result.declined_reason)
        return
    if result.benefit_cents < 0 or result.gap_cents < 0:
        raise ValidationFailed("The benefit and the gap cannot be negative.")
    with ctx.write("record a claiming terminal's result") as s:
        claim = _claim(s, claim_id)
        if result.benefit_cents + result.gap_cents != claim.claimed_cents:
            from frontdesk.domain.money import format_money

            raise ValidationFailed(
                f"The benefit and the gap add up to "
                f"{format_money(result.benefit_cents + result.gap_cents)}, but the claim is for "
                f"{format_money(claim.claimed_cents)}."
            )
        claim.paid_cents = result.benefit_cents
        claim.gap_cents = result.gap_cents
        claim.terminal_reference = result.reference.strip()[:60]
        claim.status = ClaimStatus.PAID if result.gap_cents == 0 else ClaimStatus.PART_PAID
        claim.submitted_at = claim.submitted_at or ctx.clock.now()
        claim.settled_at = ctx.clock.now()


# -- what the funders take -------------------------------------------------------------------
@dataclass(frozen=True)
class BulkRequest:
    csv_text: str
    claim_ids: tuple[str, ...]
    lines: int
    total_cents: int


def build_bulk_payment_request(
    ctx: ServiceContext, month: date, registration_number: str, *, abn: str = ""
) -> BulkRequest:
    """The NDIA bulk payment request for prepared NDIS claims of agency-managed participants
    with services in ``month``. Marks nothing: call ``mark_submitted`` once uploaded."""
    require(ctx.actor, Action.CREATE_INVOICE)
    first = month.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    with ctx.read() as s:
        settings_abn = abn or ctx.settings(s).business_number
        rows = s.execute(
            select(
                Claim.id,
                Claim.reference,
                Patient.ndis_number,
                InvoiceLine.service_date,
                InvoiceLine.item_number,
                InvoiceLine.quantity,
                InvoiceLine.unit_price_cents,
                InvoiceLine.taxable,
                InvoiceLine.total_cents,
            )
            .join(FundingPlan, FundingPlan.id == Claim.plan_id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Claim.invoice_id)
            .join(Patient, Patient.id == FundingPlan.patient_id)
            .where(
                Claim.deleted_at.is_(None),
                Claim.status == ClaimStatus.PREPARED,
                FundingPlan.kind == PlanKind.NDIS,
                FundingPlan.ndis_management == NdisManagement.AGENCY,
                InvoiceLine.deleted_at.is_(None),
                InvoiceLine.service_date >= first,
                InvoiceLine.service_date < nxt,
            )
            .order_by(InvoiceLine.service_date, Claim.reference, InvoiceLine.position)
        ).all()
    lines: list[BulkClaimLine] = []
    ids: dict[str, None] = {}
    total = 0
    registration = registration_number.strip()
    for cid, ref, ndis_number, service_date, item, qty, unit, taxable, line_total in rows:
        served = service_date or first
        lines.append(
            BulkClaimLine(
                registration_number=registration,
                ndis_number=ndis_number,
                delivered_from=served,
                delivered_to=served,
                support_number=item,
                claim_reference=ref,
                quantity=Decimal(qty).quantize(Decimal("0.01")),
                unit_price_cents=unit,
                gst_code="P2" if taxable else NDIS_GST_FREE,
                abn=settings_abn,
            )
        )
        total += line_total
        ids[cid] = None
    if not lines:
        raise RuleViolation(
            f"No prepared NDIS claims for agency-managed participants in {first:%B %Y}."
        )
    return BulkRequest(bulk_payment_request(lines), tuple(ids), len(lines), total)


MEDICARE_SUMMARY_COLUMNS = (
    "Claim reference",
    "Service date",
    "Patient",
    "Medicare/DVA number",
    "Item",
    "Provider number",
    "Referrer",
    "Referrer provider number",
    "Fee",
)


def medicare_dva_summary(ctx: ServiceContext, since: date, until: date) -> str:
    """Prepared Medicare and DVA claims as a CSV for the claiming terminal or portal."""
    require(ctx.actor, Action.CREATE_INVOICE)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(MEDICARE_SUMMARY_COLUMNS)
    with ctx.read() as s:
        provider = {
            p.practitioner_id: p.number
            for p in s.scalars(select(ProviderNumber).where(ProviderNumber.deleted_at.is_(None)))
        }
        rows = s.execute(
            select(Claim, InvoiceLine, Patient, FundingPlan)
            .join(InvoiceLine, InvoiceLine.invoice_id == Claim.invoice_id)
            .join(Invoice, Invoice.id == Claim.invoice_id)
            .join(Patient, Patient.id == Invoice.patient_id)
            .outerjoin(FundingPlan, FundingPlan.id == Claim.plan_id)
            .where(
                Claim.deleted_at.is_(None),
                Claim.status == ClaimStatus.PREPARED,
                Claim.funder_kind.in_(
                    [PlanKind.MEDICARE_CDM, PlanKind.MENTAL_HEALTH, PlanKind.DVA]
                ),
                InvoiceLine.service_date >= since,
                InvoiceLine.service_date <= until,
            )
            .order_by(InvoiceLine.service_date, Claim.reference)
        ).all()
        for claim, line, patient, plan in rows:
            number = (
                patient.dva_number
                if claim.funder_kind == PlanKind.DVA
                else f"{patient.medicare_number}/{patient.medicare_irn}"
            )
            w.writerow(
                [
                    claim.reference,
                    line.service_date.isoformat() if line.service_date else "",
                    f"{patient.first_name} {patient.last_name}",
                    number,
                    line.item_number,
                    provider.get(line.practitioner_id or "", ""),
                    plan.referrer_name if plan else "",
                    plan.referrer_provider_number if plan else "",
                    f"{line.total_cents // 100}.{line.total_cents % 100:02d}",
                ]
            )
    return out.getvalue()


# -- reports ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutstandingRow:
    """Claims not yet settled for one funder, by age of the invoice (cents)."""

    funder: str
    claims: int
    buckets: dict[str, int]

    @property
    def total_cents(self) -> int:
        return sum(self.buckets.values())


def outstanding_by_funder(ctx: ServiceContext, today: date | None = None) -> list[OutstandingRow]:
    """Claims outstanding (prepared, submitted or part-paid) by funder and age."""
    from frontdesk.domain.billing import AgeBucket, age_bucket

    day = today or ctx.clock.now().astimezone(ctx.tz).date()
    rows: dict[str, OutstandingRow] = {}
    for r in list_claims(ctx):
        if r.status in (ClaimStatus.PAID, ClaimStatus.REJECTED):
            continue
        name = r.funder_name or r.funder_kind
        row = rows.setdefault(name, OutstandingRow(name, 0, {b.value: 0 for b in AgeBucket}))
        bucket = age_bucket(r.issue_date or day, day)
        row.buckets[bucket.value] += r.claimed_cents - r.paid_cents
        rows[name] = OutstandingRow(name, row.claims + 1, row.buckets)
    return sorted(rows.values(), key=lambda x: -x.total_cents)
