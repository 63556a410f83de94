"""The NDIA's price limits on this desk (imported from the support catalogue CSV) and checkout
for a funded session: a draft invoice with the plan's payer, item number and funder price,
refused when the funder would not pay (over a limit, expired, over the NDIS price limit)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.funding import PlanKind, Severity
from frontdesk.domain.ndis import SupportItem, check_price, parse_support_catalogue
from frontdesk.models import Appointment, FundingPlan, NdisSupportItem, Patient
from frontdesk.services.billing import DraftHeader, DraftLine, create_draft
from frontdesk.services.claims.check import checkout_terms
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


def _encode_prices(prices: dict[str, int]) -> str:
    return ";".join(f"{k}={v}" for k, v in prices.items())


def _decode_prices(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = int(v)
    return out


def import_support_catalogue(ctx: ServiceContext, path: Path) -> int:
    """Load the NDIA's support catalogue CSV (price limits). A bad file changes nothing; items
    already loaded for the same start date are replaced. Returns the number of items."""
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ValidationFailed(f"The file could not be read: {e.strerror}.") from None
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not a CSV text file.") from None
    items = parse_support_catalogue(text)
    with ctx.write("import the NDIS support catalogue") as s:
        existing = {
            (r.number, r.starts_on): r
            for r in s.scalars(select(NdisSupportItem).where(NdisSupportItem.deleted_at.is_(None)))
        }
        for item in items:
            row = existing.get((item.number, item.starts_on))
            if row is None:
                row = NdisSupportItem(number=item.number, starts_on=item.starts_on)
                s.add(row)
            row.name = item.name[:300]
            row.unit = item.unit[:10]
            row.category_number = item.category_number[:10]
            row.category_name = item.category_name[:100]
            row.quote = item.quote
            row.ends_on = item.ends_on
            row.prices = _encode_prices(dict(item.prices))
    return len(items)


def support_item(s: Session, number: str, on: date) -> SupportItem | None:
    """The support item in force on ``on`` (the newest start date not after it)."""
    rows = s.scalars(
        select(NdisSupportItem)
        .where(NdisSupportItem.number == number, NdisSupportItem.deleted_at.is_(None))
        .order_by(NdisSupportItem.starts_on.desc())
    ).all()
    for r in rows:
        if (r.starts_on is None or r.starts_on <= on) and (r.ends_on is None or on <= r.ends_on):
            return SupportItem(
                r.number,
                r.name,
                r.unit,
                r.category_number,
                r.category_name,
                "",
                r.quote,
                r.starts_on,
                r.ends_on,
                _decode_prices(r.prices),
            )
    return None


def invoice_under_plan(ctx: ServiceContext, appointment_id: str) -> str:
    """A draft invoice for a session booked under a plan: payer, item number and price from the
    plan (GST-free). Refused — with the reason — when the funder would not pay. Returns the
    draft's id."""
    require(ctx.actor, Action.CREATE_INVOICE)
    terms = checkout_terms(ctx, appointment_id)
    if terms is None:
        raise RuleViolation("This appointment was not booked under a plan.")
    errors = [f.message for f in terms.findings if f.severity is Severity.ERROR]
    if errors and terms.payer_funder_id:
        raise RuleViolation(
            "The funder would not pay for this session: " + " ".join(errors) + " Invoice the "
            "patient privately instead."
        )
    if terms.price_cents is None:
        raise RuleViolation("The service has no price for this funder; set it in the catalogue.")
    with ctx.read() as s:
        appt = s.get(Appointment, appointment_id)
        plan = s.get(FundingPlan, terms.plan_id)
        if appt is None or plan is None or appt.patient_id is None:
            raise NotFound("That appointment no longer exists.")
        patient = s.get(Patient, appt.patient_id)
        assert patient is not None
        served = appt.starts_at.astimezone(ctx.tz).date()
        if terms.plan_kind is PlanKind.NDIS:
            if not terms.item_number:
                raise RuleViolation("Set the NDIS support item number for this service.")
            item = support_item(s, terms.item_number, served)
            if item is None:
                raise RuleViolation(
                    f"{terms.item_number} is not in the NDIS support catalogue loaded on this "
                    "desk for that date; import the current catalogue."
                )
            region = ctx.settings(s).state or "NSW"
            check_price(item, region, terms.price_cents)
        reference = plan.claim_number or (
            patient.ndis_number
            if terms.plan_kind is PlanKind.NDIS
            else patient.dva_number
            if terms.plan_kind is PlanKind.DVA
            else ""
        )
        practitioner_id = appt.practitioner_id
    return create_draft(
        ctx,
        DraftHeader(
            patient_id=patient.id,
            payer_funder_id=terms.payer_funder_id,
            payer_reference=reference,
            practitioner_id=practitioner_id,
            notes=f"GST-free: {terms.gst_reason}.",
        ),
        [
            DraftLine(
                description=f"{terms.plan_kind.label}: session {served:%-d %b %Y}",
                unit_price_cents=terms.price_cents,
                item_number=terms.item_number,
                appointment_id=appointment_id,
                practitioner_id=practitioner_id,
                service_date=served,
            )
        ],
    )


def draft_for_checkout(ctx: ServiceContext, appointment_id: str) -> tuple[str, str]:
    """The draft invoice checkout opens, and a note for reception. An appointment booked under
    a plan is invoiced to the plan's payer at its item number and price; when the funder would
    not pay (over the yearly limit, expired, over budget) the patient is invoiced instead and
    the note says why. Other appointments are invoiced as billing always has."""
    from frontdesk.services import billing

    existing = billing.invoice_for_appointment(ctx, appointment_id)
    if existing:
        return existing, ""
    terms = checkout_terms(ctx, appointment_id)
    if terms is None:
        return billing.invoice_from_appointment(ctx, appointment_id), ""
    try:
        invoice_id = invoice_under_plan(ctx, appointment_id)
    except RuleViolation as refused:
        return (
            billing.invoice_from_appointment(ctx, appointment_id),
            f"Not billed to the plan: {refused.user_message}",
        )
    item = f"item {terms.item_number}, " if terms.item_number else ""
    return invoice_id, f"Billed under the {terms.plan_kind.label}: {item}GST-free."
