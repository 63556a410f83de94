"""Diary services on a real desk database: booking rules, edits, history, series, groups,
waitlist, pinboard, next available, and the one-query view loader."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from diary_clinic import MONDAY, Clinic, make_clinic
from sqlalchemy import func, select

from frontdesk.domain.errors import PermissionDenied, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import Appointment, AppointmentStatusChange, AuditEvent, Leave, SyncOutbox
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest, ClashNeedsConfirmation
from frontdesk.services.diary import groups as diary_groups
from frontdesk.services.diary import series as diary_series
from frontdesk.services.diary.view import load_view
from frontdesk.store.context import Actor, ServiceContext


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


def req(c: Clinic, hh: int, mm: int = 0, minutes: int = 30, **kw: object) -> BookingRequest:
    start = c.at(kw.pop("day", MONDAY), hh, mm)  # type: ignore[arg-type]
    values: dict[str, object] = {
        "practitioner_id": c.anna, "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes), "patient_id": c.pat,
        "appointment_type_id": c.standard,
    }  # fmt: skip
    values.update(kw)
    return BookingRequest(**values)  # type: ignore[arg-type]


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_book_writes_history_audit_and_outbox(clinic: Clinic) -> None:
    ctx = clinic.ctx
    outbox, audit = count(ctx, SyncOutbox), count(ctx, AuditEvent)
    appt_id = diary.book(ctx, req(clinic, 9))
    with ctx.read() as s:
        appt = s.get(Appointment, appt_id)
        assert appt is not None and appt.status == "booked"
        hist = s.scalars(select(AppointmentStatusChange)).all()
        assert [(h.from_status, h.to_status) for h in hist] == [(None, "booked")]
    assert count(ctx, SyncOutbox) > outbox and count(ctx, AuditEvent) > audit


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"day": date(2026, 11, 23)}, "already passed"),
        ({"hh": 7}, "outside"),
        ({"hh": 12, "mm": 15}, "Lunch"),
        ({"minutes": 0}, "end after it starts"),
        ({"minutes": -15}, "end after it starts"),
        ({"day": date(2026, 11, 29)}, "not rostered"),
    ],
)
def test_bad_bookings_explain_and_change_nothing(
    clinic: Clinic, kw: dict[str, object], message: str
) -> None:
    before = count(clinic.ctx, Appointment), count(clinic.ctx, AuditEvent)
    hh = kw.pop("hh", 9)
    mm = kw.pop("mm", 0)
    with pytest.raises((RuleViolation, ValidationFailed), match=message):
        diary.book(clinic.ctx, req(clinic, hh, mm, **kw))  # type: ignore[arg-type]
    assert (count(clinic.ctx, Appointment), count(clinic.ctx, AuditEvent)) == before


def test_booking_over_leave_and_for_archived_patient_refused(clinic: Clinic) -> None:
    ctx = clinic.ctx
    with ctx.write("leave") as s:
        s.add(Leave(practitioner_id=clinic.anna, starts_at=clinic.at(MONDAY, 14),
                    ends_at=clinic.at(MONDAY, 17), reason="Conference"))  # fmt: skip
    with pytest.raises(RuleViolation, match="Conference"):
        diary.book(ctx, req(clinic, 15))
    with ctx.write("archive") as s:
        from frontdesk.models import Patient

        p = s.get(Patient, clinic.pat)
        assert p is not None
        p.archived_at = ctx.clock.now()
    with pytest.raises(RuleViolation, match="archived"):
        diary.book(ctx, req(clinic, 9))
    assert count(ctx, Appointment) == 0


def test_clash_policy_warn_then_allow_and_block(ctx: ServiceContext) -> None:
    c = make_clinic(ctx, policy="warn")
    diary.book(ctx, req(c, 9))
    with pytest.raises(ClashNeedsConfirmation) as info:
        diary.book(ctx, req(c, 9, 15, patient_id=c.other))
    assert info.value.check.warnings
    assert count(ctx, Appointment) == 1
    diary.book(ctx, req(c, 9, 15, patient_id=c.other), allow_clash=True)
    assert count(ctx, Appointment) == 2
    # the room blocks: Ben cannot use Room 1 while Anna's appointment has it
    diary.book(ctx, req(c, 10, room_id=c.room))
    with pytest.raises(RuleViolation, match="room"):
        diary.book(ctx, req(c, 10, practitioner_id=c.ben, room_id=c.room), allow_clash=True)


def test_move_resize_status_cancel_reinstate(clinic: Clinic) -> None:
    ctx = clinic.ctx
    a = diary.book(ctx, req(clinic, 9))
    diary.move(ctx, a, clinic.at(MONDAY, 10), clinic.ben)
    diary.resize(ctx, a, clinic.at(MONDAY, 11))
    with ctx.read() as s:
        appt = s.get(Appointment, a)
        assert appt is not None
        assert (appt.practitioner_id, appt.starts_at, appt.ends_at) == (
            clinic.ben,
            clinic.at(MONDAY, 10),
            clinic.at(MONDAY, 11),
        )
    with pytest.raises(ValidationFailed):
        diary.resize(ctx, a, clinic.at(MONDAY, 10))
    with pytest.raises(RuleViolation, match="later day"):
        diary.set_status(ctx, a, "arrived")
    assert diary.set_status(ctx, a, "did_not_arrive") == "booked"
    diary.cancel(ctx, a, "sick", "flu")
    with pytest.raises(RuleViolation, match="already cancelled"):
        diary.cancel(ctx, a, "sick")
    with pytest.raises(ValidationFailed):
        diary.cancel(ctx, diary.book(ctx, req(clinic, 14)), "bored")
    diary.reinstate(ctx, a)
    with ctx.read() as s:
        appt = s.get(Appointment, a)
        assert appt is not None and appt.status == "did_not_arrive"
        assert appt.cancellation_reason is None
        n = s.scalar(select(func.count()).select_from(AppointmentStatusChange)
                     .where(AppointmentStatusChange.appointment_id == a))  # fmt: skip
        assert n == 4


def test_reception_may_edit_but_unknown_role_may_not(clinic: Clinic) -> None:
    clinic.ctx.actor = Actor(None, "Rita", Role.RECEPTION)
    diary.book(clinic.ctx, req(clinic, 9))
    from frontdesk.services import permissions

    saved = permissions.MATRIX[permissions.Action.EDIT_DIARY]
    permissions.MATRIX[permissions.Action.EDIT_DIARY] = frozenset()
    try:
        with pytest.raises(PermissionDenied):
            diary.book(clinic.ctx, req(clinic, 10))
    finally:
        permissions.MATRIX[permissions.Action.EDIT_DIARY] = saved


def test_series_plan_book_move_and_cancel_following(clinic: Clinic) -> None:
    ctx = clinic.ctx
    diary.book(ctx, req(clinic, 9, day=MONDAY + timedelta(weeks=2), patient_id=clinic.other))
    plan = diary_series.plan_series(ctx, req(clinic, 9), every_weeks=1, count=4)
    assert [bool(o.problems) for o in plan] == [False, False, True, False]
    accepted = [(o.start, o.end) for o in plan if not o.problems]
    series_id, ids = diary_series.book_series(ctx, req(clinic, 9), accepted, count=4)
    assert len(ids) == 3
    moved = diary_series.move_series(ctx, ids[1], "following", clinic.at(MONDAY + timedelta(
        weeks=1, days=1), 10))  # fmt: skip
    assert len(moved) == 2
    members = diary_series.series_members(ctx, series_id)
    assert [s.astimezone(ctx.tz).strftime("%a %H:%M") for _, s, _ in members] == [
        "Mon 09:00", "Tue 10:00", "Tue 10:00"
    ]  # fmt: skip
    cancelled = diary_series.cancel_series(ctx, ids[1], "following", "away")
    assert len(cancelled) == 2
    assert [st for *_, st in diary_series.series_members(ctx, series_id)] == [
        "booked", "cancelled", "cancelled"
    ]  # fmt: skip


def test_series_refused_whole_when_one_occurrence_is_bad(clinic: Clinic) -> None:
    ctx = clinic.ctx
    with ctx.write("leave") as s:
        week2 = MONDAY + timedelta(weeks=1)
        s.add(Leave(practitioner_id=clinic.anna, starts_at=clinic.at(week2, 0),
                    ends_at=clinic.at(week2, 23), reason="Annual leave"))  # fmt: skip
    plan = diary_series.plan_series(ctx, req(clinic, 9), count=3)
    with pytest.raises(RuleViolation, match="Annual leave"):
        diary_series.book_series(ctx, req(clinic, 9), [(o.start, o.end) for o in plan], count=3)
    assert count(ctx, Appointment) == 0


def test_group_capacity_and_waitlist(clinic: Clinic) -> None:
    ctx = clinic.ctx
    cls = diary.book(ctx, req(clinic, 15, minutes=60, appointment_type_id=clinic.group,
                              patient_id=None))  # fmt: skip
    assert diary_groups.add_attendee(ctx, cls, clinic.pat) is False
    with ctx.write("p3") as s:
        from frontdesk.models import Patient

        third = Patient(patient_number="P3", first_name="Thea", last_name="Third")
        s.add(third)
        s.flush()
        third_id = third.id
    assert diary_groups.add_attendee(ctx, cls, clinic.other) is False
    with pytest.raises(RuleViolation, match="full"):
        diary_groups.add_attendee(ctx, cls, third_id)
    assert diary_groups.add_attendee(ctx, cls, third_id, waitlist_if_full=True) is True
    diary_groups.remove_attendee(ctx, cls, clinic.pat)
    people = diary_groups.attendees(ctx, cls)
    assert [(a.name, a.waitlisted) for a in people] == [
        ("Olive Other", False), ("Thea Third", False)
    ]  # fmt: skip


def test_waitlist_offers_matching_slots_and_pinboard(clinic: Clinic) -> None:
    ctx = clinic.ctx
    entry = diary_groups.add_to_waitlist(ctx, clinic.other, practitioner_ids=[clinic.anna],
                                         earliest_minute=8 * 60, latest_minute=11 * 60)  # fmt: skip
    assert [w.id for w in diary_groups.waitlist_for_slot(ctx, clinic.anna, clinic.at(MONDAY, 9))] \
        == [entry]  # fmt: skip
    assert diary_groups.waitlist_for_slot(ctx, clinic.anna, clinic.at(MONDAY, 14)) == []
    assert diary_groups.waitlist_for_slot(ctx, clinic.ben, clinic.at(MONDAY, 9)) == []
    with pytest.raises(ValidationFailed):
        diary_groups.add_to_waitlist(ctx, clinic.pat, urgency=5)
    a = diary.book(ctx, req(clinic, 9))
    diary_groups.resolve_waitlist(ctx, entry, a)
    assert diary_groups.waitlist(ctx) == []
    diary.pin(ctx, a)
    assert [p.id for p in diary_groups.pinboard(ctx)] == [a]
    diary.move(ctx, a, clinic.at(MONDAY + timedelta(days=1), 9))
    assert diary_groups.pinboard(ctx) == []


def test_next_available_honours_bookings_and_time_of_day(clinic: Clinic) -> None:
    ctx = clinic.ctx
    # Friday 27 Nov, 09:00 now: Anna is free from 09:00 (grace excluded, not before now)
    diary.book(ctx, req(clinic, 9, day=date(2026, 11, 27)))
    slots = diary_groups.next_available(ctx, duration_minutes=30, practitioner_ids=[clinic.anna],
                                        limit=3)  # fmt: skip
    assert [s.start.astimezone(ctx.tz).strftime("%a %H:%M") for s in slots] == [
        "Fri 09:30", "Fri 09:45", "Fri 10:00"
    ]  # fmt: skip
    afternoon = diary_groups.next_available(ctx, duration_minutes=60, earliest_minute=16 * 60,
                                            limit=4)  # fmt: skip
    assert {s.start.astimezone(ctx.tz).strftime("%a %H:%M") for s in afternoon} == {
        "Fri 16:00", "Sat 16:00"
    }  # fmt: skip
    with pytest.raises(ValidationFailed):
        diary_groups.next_available(ctx, duration_minutes=0)


def test_load_view_flags_and_availability(clinic: Clinic) -> None:
    ctx = clinic.ctx
    a = diary.book(ctx, req(clinic, 9, notes="Left knee"))
    data = load_view(ctx, [MONDAY], [clinic.anna, clinic.ben])
    assert [p.name for p in data.practitioners] == ["Anna Allen", "Ben Brown"]
    (appt,) = data.appointments
    assert appt.id == a and appt.patient_name == "Pat Patient" and appt.notes == "Left knee"
    assert not appt.invoiced and not appt.alert
    avail = data.availability[(clinic.anna, MONDAY)]
    assert len(avail.work) == 1 and len(avail.breaks) == 1


def test_preview_in_view_sees_rooms_used_by_hidden_practitioners(clinic: Clinic) -> None:
    from frontdesk.domain.diary import ProblemKind
    from frontdesk.services.diary.view import check_in_view

    ctx = clinic.ctx
    diary.book(ctx, req(clinic, 10, practitioner_id=clinic.ben, room_id=clinic.room))
    data = load_view(ctx, [MONDAY], [clinic.anna])
    start = clinic.at(MONDAY, 10)
    check = check_in_view(data, ctx.tz, ctx.clock.now(), clinic.anna, clinic.room, start,
                          start + timedelta(minutes=30))  # fmt: skip
    assert [p.kind for p in check.refusals] == [ProblemKind.ROOM_CLASH]
    free = check_in_view(data, ctx.tz, ctx.clock.now(), clinic.anna, None, start,
                         start + timedelta(minutes=30))  # fmt: skip
    assert free.ok
