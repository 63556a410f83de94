"""Funded care as plain rules: which plan pays for a session, how many sessions it allows, when
it runs out, and what a receptionist must be told before booking or invoicing.

The figures are data (``PLAN_RULES``, ``MEDICARE_ALLIED_HEALTH_ITEMS``), taken from the funders'
published rules:

* Medicare chronic disease management, allied health items 10950–10970 (MBS note MN.8.1 / the
  "Individual allied health services" items): at most **5 services per patient per calendar
  year**, combined across all allied-health disciplines; each service at least **20 minutes**,
  provided **one to one**, on a current GP referral (a GP chronic condition management plan).
* Better Access mental-health treatment plan: up to **10** individual sessions per calendar year.
* DVA allied health referral (D904): valid for up to **12 sessions or 12 months**, whichever
  comes first.
* WorkCover / CTP: the insurer approves a number of sessions up to an expiry date.
* NDIS: the plan's budget per support category; a price never above the NDIA's price limit.
* GST: health services a Medicare benefit is payable for, and other allied-health services by a
  recognised professional, are GST-free (GST Act s 38-10); NDIS supports under a participant's
  plan are GST-free (s 38-38). NDIS bulk claims say so with GST code ``P1``.

Every check returns ``Finding``s; an ``ERROR`` means the funder will not pay (booking is still
allowed — the patient may pay privately — but an invoice to the funder is refused), a
``WARNING`` needs a person's attention, an ``INFO`` is a count worth showing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from frontdesk.domain.money import format_money


class PlanKind(StrEnum):
    MEDICARE_CDM = "medicare_cdm"
    MENTAL_HEALTH = "mhtp"
    DVA = "dva"
    WORKCOVER = "workcover"
    CTP = "ctp"
    NDIS = "ndis"

    @property
    def label(self) -> str:
        return PLAN_RULES[self].label


class NdisManagement(StrEnum):
    AGENCY = "agency"
    PLAN = "plan"
    SELF = "self"

    @property
    def label(self) -> str:
        return {"agency": "Agency-managed", "plan": "Plan-managed", "self": "Self-managed"}[
            self.value
        ]


class ClaimStatus(StrEnum):
    PREPARED = "prepared"
    SUBMITTED = "submitted"
    PAID = "paid"
    PART_PAID = "part_paid"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    message: str
    code: str = ""

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PlanRule:
    label: str
    short: str  # "Medicare visits", "DVA sessions"
    yearly_limit: int | None = None  # per calendar year, per patient, all plans of this kind
    default_sessions: int | None = None  # per referral/approval unless it says otherwise
    valid_months: int | None = None  # a referral lapses this long after it starts
    min_minutes: int = 0
    one_to_one: bool = False
    needs_referrer: bool = False
    needs_provider_number: bool = False
    needs_claim_number: bool = False
    gst_free_reason: str = ""


PLAN_RULES: Mapping[PlanKind, PlanRule] = {
    PlanKind.MEDICARE_CDM: PlanRule(
        label="Medicare chronic condition management plan",
        short="Medicare visits",
        yearly_limit=5,
        min_minutes=20,
        one_to_one=True,
        needs_referrer=True,
        needs_provider_number=True,
        gst_free_reason="a Medicare-eligible health service (GST Act s 38-10)",
    ),
    PlanKind.MENTAL_HEALTH: PlanRule(
        label="Mental health treatment plan",
        short="Better Access sessions",
        yearly_limit=10,
        min_minutes=20,
        one_to_one=True,
        needs_referrer=True,
        needs_provider_number=True,
        gst_free_reason="a Medicare-eligible health service (GST Act s 38-10)",
    ),
    PlanKind.DVA: PlanRule(
        label="DVA referral",
        short="DVA sessions",
        default_sessions=12,
        valid_months=12,
        needs_referrer=True,
        needs_provider_number=True,
        gst_free_reason="a health service by a recognised professional (GST Act s 38-10)",
    ),
    PlanKind.WORKCOVER: PlanRule(
        label="WorkCover claim",
        short="WorkCover sessions",
        needs_claim_number=True,
        gst_free_reason="a health service by a recognised professional (GST Act s 38-10)",
    ),
    PlanKind.CTP: PlanRule(
        label="CTP claim",
        short="CTP sessions",
        needs_claim_number=True,
        gst_free_reason="a health service by a recognised professional (GST Act s 38-10)",
    ),
    PlanKind.NDIS: PlanRule(
        label="NDIS plan",
        short="NDIS sessions",
        gst_free_reason="a support under an NDIS participant's plan (GST Act s 38-38)",
    ),
}

# Plans whose limit is per patient per calendar year, across every plan of the kind.
YEARLY_PLAN_KINDS = frozenset(k for k, r in PLAN_RULES.items() if r.yearly_limit is not None)

# Medicare allied health chronic disease management items (MBS Group M3).
MEDICARE_ALLIED_HEALTH_ITEMS: Mapping[str, str] = {
    "10950": "Aboriginal and Torres Strait Islander health service",
    "10951": "Diabetes education service",
    "10952": "Audiology health service",
    "10953": "Exercise physiology service",
    "10954": "Dietetics service",
    "10956": "Mental health service",
    "10958": "Occupational therapy service",
    "10960": "Physiotherapy service",
    "10962": "Podiatry service",
    "10964": "Chiropractic service",
    "10966": "Osteopathy service",
    "10968": "Psychology service",
    "10970": "Speech pathology service",
}

PROFESSION_ITEMS: Mapping[str, str] = {
    "aboriginal health worker": "10950",
    "diabetes educator": "10951",
    "audiologist": "10952",
    "exercise physiologist": "10953",
    "dietitian": "10954",
    "mental health worker": "10956",
    "occupational therapist": "10958",
    "physiotherapist": "10960",
    "podiatrist": "10962",
    "chiropractor": "10964",
    "osteopath": "10966",
    "psychologist": "10968",
    "speech pathologist": "10970",
}

NDIS_GST_FREE = "P1"  # GST-free support (the NDIA's bulk payment request GST codes)
NDIS_TAXABLE = "P2"
NDIS_OUT_OF_SCOPE = "P5"


def is_medicare_allied_health_item(item_number: str) -> bool:
    return item_number.strip() in MEDICARE_ALLIED_HEALTH_ITEMS


def medicare_item_for(profession: str) -> str | None:
    """The 10950–10970 item for a practitioner's profession ("Physiotherapist" → 10960)."""
    return PROFESSION_ITEMS.get(profession.strip().lower())


def gst_free(kind: PlanKind) -> tuple[bool, str]:
    """Whether a session funded by this plan is GST-free, and why (for the invoice and docs)."""
    reason = PLAN_RULES[kind].gst_free_reason
    return bool(reason), reason


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# -- the facts a check needs ---------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    category: str  # "Capacity Building – Improved Daily Living"
    budget_cents: int
    spent_cents: int = 0  # invoiced or booked against it so far

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.spent_cents


@dataclass(frozen=True)
class PlanFacts:
    kind: PlanKind
    starts_on: date | None = None
    expires_on: date | None = None
    approved_sessions: int | None = None
    referrer_name: str = ""
    referrer_provider_number: str = ""
    claim_number: str = ""
    ndis_management: NdisManagement | None = None
    budgets: Sequence[Budget] = field(default_factory=tuple)

    @property
    def rule(self) -> PlanRule:
        return PLAN_RULES[self.kind]

    def last_day(self) -> date | None:
        """The last day the plan covers: its expiry, or the referral's lapse, the earlier."""
        ends = [self.expires_on] if self.expires_on else []
        if self.rule.valid_months and self.starts_on:
            ends.append(add_months(self.starts_on, self.rule.valid_months) - timedelta(days=1))
        return min(ends) if ends else None

    def session_limit(self) -> int | None:
        if self.approved_sessions is not None:
            return self.approved_sessions
        return self.rule.default_sessions


@dataclass(frozen=True)
class SessionFacts:
    on: date
    minutes: int
    one_to_one: bool = True
    price_cents: int = 0
    ndis_category: str = ""  # the budget an NDIS session draws on


def check_plan_record(plan: PlanFacts) -> list[Finding]:
    """What is wrong with a plan as typed: refused when saving."""
    out: list[Finding] = []
    rule = plan.rule
    if rule.needs_referrer and not plan.referrer_name.strip():
        out.append(Finding(Severity.ERROR, f"A {rule.label.lower()} needs the referrer's name."))
    if rule.needs_provider_number and not plan.referrer_provider_number.strip():
        out.append(
            Finding(
                Severity.ERROR,
                f"The referral has no provider number; {_payer(plan.kind)} will not pay "
                "without the referring practitioner's provider number.",
                "no_provider_number",
            )
        )
    if rule.needs_claim_number and not plan.claim_number.strip():
        out.append(Finding(Severity.ERROR, f"A {rule.label} needs the insurer's claim number."))
    if plan.starts_on and plan.expires_on and plan.expires_on < plan.starts_on:
        out.append(Finding(Severity.ERROR, "The plan expires before it starts."))
    if plan.approved_sessions is not None and plan.approved_sessions < 0:
        out.append(Finding(Severity.ERROR, "Approved sessions cannot be negative."))
    if plan.kind is PlanKind.NDIS:
        if plan.ndis_management is None:
            out.append(
                Finding(Severity.ERROR, "Say how the NDIS plan is managed (agency, plan or self).")
            )
        if any(b.budget_cents < 0 for b in plan.budgets):
            out.append(Finding(Severity.ERROR, "A budget cannot be negative."))
    return out


def check_session(
    plan: PlanFacts,
    session: SessionFacts,
    *,
    used_in_plan: int,
    used_in_year: int = 0,
) -> list[Finding]:
    """Findings for one more session under ``plan``.

    ``used_in_plan``: sessions already counted against this plan (not this one);
    ``used_in_year``: for plans with a yearly limit, services of this kind the patient already
    had in the session's calendar year (every discipline, every plan)."""
    rule = plan.rule
    out: list[Finding] = []
    if plan.starts_on and session.on < plan.starts_on:
        out.append(
            Finding(
                Severity.ERROR,
                f"The {rule.label.lower()} starts on {plan.starts_on:%-d %b %Y}, after this "
                "session.",
                "not_started",
            )
        )
    last = plan.last_day()
    if last and session.on > last:
        what = "referral" if rule.needs_referrer else "approval"
        if plan.kind in (PlanKind.NDIS, PlanKind.MEDICARE_CDM, PlanKind.MENTAL_HEALTH):
            what = "plan"
        out.append(
            Finding(
                Severity.ERROR,
                f"The {_short_name(plan.kind)} {what} expires on {last:%-d %b %Y}, before this "
                "date.",
                "expired",
            )
        )
    if rule.needs_provider_number and not plan.referrer_provider_number.strip():
        out.append(
            Finding(
                Severity.ERROR,
                "The referral has no provider number; the claim would be rejected.",
                "no_provider_number",
            )
        )
    if rule.min_minutes and session.minutes < rule.min_minutes:
        out.append(
            Finding(
                Severity.ERROR,
                f"{_payer(plan.kind)} pays only for services of at least "
                f"{rule.min_minutes} minutes; this one is {session.minutes}.",
                "too_short",
            )
        )
    if rule.one_to_one and not session.one_to_one:
        out.append(
            Finding(
                Severity.ERROR,
                f"{_payer(plan.kind)} pays these items only for one-to-one services, not a group.",
                "not_one_to_one",
            )
        )
    if rule.yearly_limit is not None:
        n = used_in_year + 1
        limit = rule.yearly_limit
        year = session.on.year
        if n > limit:
            out.append(
                Finding(
                    Severity.ERROR,
                    f"{ordinal(n)} {rule.short.removesuffix('s')} in {year}: only {limit} a "
                    "year are paid.",
                    "over_yearly_limit",
                )
            )
        else:
            out.append(
                Finding(
                    Severity.WARNING if n == limit else Severity.INFO,
                    f"{ordinal(n)} of {limit} {rule.short} in {year}",
                    "yearly_count",
                )
            )
    limit_sessions = plan.session_limit()
    if limit_sessions is not None:
        n = used_in_plan + 1
        if n > limit_sessions:
            out.append(
                Finding(
                    Severity.ERROR,
                    f"{ordinal(n)} session, but the {_short_name(plan.kind)} approval covers "
                    f"only {limit_sessions}.",
                    "over_approved",
                )
            )
        else:
            out.append(
                Finding(
                    Severity.WARNING if n == limit_sessions else Severity.INFO,
                    f"{ordinal(n)} of {limit_sessions} approved {rule.short}",
                    "approved_count",
                )
            )
    if plan.kind is PlanKind.NDIS:
        out.extend(_ndis_budget(plan, session))
    return out


def _short_name(kind: PlanKind) -> str:
    return {
        PlanKind.MEDICARE_CDM: "Medicare",
        PlanKind.MENTAL_HEALTH: "mental health",
        PlanKind.DVA: "DVA",
        PlanKind.WORKCOVER: "WorkCover",
        PlanKind.CTP: "CTP",
        PlanKind.NDIS: "NDIS",
    }[kind]


def _payer(kind: PlanKind) -> str:
    """Who pays, in a sentence: Medicare pays for both chronic-condition and mental-health
    plan services."""
    return "Medicare" if kind is PlanKind.MENTAL_HEALTH else _short_name(kind)


def _ndis_budget(plan: PlanFacts, session: SessionFacts) -> list[Finding]:
    budgets = [b for b in plan.budgets if b.category == session.ndis_category]
    if not session.ndis_category:
        budgets = list(plan.budgets[:1])
    if not budgets:
        return [
            Finding(
                Severity.ERROR,
                f"The NDIS plan has no {session.ndis_category or 'matching'} budget.",
                "no_budget",
            )
        ]
    b = budgets[0]
    left_after = b.left_cents - session.price_cents
    if left_after < 0:
        return [
            Finding(
                Severity.ERROR,
                f"NDIS {b.category} budget has {format_money(max(b.left_cents, 0))} left; "
                f"this session ({format_money(session.price_cents)}) is over budget.",
                "over_budget",
            )
        ]
    sev = Severity.WARNING if left_after < session.price_cents else Severity.INFO
    return [
        Finding(sev, f"NDIS {b.category} budget has {format_money(b.left_cents)} left", "budget")
    ]


def worst(findings: Sequence[Finding]) -> Severity | None:
    order = [Severity.INFO, Severity.WARNING, Severity.ERROR]
    if not findings:
        return None
    return max((f.severity for f in findings), key=order.index)


def runs_out_soon(
    plan: PlanFacts, used: int, today: date, *, within_days: int = 30, sessions_left: int = 1
) -> str | None:
    """Why a plan needs a recall (expiring within ``within_days`` or at most ``sessions_left``
    sessions left), or None."""
    last = plan.last_day()
    if last is not None and today <= last <= today + timedelta(days=within_days):
        return f"expires {last:%-d %b %Y}"
    limit = plan.session_limit()
    if limit is not None and (last is None or last >= today) and limit - used <= sessions_left:
        left = max(limit - used, 0)
        return f"{left} of {limit} sessions left"
    return None
