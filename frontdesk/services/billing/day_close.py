"""End-of-day reconciliation: a desk's takings by payment method for a business day, what was
counted, the variance and a note; then the day is closed. Reopening needs an admin and is
audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.vocab import PaymentKind, PaymentMethod
from frontdesk.models import DayClose, DayCloseCount, Payment
from frontdesk.services.billing.common import open_day_close
from frontdesk.services.billing.payments import MONEY_METHODS
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracking import record_event


@dataclass(frozen=True)
class Takings:
    day: date
    device_id: str
    by_method: dict[PaymentMethod, int]  # net: payments − refunds, reversals cancelling
    entries: int
    closed_at: datetime | None = None
    counted: dict[PaymentMethod, int] = field(default_factory=dict)
    note: str = ""

    @property
    def expected_cents(self) -> int:
        return sum(self.by_method.values())

    @property
    def counted_cents(self) -> int:
        return sum(self.counted.values())

    @property
    def variance_cents(self) -> int:
        return self.counted_cents - self.expected_cents


def _net_by_method(
    session: Session, device_id: str, day: date
) -> tuple[dict[PaymentMethod, int], int]:
    target = aliased(Payment)
    rows = session.execute(
        select(
            Payment.kind, target.kind, Payment.method, func.sum(Payment.amount_cents), func.count()
        )
        .outerjoin(target, target.id == Payment.reverses_payment_id)
        .where(
            Payment.device_id == device_id,
            Payment.business_date == day,
            Payment.deleted_at.is_(None),
        )
        .group_by(Payment.kind, target.kind, Payment.method)
    ).all()
    out: dict[PaymentMethod, int] = dict.fromkeys(MONEY_METHODS, 0)
    count = 0
    for kind, target_kind, method, amount, n in rows:
        sign = 1 if kind == PaymentKind.PAYMENT else -1
        if kind == PaymentKind.REVERSAL and target_kind == PaymentKind.REFUND:
            sign = 1
        m = PaymentMethod(method)
        out[m] = out.get(m, 0) + sign * int(amount)
        count += int(n)
    return out, count


def takings(ctx: ServiceContext, day: date, device_id: str | None = None) -> Takings:
    """The net money a desk took on a business day, by method, and its close if any."""
    device = device_id or ctx.device_id
    with ctx.read() as session:
        by_method, count = _net_by_method(session, device, day)
        close = open_day_close(session, device, day)
        if close is None:
            return Takings(day, device, by_method, count)
        counted = {
            PaymentMethod(c.method): c.counted_cents
            for c in session.scalars(
                select(DayCloseCount).where(
                    DayCloseCount.day_close_id == close.id, DayCloseCount.deleted_at.is_(None)
                )
            )
        }
        return Takings(day, device, by_method, count, close.closed_at, counted, close.note)


def close_day(
    ctx: ServiceContext,
    day: date,
    counted: Mapping[PaymentMethod, int] | Mapping[str, int],
    note: str = "",
) -> str:
    """Record what was counted per method against the takings and close the day."""
    require(ctx.actor, Action.CLOSE_DAY)
    counts = {PaymentMethod(k): v for k, v in counted.items()}
    if any(v < 0 for v in counts.values()):
        raise ValidationFailed("A counted amount cannot be negative.", field="counted")
    with ctx.write("close the day") as session:
        if open_day_close(session, ctx.device_id, day) is not None:
            raise RuleViolation(f"The takings for {day:%d/%m/%Y} are already closed.")
        expected, _n = _net_by_method(session, ctx.device_id, day)
        for m in counts:
            expected.setdefault(m, 0)
        counts = {m: counts.get(m, 0) for m in expected}
        variance = sum(counts.values()) - sum(expected.values())
        if variance and not note.strip():
            raise ValidationFailed(
                "The count differs from the takings: add a note saying why.", field="note"
            )
        close = session.scalars(
            select(DayClose).where(
                DayClose.device_id == ctx.device_id,
                DayClose.business_date == day,
                DayClose.deleted_at.is_(None),
            )
        ).first()
        if close is None:
            close = DayClose(device_id=ctx.device_id, business_date=day)
            session.add(close)
        else:  # closed before, then reopened: the old counts stay in history as tombstones
            for old in session.scalars(
                select(DayCloseCount).where(
                    DayCloseCount.day_close_id == close.id, DayCloseCount.deleted_at.is_(None)
                )
            ):
                old.deleted_at = ctx.clock.now()
            close.reopened_at = None
            close.reopened_by_id = None
        close.closed_at, close.closed_by_id = ctx.clock.now(), ctx.actor.staff_user_id
        close.expected_cents = sum(expected.values())
        close.counted_cents = sum(counts.values())
        close.variance_cents, close.note = variance, note.strip()
        session.flush()
        for m, exp in expected.items():
            session.add(
                DayCloseCount(
                    day_close_id=close.id, method=m, expected_cents=exp, counted_cents=counts[m]
                )
            )
        return close.id


def reopen_day(ctx: ServiceContext, day: date, reason: str) -> None:
    """Reopen a closed day so its money can be corrected (an admin only; audited)."""
    require(ctx.actor, Action.REOPEN_DAY)
    if not reason.strip():
        raise ValidationFailed("Say why the day is being reopened.", field="reason")
    with ctx.write("reopen a closed day") as session:
        close = open_day_close(session, ctx.device_id, day)
        if close is None:
            raise RuleViolation(f"The takings for {day:%d/%m/%Y} are not closed.")
        close.reopened_at = ctx.clock.now()
        close.reopened_by_id = ctx.actor.staff_user_id
        close.reopen_reason = reason.strip()
        record_event(
            session,
            "reopen a closed day",
            entity="day_closes",
            entity_id=close.id,
            summary=reason.strip(),
        )
