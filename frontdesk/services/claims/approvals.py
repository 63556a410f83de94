"""Sessions used against approvals (issue 19, reports): every current plan with what it allows,
what has been used (here and elsewhere), what is left and when it ends — for the practice
manager to see whose approvals need renewing; to the screen and to CSV. For the kinds limited
per calendar year (Medicare chronic condition, Better Access) the figures are this year's,
across all the patient's plans of the kind."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.funding import PLAN_RULES
from frontdesk.domain.money import format_money
from frontdesk.domain.spreadsheet import safe_row
from frontdesk.models import FundingPlan, Patient
from frontdesk.services.claims.plans import plan_view, used_in_year
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

COLUMNS = (
    "Patient", "Plan", "Referrer / insurer", "Approved", "Used", "Left", "Budget left", "Ends",
)  # fmt: skip


@dataclass(frozen=True)
class ApprovalRow:
    patient_id: str
    patient: str
    plan_id: str
    plan: str
    who: str
    approved: int | None  # sessions (None: not counted in sessions, e.g. NDIS)
    used: int
    budget_left_cents: int | None
    ends_on: date | None

    @property
    def left(self) -> int | None:
        return None if self.approved is None else max(0, self.approved - self.used)

    def cells(self) -> list[str]:
        return [
            self.patient, self.plan, self.who,
            "" if self.approved is None else str(self.approved), str(self.used),
            "" if self.left is None else str(self.left),
            "" if self.budget_left_cents is None else format_money(self.budget_left_cents),
            self.ends_on.isoformat() if self.ends_on else "",
        ]  # fmt: skip


def sessions_vs_approvals(ctx: ServiceContext) -> list[ApprovalRow]:
    """Current plans (not archived, not ended), those with least left first, then by patient."""
    require(ctx.actor, Action.VIEW_REPORTS)
    today = ctx.clock.now().astimezone(ctx.tz).date()
    out: list[ApprovalRow] = []
    with ctx.read() as s:
        rows = s.execute(
            select(FundingPlan, Patient.first_name, Patient.last_name)
            .join(Patient, Patient.id == FundingPlan.patient_id)
            .where(
                FundingPlan.deleted_at.is_(None),
                FundingPlan.archived_at.is_(None),
                Patient.deleted_at.is_(None),
            )
        ).all()
        for plan, first, last in rows:
            view = plan_view(s, plan)
            ends = view.last_day
            if ends is not None and ends < today:
                continue
            who = view.referrer_name or view.insurer_name or view.funder_name
            approved, used = view.session_limit, view.sessions_used
            yearly = PLAN_RULES[view.kind].yearly_limit
            if yearly is not None:  # Medicare's 5 (Better Access 10) a calendar year
                approved = yearly
                used = used_in_year(ctx, s, plan.patient_id, view.kind, today.year)
            budget = sum(b.left_cents for b in view.budgets) if view.budgets else None
            out.append(
                ApprovalRow(
                    plan.patient_id,
                    f"{first} {last}",
                    plan.id,
                    view.label,
                    who,
                    approved,
                    used,
                    budget,
                    ends,
                )
            )
    out.sort(key=lambda r: (r.left if r.left is not None else 1_000, r.patient, r.plan))
    return out


def approvals_csv(rows: list[ApprovalRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(safe_row(r.cells()))
    return out.getvalue()


def save_approvals_csv(ctx: ServiceContext, path: Path) -> int:
    """Write the report as CSV (spreadsheet-safe); returns the number of plans."""
    rows = sessions_vs_approvals(ctx)
    try:
        path.write_text(approvals_csv(rows), encoding="utf-8-sig")
    except OSError as e:
        raise ValidationFailed(f"The file could not be saved: {e.strerror}.") from None
    return len(rows)
