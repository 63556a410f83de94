"""Recurring series: plan (every occurrence checked), book, move or cancel one occurrence or
this and all following."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.diary import Occurrence, recurrence
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.models import Appointment, AppointmentSeries
from frontdesk.services.diary.appointments import (
    BookingRequest,
    ClashNeedsConfirmation,
    _history,
    check_time,
    enforce,
    new_appointment,
)
from frontdesk.services.diary.rows import live_appointment
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


class Scope(StrEnum):
    ONE = "one"
    FOLLOWING = "following"


def plan_series(
    ctx: ServiceContext, req: BookingRequest, *, every_weeks: int = 1, count: int | None = None,
    until: date | None = None,
) -> list[Occurrence]:  # fmt: skip
    """Every occurrence with what it would run into, for the person to accept or adjust."""
    times = recurrence(
        req.starts_at, req.ends_at - req.starts_at, ctx.tz, every_weeks=every_weeks,
        count=count, until=until,
    )  # fmt: skip
    out = []
    with ctx.read() as session:
        for i, (start, end) in enumerate(times):
            check = check_time(session, ctx, req.practitioner_id, req.room_id, start, end)
            out.append(Occurrence(i, start, end, check.problems))
    return out


def book_series(
    ctx: ServiceContext, req: BookingRequest, occurrences: Sequence[tuple[datetime, datetime]],
    *, every_weeks: int = 1, count: int | None = None, until: date | None = None,
    allow_clash: bool = False,
) -> tuple[str, list[str]]:  # fmt: skip
    """Book the accepted occurrences as one series, all or nothing; returns (series, ids)."""
    require(ctx.actor, Action.EDIT_DIARY)
    if not occurrences:
        raise ValidationFailed("The series has no appointments left to book.", field="count")
    with ctx.write("booked a recurring series") as session:
        series = AppointmentSeries(
            every_weeks=every_weeks, occurrences=count, until=until,
            first_starts_at=min(s for s, _ in occurrences),
        )  # fmt: skip
        session.add(series)
        session.flush()
        ids = []
        for index, (start, end) in enumerate(sorted(occurrences)):
            one = replace(req, starts_at=start, ends_at=end)
            try:
                appt = new_appointment(session, ctx, one, allow_clash=allow_clash)
            except ClashNeedsConfirmation:
                raise
            except RuleViolation as exc:
                when = start.astimezone(ctx.tz).strftime("%a %d %b")
                raise RuleViolation(f"{when}: {exc.user_message}") from exc
            appt.series_id, appt.series_index = series.id, index
            ids.append(appt.id)
        return series.id, ids


def _following(session: Session, appt: Appointment, scope: Scope) -> list[Appointment]:
    if scope is Scope.ONE or appt.series_id is None:
        return [appt]
    rows = session.scalars(
        select(Appointment)
        .where(Appointment.series_id == appt.series_id,
               Appointment.starts_at >= appt.starts_at,
               Appointment.status != AppointmentStatus.CANCELLED,
               Appointment.deleted_at.is_(None))
        .order_by(Appointment.starts_at)
    ).all()  # fmt: skip
    return list(rows)


def cancel_series(
    ctx: ServiceContext, appointment_id: str, scope: Scope | str, reason: CancellationReason | str,
    note: str = "",
) -> list[str]:  # fmt: skip
    """Cancel one occurrence or this and all following; returns the ids cancelled."""
    require(ctx.actor, Action.EDIT_DIARY)
    why = CancellationReason(reason)
    with ctx.write("cancelled appointments in a series") as session:
        appt = live_appointment(session, appointment_id)
        done = []
        for one in _following(session, appt, Scope(scope)):
            if one.status == AppointmentStatus.CANCELLED:
                continue
            old = one.status
            one.status, one.cancellation_reason = AppointmentStatus.CANCELLED, why
            one.cancellation_note, one.cancelled_at = note.strip(), ctx.clock.now()
            _history(session, ctx, one, old, AppointmentStatus.CANCELLED, why)
            done.append(one.id)
        return done


def move_series(
    ctx: ServiceContext, appointment_id: str, scope: Scope | str, new_start: datetime,
    *, practitioner_id: str | None = None, allow_clash: bool = False,
) -> list[str]:  # fmt: skip
    """Move one occurrence, or this and all following by the same change of local day and time
    (so a move from Tuesday 9:00 to Wednesday 10:00 moves every later one the same way)."""
    require(ctx.actor, Action.EDIT_DIARY)
    tz = ctx.tz
    with ctx.write("moved appointments in a series") as session:
        appt = live_appointment(session, appointment_id)
        old_local = appt.starts_at.astimezone(tz)
        new_local = new_start.astimezone(tz)
        day_shift = new_local.date() - old_local.date()
        moved = []
        for one in _following(session, appt, Scope(scope)):
            length = one.ends_at - one.starts_at
            day = one.starts_at.astimezone(tz).date() + day_shift
            start = datetime.combine(day, new_local.time().replace(tzinfo=None), tz).astimezone(UTC)
            pid = practitioner_id or one.practitioner_id
            check = check_time(
                session, ctx, pid, one.room_id, start, start + length, ignore_id=one.id
            )
            try:
                enforce(check, allow_clash)
            except ClashNeedsConfirmation:
                raise
            except RuleViolation as exc:
                raise RuleViolation(f"{day:%a %d %b}: {exc.user_message}") from exc
            one.starts_at, one.ends_at, one.practitioner_id = start, start + length, pid
            moved.append(one.id)
        return moved


def series_members(ctx: ServiceContext, series_id: str) -> list[tuple[str, datetime, str]]:
    with ctx.read() as session:
        rows = session.execute(
            select(Appointment.id, Appointment.starts_at, Appointment.status)
            .where(Appointment.series_id == series_id, Appointment.deleted_at.is_(None))
            .order_by(Appointment.starts_at)
        ).all()
    return [(a, s, st) for a, s, st in rows]
