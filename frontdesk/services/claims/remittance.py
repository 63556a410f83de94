"""Importing a funder's remittance (the NDIA's payment report, or any CSV through a mapping):
match each line to one claim, record one payment from the funder allocated to the claims'
invoices, and settle the claims — all or nothing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from frontdesk.domain.billing import invoice_owing
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.funding import ClaimStatus
from frontdesk.domain.money import format_money
from frontdesk.domain.ndis import (
    NDIA_PAYMENT_REPORT,
    RemittanceMapping,
    match_remittance,
    parse_remittance,
)
from frontdesk.domain.vocab import InvoiceStatus, PaymentKind, PaymentMethod
from frontdesk.models import (
    Claim,
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    RemittanceImport,
)
from frontdesk.services.billing.common import business_day, refuse_if_closed
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracked_bulk import TrackedBulk
from frontdesk.store.tracking import record_event

OPEN = (ClaimStatus.PREPARED, ClaimStatus.SUBMITTED, ClaimStatus.PART_PAID)


class RemittanceProblems(ValidationFailed):
    """Lines that match no claim or several: nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:10]
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(
            "Nothing was imported: " + " ".join(shown) + more,
            field="file",
        )
        self.problems = problems


@dataclass(frozen=True)
class RemittanceResult:
    import_id: str
    lines: int
    paid_cents: int
    paid: int
    part_paid: int
    rejected: int
    payment_ids: tuple[str, ...]


def import_remittance(
    ctx: ServiceContext, path: Path, mapping: RemittanceMapping = NDIA_PAYMENT_REPORT
) -> RemittanceResult:
    """Import a remittance file. A malformed file, a line matching no claim or two claims, or
    a payment above what an invoice owes refuses the whole file with a message; nothing is
    half-applied. The same file cannot be imported twice."""
    require(ctx.actor, Action.TAKE_PAYMENT)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as e:
        raise ValidationFailed(f"The file could not be read: {e.strerror}.") from None
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not a text (CSV) file.") from None
    digest = hashlib.sha256(raw).hexdigest()
    lines = parse_remittance(text, mapping)
    with ctx.write("import a remittance") as s:
        if s.scalars(
            select(RemittanceImport.id).where(RemittanceImport.file_sha256 == digest)
        ).first():
            raise RuleViolation("This remittance file was imported already.")
        refuse_if_closed(ctx, s, business_day(ctx))
        refs = {x.reference for x in lines}
        by_ref: dict[str, list[str]] = defaultdict(list)
        claims: dict[str, Claim] = {}
        for claim in s.scalars(
            select(Claim).where(Claim.reference.in_(refs), Claim.deleted_at.is_(None))
        ):
            by_ref[claim.reference].append(claim.id)
            claims[claim.id] = claim
        matched, problems = match_remittance(lines, by_ref)
        for line in lines:
            cid = matched.get(line.line)
            if cid and claims[cid].status not in OPEN:
                problems.append(
                    f"Line {line.line}: claim {line.reference} is already "
                    f"{ClaimStatus(claims[cid].status).label.lower()}."
                )
        if problems:
            raise RemittanceProblems(problems)
        paid_by_claim: dict[str, int] = defaultdict(int)
        errors: dict[str, str] = {}
        for line in lines:
            cid = matched[line.line]
            paid_by_claim[cid] += line.paid_cents
            if line.rejected:
                errors[cid] = line.error or line.status
        # One payment per funder, allocated to its invoices. What each invoice owes is read in
        # three queries for the whole file, not three per line.
        invoice_ids = [claims[cid].invoice_id for cid in paid_by_claim]
        # Only the columns used, as rows: not 5,000 ORM objects built and tracked.
        invoices = {
            i.id: i
            for i in s.execute(
                select(
                    Invoice.id,
                    Invoice.status,
                    Invoice.total_cents,
                    Invoice.payer_funder_id,
                    Invoice.patient_id,
                ).where(Invoice.id.in_(invoice_ids))
            )
        }
        credited = dict(
            s.execute(
                select(CreditNote.invoice_id, func.sum(CreditNote.total_cents))
                .where(CreditNote.invoice_id.in_(invoice_ids), CreditNote.deleted_at.is_(None))
                .group_by(CreditNote.invoice_id)
            ).all()
        )
        allocated = dict(
            s.execute(
                select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
                .where(
                    PaymentAllocation.invoice_id.in_(invoice_ids),
                    PaymentAllocation.deleted_at.is_(None),
                )
                .group_by(PaymentAllocation.invoice_id)
            ).all()
        )
        per_funder: dict[str | None, list[tuple[Any, int, str]]] = defaultdict(list)
        for cid, paid in paid_by_claim.items():
            inv = invoices[claims[cid].invoice_id]
            owing = (
                invoice_owing(
                    inv.total_cents,
                    int(credited.get(inv.id) or 0),
                    int(allocated.get(inv.id) or 0),
                )
                if inv.status == InvoiceStatus.ISSUED
                else 0
            )
            if paid > owing:
                raise ValidationFailed(
                    f"Nothing was imported: claim {claims[cid].reference} is paid "
                    f"{format_money(paid)} but its invoice owes {format_money(owing)}."
                )
            if paid:
                per_funder[inv.payer_funder_id].append((inv, paid, cid))
        payment_ids: list[str] = []
        now = ctx.clock.now()
        # Thousands of allocations and claim updates: written by the tracked bulk path (one
        # executemany per table, the same change log and audit as one by one).
        # One audit event for the import (below) instead of one per allocation and claim: the
        # rows still sync one by one, and each claim keeps the payment that settled it.
        bulk = TrackedBulk(s, audit_each_row=False)
        paid_with: dict[str, str] = {}
        for funder_id, parts in per_funder.items():
            payment = Payment(
                kind=PaymentKind.PAYMENT,
                method=PaymentMethod.BANK_TRANSFER,
                amount_cents=sum(p for _i, p, _c in parts),
                patient_id=None if funder_id else parts[0][0].patient_id,
                payer_funder_id=funder_id,
                received_at=now,
                business_date=business_day(ctx),
                device_id=ctx.device_id,
                reference=f"Remittance {path.name}"[:80],
                note="",
                taken_by_id=ctx.actor.staff_user_id,
            )
            s.add(payment)
            s.flush()
            payment_ids.append(payment.id)
            for inv, paid, cid in parts:
                bulk.insert(
                    PaymentAllocation, payment_id=payment.id, invoice_id=inv.id, amount_cents=paid
                )
                paid_with[cid] = payment.id
        counts = {"paid": 0, "part": 0, "rejected": 0}
        for cid, paid in paid_by_claim.items():
            claim = claims[cid]
            change: dict[str, object] = {
                "paid_cents": claim.paid_cents + paid,
                "settled_at": now,
                "payment_id": paid_with.get(cid, claim.payment_id),
            }
            if paid == 0:
                change["status"] = ClaimStatus.REJECTED
                change["rejection_reason"] = (errors.get(cid) or "Not paid")[:300]
                counts["rejected"] += 1
            elif claim.paid_cents + paid >= claim.claimed_cents:
                change["status"] = ClaimStatus.PAID
                counts["paid"] += 1
            else:
                change["status"] = ClaimStatus.PART_PAID
                change["rejection_reason"] = (errors.get(cid) or "")[:300]
                counts["part"] += 1
            bulk.update(claim, **change)
        bulk.flush()
        total = sum(paid_by_claim.values())
        row = RemittanceImport(
            file_name=path.name[:300],
            file_sha256=digest,
            funder_id=next(iter(per_funder), None),
            lines=len(lines),
            paid_cents=total,
            payment_id=payment_ids[0] if payment_ids else None,
            imported_at=now,
        )
        s.add(row)
        s.flush()
        record_event(
            s,
            "import a remittance",
            summary=(
                f"{path.name[:120]}: {len(lines):,} lines, {format_money(total)} received — "
                f"{counts['paid']:,} paid, {counts['part']:,} part-paid, "
                f"{counts['rejected']:,} rejected; {len(paid_by_claim):,} claims and "
                f"{len(paid_with):,} allocations changed"
            ),
            entity="remittance_imports",
            entity_id=row.id,
        )
        return RemittanceResult(
            row.id,
            len(lines),
            total,
            counts["paid"],
            counts["part"],
            counts["rejected"],
            tuple(payment_ids),
        )
