"""Reports back to the referring practitioner: Medicare requires a written report to the GP
after the first and the last service under a chronic condition management plan (and DVA asks
for one at the end of a referral). A letter (PDF) from a template, filled from the plan and the
sessions counted against it, with space for the practitioner's findings; sending it is recorded
on the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from string import Formatter
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy import select

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.funding import PlanKind
from frontdesk.models import Appointment, FundingPlan, Patient, PlanSession, Practitioner
from frontdesk.services.billing.views import ClinicInfo
from frontdesk.services.claims.plans import COUNTED
from frontdesk.services.documents.layout import boxes, build, day, header, p
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


class ReportKind(StrEnum):
    FIRST = "first"
    LAST = "last"


TEMPLATE = (
    "Dear {referrer},\n\n"
    "Thank you for referring {patient} (born {born}) under their {plan}. {summary}\n\n"
    "Assessment and findings:\n\n\n\nTreatment provided and goals:\n\n\n\n"
    "Recommendations:\n\n\n\n"
    "Please contact me if you would like to discuss {patient_first}'s care.\n\n"
    "Yours sincerely,\n\n\n{practitioner}\n{profession}"
)


@dataclass(frozen=True)
class LetterFacts:
    referrer: str
    referrer_provider_number: str
    patient: str
    patient_first: str
    born: str
    plan: str
    practitioner: str
    profession: str
    sessions: tuple[date, ...]
    limit: str
    kind: ReportKind


def letter_facts(ctx: ServiceContext, plan_id: str, kind: ReportKind) -> LetterFacts:
    require(ctx.actor, Action.VIEW_PATIENTS)
    with ctx.read() as s:
        plan = s.get(FundingPlan, plan_id)
        if plan is None or plan.deleted_at is not None:
            raise NotFound("That plan no longer exists.")
        if not plan.referrer_name:
            raise RuleViolation("This plan has no referrer to write to.")
        patient = s.get(Patient, plan.patient_id)
        assert patient is not None
        rows = s.execute(
            select(Appointment.starts_at, Appointment.practitioner_id)
            .join(PlanSession, PlanSession.appointment_id == Appointment.id)
            .where(
                PlanSession.plan_id == plan_id,
                PlanSession.deleted_at.is_(None),
                Appointment.status.in_(COUNTED),
            )
            .order_by(Appointment.starts_at)
        ).all()
        if not rows:
            raise RuleViolation("No sessions have been provided under this plan yet.")
        prac = s.get(Practitioner, rows[-1][1])
        limit = plan.approved_sessions
    tz = ctx.tz
    sessions = tuple(r[0].astimezone(tz).date() for r in rows)
    kind_ = PlanKind(plan.kind)
    default = {PlanKind.MEDICARE_CDM: 5, PlanKind.MENTAL_HEALTH: 10, PlanKind.DVA: 12}
    return LetterFacts(
        referrer=plan.referrer_name,
        referrer_provider_number=plan.referrer_provider_number,
        patient=f"{patient.first_name} {patient.last_name}",
        patient_first=patient.preferred_name or patient.first_name,
        born=f"{patient.date_of_birth:%-d %B %Y}" if patient.date_of_birth else "date not recorded",
        plan=_in_sentence(kind_.label),
        practitioner=prac.display_name if prac else "",
        profession=prac.profession if prac else "",
        sessions=sessions,
        limit=str(limit or default.get(kind_, len(sessions))),
        kind=kind,
    )


def _in_sentence(label: str) -> str:
    """ "Mental health treatment plan" → "mental health treatment plan"; names stay."""
    if label.split(maxsplit=1)[0] in {"Medicare", "DVA", "NDIS", "WorkCover", "CTP"}:
        return label
    return label[0].lower() + label[1:]


# What a template may say, and what each placeholder stands for (shown beside the editor).
PLACEHOLDERS = {
    "referrer": "the referring practitioner's name",
    "provider_number": "the referrer's provider number",
    "patient": "the patient's full name",
    "patient_first": "the patient's first (or preferred) name",
    "born": "the patient's date of birth",
    "plan": 'the plan, in a sentence ("mental health treatment plan")',
    "summary": "a sentence on the sessions so far (first or last service)",
    "sessions": "how many sessions were provided under the plan",
    "limit": "how many the plan allows",
    "first_session": "the date of the first session",
    "last_session": "the date of the latest session",
    "practitioner": "the treating practitioner",
    "profession": "their profession",
}

_SAMPLE = LetterFacts(
    referrer="Dr Amelia Hart", referrer_provider_number="2345671A", patient="Maria Santos",
    patient_first="Maria", born="14 March 1961", plan="Medicare chronic condition management plan",
    practitioner="Anna Allen", profession="Physiotherapist",
    sessions=(date(2026, 3, 2), date(2026, 5, 4), date(2026, 8, 3), date(2026, 10, 5),
              date(2026, 11, 30)),
    limit="5", kind=ReportKind.LAST,
)  # fmt: skip


def check_template(template: str) -> None:
    """Refuse a template with an unknown placeholder or a stray brace, saying which."""
    if not template.strip():
        raise ValidationFailed("The letter cannot be empty.", field="template")
    try:
        names = [name for _t, name, _f, _c in Formatter().parse(template) if name is not None]
    except ValueError:
        raise ValidationFailed(
            "A { or } has no partner. Placeholders are written like {patient}; to write a "
            "brace itself, type it twice ({{ or }}).",
            field="template",
        ) from None
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise ValidationFailed(
            f"Unknown placeholder {{{unknown[0]}}}. Use one of: "
            + ", ".join(f"{{{k}}}" for k in PLACEHOLDERS)
            + ".",
            field="template",
        )


def letter_template(ctx: ServiceContext) -> str:
    """The clinic's letter (the built-in one until the clinic writes its own)."""
    require(ctx.actor, Action.VIEW_PATIENTS)
    with ctx.read() as s:
        return ctx.settings(s).referrer_letter_template or TEMPLATE


def save_letter_template(ctx: ServiceContext, template: str) -> None:
    """Keep the clinic's own letter ("" puts the built-in one back). Checked first: an unknown
    placeholder or a stray brace is refused with the reason and nothing is saved."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    text = template.replace("\r\n", "\n").strip("\n")
    if text and text != TEMPLATE:
        check_template(text)
    else:
        text = ""
    with ctx.write("change the referrer letter") as s:
        ctx.settings(s).referrer_letter_template = text


def preview_letter(template: str, kind: ReportKind | str = ReportKind.LAST) -> str:
    """The letter as a sample patient's referrer would read it (raises like ``check_template``)."""
    check_template(template)
    sample = LetterFacts(**{**_SAMPLE.__dict__, "kind": ReportKind(kind)})
    return letter_text(sample, template)


def letter_text(f: LetterFacts, template: str = TEMPLATE) -> str:
    first = f"{f.sessions[0]:%-d %b %Y}"
    if f.kind is ReportKind.FIRST:
        summary = (
            f"This report follows {f.patient_first}'s first session with {f.practitioner} on "
            f"{first}."
        )
    else:
        summary = (
            f"{f.patient_first} has now completed {len(f.sessions)} of {f.limit} services with "
            f"{f.practitioner}, from {first} to {f.sessions[-1]:%-d %b %Y}."
        )
    return template.format(
        referrer=f.referrer,
        provider_number=f.referrer_provider_number,
        patient=f.patient,
        patient_first=f.patient_first,
        born=f.born,
        plan=f.plan,
        summary=summary,
        sessions=len(f.sessions),
        limit=f.limit,
        first_session=first,
        last_session=f"{f.sessions[-1]:%-d %b %Y}",
        practitioner=f.practitioner,
        profession=f.profession,
    )


def render_letter(
    f: LetterFacts, clinic: ClinicInfo, today: date, template: str = TEMPLATE
) -> bytes:
    title = "Report to referrer" + (" — first service" if f.kind is ReportKind.FIRST else "")
    if f.kind is ReportKind.LAST:
        title += " — last service"
    story: list[Any] = [
        header(clinic, "Report", [("Date", day(today, clinic)), ("Re", f.patient)]),
        Spacer(1, 6 * mm),
        boxes(
            [
                ("To", [f.referrer, f"Provider number {f.referrer_provider_number}"]),
                ("Patient", [f.patient, f"Born {f.born}"]),
            ]
        ),
        Spacer(1, 8 * mm),
    ]
    for para in letter_text(f, template).split("\n\n"):
        # An empty paragraph is room for the practitioner to write in.
        story += [p(para), Spacer(1, 3 * mm)] if para.strip() else [Spacer(1, 20 * mm)]
    return build(story, title, footer=clinic.name)


def referrer_letter(ctx: ServiceContext, plan_id: str, kind: ReportKind | str) -> bytes:
    """The letter's PDF (not yet recorded as sent)."""
    from frontdesk.services.clinic_settings import clinic_info

    facts = letter_facts(ctx, plan_id, ReportKind(kind))
    today = ctx.clock.now().astimezone(ctx.tz).date()
    return render_letter(facts, clinic_info(ctx), today, letter_template(ctx))


def mark_report_sent(ctx: ServiceContext, plan_id: str, kind: ReportKind | str) -> None:
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write("record a report sent to the referrer") as s:
        plan = s.get(FundingPlan, plan_id)
        if plan is None or plan.deleted_at is not None:
            raise NotFound("That plan no longer exists.")
        if ReportKind(kind) is ReportKind.FIRST:
            plan.first_report_sent_at = ctx.clock.now()
        else:
            plan.last_report_sent_at = ctx.clock.now()


@dataclass(frozen=True)
class ReportDue:
    plan_id: str
    patient_name: str
    referrer: str
    kind: ReportKind


def reports_due(ctx: ServiceContext) -> list[ReportDue]:
    """Plans whose first-service report is not sent yet though a session was provided, and
    plans whose sessions are used up with no last-service report."""
    from frontdesk.services.claims.plans import plan_view

    require(ctx.actor, Action.VIEW_PATIENTS)
    out: list[ReportDue] = []
    with ctx.read() as s:
        plans = s.execute(
            select(FundingPlan, Patient.first_name, Patient.last_name)
            .join(Patient, Patient.id == FundingPlan.patient_id)
            .where(
                FundingPlan.deleted_at.is_(None),
                FundingPlan.archived_at.is_(None),
                FundingPlan.referrer_name != "",
            )
        ).all()
        for plan, first, last in plans:
            view = plan_view(s, plan)
            used = view.sessions_used - plan.sessions_used_elsewhere
            if used <= 0:
                continue
            name = f"{first} {last}"
            if plan.first_report_sent_at is None:
                out.append(ReportDue(plan.id, name, plan.referrer_name, ReportKind.FIRST))
            limit = view.session_limit or {"medicare_cdm": 5, "mhtp": 10}.get(plan.kind)
            if limit and view.sessions_used >= limit and plan.last_report_sent_at is None:
                out.append(ReportDue(plan.id, name, plan.referrer_name, ReportKind.LAST))
    return out
