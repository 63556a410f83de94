"""Online booking rules, as the clinic sets them: which appointment types and practitioners
callers and booking pages may book (through the clinic server's integration API), how much
notice a booking needs and how far ahead it may be — per type, optionally tightened per
practitioner — and what the practitioners' calendar feeds show. The rules sync like any
setting; the server applies them (``domain/online_rules.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.online_rules import check_ahead, check_notice
from frontdesk.models import AppointmentType, Practitioner
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import live
from frontdesk.store.context import ServiceContext

ICAL_DETAILS = {"busy": "Busy times only", "initials": "Busy times with the patient's initials"}


@dataclass(frozen=True)
class TypeRules:
    id: str
    name: str
    online_bookable: bool
    notice_minutes: int
    ahead_days: int | None


@dataclass(frozen=True)
class PractitionerRules:
    id: str
    name: str
    online_bookable: bool
    notice_minutes: int | None  # None: the type's notice only
    ahead_days: int | None  # None: the type's reach only


def type_rules(ctx: ServiceContext) -> list[TypeRules]:
    with ctx.read() as session:
        rows = session.scalars(
            select(AppointmentType)
            .where(AppointmentType.deleted_at.is_(None), AppointmentType.archived_at.is_(None))
            .order_by(AppointmentType.profession, AppointmentType.name)
        ).all()
        return [
            TypeRules(t.id, t.name, t.online_bookable, t.online_min_notice_minutes,
                      t.online_max_ahead_days)
            for t in rows
        ]  # fmt: skip


def practitioner_rules(ctx: ServiceContext) -> list[PractitionerRules]:
    with ctx.read() as session:
        rows = session.scalars(
            select(Practitioner)
            .where(Practitioner.deleted_at.is_(None), Practitioner.archived_at.is_(None))
            .order_by(Practitioner.sort_order, Practitioner.display_name)
        ).all()
        return [
            PractitionerRules(p.id, p.display_name, p.online_bookable,
                              p.online_min_notice_minutes, p.online_max_ahead_days)
            for p in rows
        ]  # fmt: skip


def save_type_rules(ctx: ServiceContext, rules: TypeRules) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    notice = check_notice(rules.notice_minutes, optional=False, field="notice")
    ahead = check_ahead(rules.ahead_days, field="ahead")
    with ctx.write("change a type's online booking rules") as session:
        t = live(session, AppointmentType, rules.id, "appointment type")
        t.online_bookable = rules.online_bookable
        t.online_min_notice_minutes = notice or 0
        t.online_max_ahead_days = ahead


def save_practitioner_rules(ctx: ServiceContext, rules: PractitionerRules) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    notice = check_notice(rules.notice_minutes, optional=True, field="notice")
    ahead = check_ahead(rules.ahead_days, field="ahead")
    with ctx.write("change a practitioner's online booking rules") as session:
        p = live(session, Practitioner, rules.id, "practitioner")
        p.online_bookable = rules.online_bookable
        p.online_min_notice_minutes = notice
        p.online_max_ahead_days = ahead


def ical_detail(ctx: ServiceContext) -> str:
    with ctx.read() as session:
        return ctx.settings(session).ical_detail


def save_ical_detail(ctx: ServiceContext, detail: str) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    if detail not in ICAL_DETAILS:
        raise ValidationFailed(
            "A calendar feed shows busy times only, or the patient's initials as well.",
            field="ical_detail",
        )
    with ctx.write("change what the calendar feeds show") as session:
        ctx.settings(session).ical_detail = detail
