"""Reading and changing the clinic-wide settings."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.domain.clinic_setup import check_abn
from frontdesk.domain.errors import ValidationFailed
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

if TYPE_CHECKING:  # billing is not imported before the diary's first paint
    from frontdesk.services.billing.views import ClinicInfo


@dataclass(frozen=True)
class ClinicDetails:
    name: str
    legal_name: str
    business_number: str
    address: str
    phone: str
    email: str
    time_zone: str
    tax_registered: bool
    tax_rate_bp: int


def load(ctx: ServiceContext) -> ClinicDetails:
    with ctx.read() as session:
        s = ctx.settings(session)
        return ClinicDetails(**{f.name: getattr(s, f.name) for f in fields(ClinicDetails)})


def clinic_name(ctx: ServiceContext) -> str:
    with ctx.read() as session:
        return ctx.settings(session).name


def currency_symbol(ctx: ServiceContext) -> str:
    with ctx.read() as session:
        return ctx.settings(session).currency_symbol


def clinic_info(ctx: ServiceContext) -> ClinicInfo:
    """The clinic's details as printed on documents."""
    from frontdesk.services.billing.views import ClinicInfo

    with ctx.read() as session:
        return ClinicInfo.of(ctx.settings(session))


def update(ctx: ServiceContext, details: ClinicDetails) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    if not details.name.strip():
        raise ValidationFailed("The clinic needs a name.", field="name")
    try:
        ZoneInfo(details.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"“{details.time_zone}” is not a time zone.", field="time_zone"
        ) from None
    if not 0 <= details.tax_rate_bp <= 10_000:
        raise ValidationFailed("The GST rate must be between 0 and 100 %.", field="tax_rate_bp")
    details = replace(details, business_number=check_abn(details.business_number))
    with ctx.write("change clinic settings") as session:
        s = ctx.settings(session)
        for f in fields(ClinicDetails):
            value = getattr(details, f.name)
            setattr(s, f.name, value.strip() if isinstance(value, str) else value)
