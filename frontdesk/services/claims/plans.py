"""Referrals and plans on a patient's card, the sessions booked under them, and the counts the
funding rules need — always counted from this desk's records (synced from every desk)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.funding import (
    Budget,
    NdisManagement,
    PlanFacts,
    PlanKind,
    Severity,
    check_plan_record,
)
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import Appointment, Funder, FundingBudget, FundingPlan, Patient, PlanSession
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

# Sessions that count against a plan: everything except a cancellation or a no-show.
COUNTED = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_SESSION,
    AppointmentStatus.COMPLETED,
)


@dataclass(frozen=True)
class BudgetInput:
    category: str
    budget_cents: int


@dataclass(frozen=True)
class PlanInput:
    kind: PlanKind | str
    referrer_name: str = ""
    referrer_provider_number: str = ""
    funder_id: str | None = None
    insurer_name: str = ""
    claim_number: str = ""
    case_manager: str = ""
    approved_sessions: int | None = None
    sessions_used_elsewhere: int = 0
    starts_on: date | None = None
    expires_on: date | None = None
    ndis_management: NdisManagement | str | None = None
    notes: str = ""
    budgets: Sequence[BudgetInput] = ()


@dataclass(frozen=True)
class BudgetView:
    category: str
    budget_cents: int
    spent_cents: int

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.spent_cents


@dataclass(frozen=True)
class PlanView:
    id: str
    patient_id: str
    kind: PlanKind
    label: str
    funder_id: str | None
    funder_name: str
    referrer_name: str
    referrer_provider_number: str
    insurer_name: str
    claim_number: str
    case_manager: str
    approved_sessions: int | None
    session_limit: int | None
    sessions_used: int  # this clinic's sessions plus those used elsewhere
    starts_on: date | None
    expires_on: date | None
    last_day: date | None
    ndis_management: NdisManagement | None
    notes: str
    budgets: tuple[BudgetView, ...] = field(default_factory=tuple)

    def facts(self) -> PlanFacts:
        return PlanFacts(
            kind=self.kind,
            starts_on=self.starts_on,
            expires_on=self.expires_on,
            approved_sessions=self.approved_sessions,
            referrer_name=self.referrer_name,
            referrer_provider_number=self.referrer_provider_number,
            claim_number=self.claim_number,
            ndis_management=self.ndis_management,
            budgets=tuple(Budget(b.category, b.budget_cents, b.spent_cents) for b in self.budgets),
        )


def _facts_of(inp: PlanInput) -> PlanFacts:
    try:
        kind = PlanKind(inp.kind)
    except ValueError:
        raise ValidationFailed("Choose the kind of plan or referral.", field="kind") from None
    try:
        mgmt = NdisManagement(inp.ndis_management) if inp.ndis_management else None
    except ValueError:
        raise ValidationFailed("Choose how the NDIS plan is managed.", field="ndis") from None
    return PlanFacts(
        kind=kind,
        starts_on=inp.starts_on,
        expires_on=inp.expires_on,
        approved_sessions=inp.approved_sessions,
        referrer_name=inp.referrer_name,
        referrer_provider_number=inp.referrer_provider_number,
        claim_number=inp.claim_number,
        ndis_management=mgmt,
        budgets=tuple(Budget(b.category, b.budget_cents) for b in inp.budgets),
    )


def save_plan(
    ctx: ServiceContext, patient_id: str, inp: PlanInput, plan_id: str | None = None
) -> str:
    """Add (or, given ``plan_id``, change) a plan on the patient's card. Refuses a plan the
    funder would not pay on (no provider number, no claim number, ends before it starts…)."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    facts = _facts_of(inp)
    problems = [f.message for f in check_plan_record(facts) if f.severity is Severity.ERROR]
    if inp.sessions_used_elsewhere < 0:
        problems.append("Sessions used elsewhere cannot be negative.")
    if problems:
        raise ValidationFailed(" ".join(problems), field="plan")
    categories = [b.category.strip() for b in inp.budgets]
    if any(not c for c in categories) or len(set(categories)) != len(categories):
        raise ValidationFailed("Each NDIS budget needs its own support category name.")
    with ctx.write("save a funding plan" if plan_id is None else "change a funding plan") as s:
        patient = s.get(Patient, patient_id)
        if patient is None or patient.deleted_at is not None:
            raise NotFound("That patient no longer exists.")
        if inp.funder_id and s.get(Funder, inp.funder_id) is None:
            raise NotFound("That payer no longer exists.")
        if plan_id is None:
            plan = FundingPlan(patient_id=patient_id, kind=facts.kind)
            s.add(plan)
        else:
            found = s.get(FundingPlan, plan_id)
            if found is None or found.deleted_at is not None or found.patient_id != patient_id:
                raise NotFound("That plan no longer exists.")
            plan = found
            plan.kind = facts.kind
        plan.funder_id = inp.funder_id
        plan.referrer_name = inp.referrer_name.strip()
        plan.referrer_provider_number = inp.referrer_provider_number.strip().upper()
        plan.insurer_name = inp.insurer_name.strip()
        plan.claim_number = inp.claim_number.strip()
        plan.case_manager = inp.case_manager.strip()
        plan.approved_sessions = inp.approved_sessions
        plan.sessions_used_elsewhere = inp.sessions_used_elsewhere
        plan.starts_on = inp.starts_on
        plan.expires_on = inp.expires_on
        plan.ndis_management = facts.ndis_management.value if facts.ndis_management else None
        plan.notes = inp.notes.strip()
        s.flush()
        existing = {
            b.category: b
            for b in s.scalars(
                select(FundingBudget).where(
                    FundingBudget.plan_id == plan.id, FundingBudget.deleted_at.is_(None)
                )
            )
        }
        wanted = {b.category.strip(): b.budget_cents for b in inp.budgets}
        for cat, row in existing.items():
            if cat not in wanted:
                row.deleted_at = ctx.clock.now()
        for cat, cents in wanted.items():
            if cat in existing:
                existing[cat].budget_cents = cents
            else:
                s.add(FundingBudget(plan_id=plan.id, category=cat, budget_cents=cents))
        return plan.id


def archive_plan(ctx: ServiceContext, plan_id: str) -> None:
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write("archive a funding plan") as s:
        plan = s.get(FundingPlan, plan_id)
        if plan is None or plan.deleted_at is not None:
            raise NotFound("That plan no longer exists.")
        plan.archived_at = ctx.clock.now()


# -- counting ----------------------------------------------------------------------------
def sessions_used(s: Session, plan_id: str, *, exclude_appointment_id: str | None = None) -> int:
    q = (
        select(func.count())
        .select_from(PlanSession)
        .join(Appointment, Appointment.id == PlanSession.appointment_id)
        .where(
            PlanSession.plan_id == plan_id,
            PlanSession.deleted_at.is_(None),
            Appointment.deleted_at.is_(None),
            Appointment.status.in_(COUNTED),
        )
    )
    if exclude_appointment_id:
        q = q.where(PlanSession.appointment_id != exclude_appointment_id)
    return int(s.scalar(q) or 0)


def year_bounds(ctx: ServiceContext, year: int) -> tuple[datetime, datetime]:
    """The clinic's calendar year as UTC instants."""
    start = datetime.combine(date(year, 1, 1), time(), ctx.tz).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), ctx.tz).astimezone(UTC)
    return start, end


def used_in_year(
    ctx: ServiceContext,
    s: Session,
    patient_id: str,
    kind: PlanKind,
    year: int,
    *,
    exclude_appointment_id: str | None = None,
) -> int:
    """Services under every plan of ``kind`` the patient had in the calendar year (any
    discipline, any desk) plus those recorded as used elsewhere on plans starting that year.

    The patient's plan sessions are few: they are read by plan (an index) and counted here, so
    the database never walks a year of the whole clinic's appointments."""
    start, end = year_bounds(ctx, year)
    plans = s.execute(
        select(FundingPlan.id, FundingPlan.starts_on, FundingPlan.sessions_used_elsewhere).where(
            FundingPlan.patient_id == patient_id,
            FundingPlan.kind == kind,
            FundingPlan.deleted_at.is_(None),
        )
    ).all()
    if not plans:
        return 0
    rows = s.execute(
        select(PlanSession.appointment_id, Appointment.starts_at, Appointment.status)
        .join(Appointment, Appointment.id == PlanSession.appointment_id)
        .where(
            PlanSession.plan_id.in_([p.id for p in plans]),
            PlanSession.deleted_at.is_(None),
            Appointment.deleted_at.is_(None),
        )
    ).all()
    here = sum(
        1
        for appt_id, starts, status in rows
        if status in COUNTED and start <= starts < end and appt_id != exclude_appointment_id
    )
    elsewhere = sum(
        int(p.sessions_used_elsewhere)
        for p in plans
        if p.starts_on is not None and p.starts_on.year == year
    )
    return here + elsewhere


def budget_spent(
    s: Session, plan_id: str, *, exclude_appointment_id: str | None = None
) -> dict[str, int]:
    q = (
        select(PlanSession.budget_category, func.sum(PlanSession.price_cents))
        .join(Appointment, Appointment.id == PlanSession.appointment_id)
        .where(
            PlanSession.plan_id == plan_id,
            PlanSession.deleted_at.is_(None),
            Appointment.deleted_at.is_(None),
            Appointment.status.in_(COUNTED),
        )
        .group_by(PlanSession.budget_category)
    )
    if exclude_appointment_id:
        q = q.where(PlanSession.appointment_id != exclude_appointment_id)
    return {cat: int(total or 0) for cat, total in s.execute(q)}


def plan_view(
    s: Session, plan: FundingPlan, *, exclude_appointment_id: str | None = None
) -> PlanView:
    kind = PlanKind(plan.kind)
    spent = budget_spent(s, plan.id, exclude_appointment_id=exclude_appointment_id)
    budgets = tuple(
        BudgetView(b.category, b.budget_cents, spent.get(b.category, 0))
        for b in s.scalars(
            select(FundingBudget)
            .where(FundingBudget.plan_id == plan.id, FundingBudget.deleted_at.is_(None))
            .order_by(FundingBudget.category)
        )
    )
    funder = s.get(Funder, plan.funder_id) if plan.funder_id else None
    used = sessions_used(s, plan.id, exclude_appointment_id=exclude_appointment_id)
    view = PlanView(
        id=plan.id,
        patient_id=plan.patient_id,
        kind=kind,
        label=kind.label,
        funder_id=plan.funder_id,
        funder_name=funder.name if funder else "",
        referrer_name=plan.referrer_name,
        referrer_provider_number=plan.referrer_provider_number,
        insurer_name=plan.insurer_name,
        claim_number=plan.claim_number,
        case_manager=plan.case_manager,
        approved_sessions=plan.approved_sessions,
        session_limit=None,
        sessions_used=used + plan.sessions_used_elsewhere,
        starts_on=plan.starts_on,
        expires_on=plan.expires_on,
        last_day=None,
        ndis_management=NdisManagement(plan.ndis_management) if plan.ndis_management else None,
        notes=plan.notes,
        budgets=budgets,
    )
    facts = view.facts()
    return PlanView(
        **{
            **view.__dict__,
            "session_limit": facts.session_limit(),
            "last_day": facts.last_day(),
        }
    )


def active_plans(s: Session, patient_id: str) -> list[FundingPlan]:
    return list(
        s.scalars(
            select(FundingPlan)
            .where(
                FundingPlan.patient_id == patient_id,
                FundingPlan.deleted_at.is_(None),
                FundingPlan.archived_at.is_(None),
            )
            .order_by(FundingPlan.starts_on.desc(), FundingPlan.created_at)
        )
    )


def list_plans(ctx: ServiceContext, patient_id: str) -> list[PlanView]:
    """The patient's current plans and referrals, newest first, with sessions used."""
    require(ctx.actor, Action.VIEW_PATIENTS)
    with ctx.read() as s:
        return [plan_view(s, p) for p in active_plans(s, patient_id)]


def get_plan(ctx: ServiceContext, plan_id: str) -> PlanView:
    require(ctx.actor, Action.VIEW_PATIENTS)
    with ctx.read() as s:
        plan = s.get(FundingPlan, plan_id)
        if plan is None or plan.deleted_at is not None:
            raise NotFound("That plan no longer exists.")
        return plan_view(s, plan)


def book_under_plan(
    ctx: ServiceContext,
    appointment_id: str,
    plan_id: str,
    *,
    budget_category: str = "",
    price_cents: int = 0,
) -> None:
    """Count an appointment against a plan (replacing an earlier choice of plan)."""
    require(ctx.actor, Action.EDIT_DIARY)
    if price_cents < 0:
        raise ValidationFailed("A price cannot be negative.")
    with ctx.write("book a session under a funding plan") as s:
        appt = s.get(Appointment, appointment_id)
        plan = s.get(FundingPlan, plan_id)
        if appt is None or appt.deleted_at is not None:
            raise NotFound("That appointment no longer exists.")
        if plan is None or plan.deleted_at is not None:
            raise NotFound("That plan no longer exists.")
        if appt.patient_id != plan.patient_id:
            raise RuleViolation("That plan belongs to another patient.")
        if not budget_category and plan.kind == PlanKind.NDIS:
            budget_category = next(
                iter(
                    s.scalars(
                        select(FundingBudget.category)
                        .where(FundingBudget.plan_id == plan_id, FundingBudget.deleted_at.is_(None))
                        .order_by(FundingBudget.category)
                    )
                ),
                "",
            )
        row = s.scalars(
            select(PlanSession).where(PlanSession.appointment_id == appointment_id)
        ).first()
        if row is None:
            s.add(
                PlanSession(
                    plan_id=plan_id,
                    appointment_id=appointment_id,
                    budget_category=budget_category,
                    price_cents=price_cents,
                )
            )
        else:
            row.plan_id, row.deleted_at = plan_id, None
            row.budget_category, row.price_cents = budget_category, price_cents


@dataclass(frozen=True)
class RunningOut:
    plan_id: str
    patient_id: str
    patient_name: str
    plan_label: str
    why: str


def plans_running_out(
    ctx: ServiceContext, today: date | None = None, *, within_days: int = 30
) -> list[RunningOut]:
    """Patients whose plans expire within ``within_days`` or have one session left (recalls)."""
    from frontdesk.domain.funding import runs_out_soon

    require(ctx.actor, Action.VIEW_PATIENTS)
    day = today or ctx.clock.now().astimezone(ctx.tz).date()
    out: list[RunningOut] = []
    with ctx.read() as s:
        rows = s.execute(
            select(FundingPlan, Patient.first_name, Patient.last_name)
            .join(Patient, Patient.id == FundingPlan.patient_id)
            .where(
                FundingPlan.deleted_at.is_(None),
                FundingPlan.archived_at.is_(None),
                Patient.archived_at.is_(None),
                (FundingPlan.expires_on.is_(None)) | (FundingPlan.expires_on >= day),
            )
        ).all()
        for plan, first, last in rows:
            view = plan_view(s, plan)
            why = runs_out_soon(view.facts(), view.sessions_used, day, within_days=within_days)
            if why:
                out.append(RunningOut(plan.id, plan.patient_id, f"{first} {last}", view.label, why))
    out.sort(key=lambda r: (r.why, r.patient_name))
    return out
