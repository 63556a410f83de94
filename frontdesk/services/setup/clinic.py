"""The clinic's own details for set-up (name, ABN, address, time zone, GST, state) and where the
first-run set-up got to, so it can be left and resumed."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from frontdesk.domain.clinic_setup import check_abn, check_name, check_state
from frontdesk.domain.errors import ValidationFailed
from frontdesk.models import Practitioner
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

# the first-run set-up's steps, in order
STEPS = ("clinic", "locations", "practitioners", "hours", "types", "staff", "done")


@dataclass(frozen=True)
class ClinicProfile:
    name: str
    business_number: str
    address: str
    phone: str
    email: str
    time_zone: str
    tax_registered: bool
    state: str


@dataclass(frozen=True)
class SetupProgress:
    step: str  # one of STEPS; "" when the set-up has not been opened
    completed: bool
    has_practitioners: bool

    @property
    def wanted(self) -> bool:
        """Offer the set-up at start: never finished (or skipped) and nobody to book with."""
        return not self.completed and not self.has_practitioners


def load_profile(ctx: ServiceContext) -> ClinicProfile:
    with ctx.read() as session:
        s = ctx.settings(session)
        return ClinicProfile(
            s.name, s.business_number, s.address, s.phone, s.email, s.time_zone,
            s.tax_registered, s.state,
        )  # fmt: skip


def check_time_zone(name: str) -> str:
    zone = name.strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"“{zone}” is not a time zone: choose one such as Australia/Sydney.", field="time_zone"
        ) from None
    return zone


def save_profile(ctx: ServiceContext, profile: ClinicProfile) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name = check_name(profile.name, "clinic", longest=200)
    abn = check_abn(profile.business_number)
    zone = check_time_zone(profile.time_zone)
    state = check_state(profile.state)
    with ctx.write("change the clinic's details") as session:
        s = ctx.settings(session)
        s.name, s.business_number, s.time_zone, s.state = name, abn, zone, state
        s.address, s.phone = profile.address.strip(), profile.phone.strip()
        s.email, s.tax_registered = profile.email.strip(), profile.tax_registered
        if not s.legal_name:
            s.legal_name = name


def progress(ctx: ServiceContext) -> SetupProgress:
    with ctx.read() as session:
        s = ctx.settings(session)
        has = session.scalars(
            select(Practitioner.id).where(Practitioner.deleted_at.is_(None)).limit(1)
        ).first()
        return SetupProgress(s.setup_step, s.setup_completed_at is not None, has is not None)


def reached_step(ctx: ServiceContext, step: str) -> None:
    """Remember the step the set-up is on, so closing it and coming back resumes there."""
    if step not in STEPS:
        raise ValueError(f"unknown set-up step {step!r}")
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("continue setting up the clinic") as session:
        ctx.settings(session).setup_step = step


def finish(ctx: ServiceContext, *, skipped: bool = False) -> None:
    """The set-up is done (or skipped): it is no longer offered at start, only from Settings."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write(
        "skip setting up the clinic" if skipped else "finish setting up the clinic"
    ) as s:
        settings = ctx.settings(s)
        settings.setup_completed_at = ctx.clock.now()
        if not skipped:
            settings.setup_step = "done"
