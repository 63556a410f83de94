"""Rosters, leave and closures, appointment types: every rule, nothing saved half-way, and the
bookings a change strands are listed before it is saved."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.domain.errors import ValidationFailed
from frontdesk.models import AppointmentType, CatalogueFunderPrice, Funder, Leave, RosterEntry
from frontdesk.services.diary import view as diary_view
from frontdesk.services.setup import appointment_types as types
from frontdesk.services.setup import clinic as clinic_setup
from frontdesk.services.setup import leave, locations, practitioners, rosters
from frontdesk.services.setup.common import AppointmentsAffected
from frontdesk.store.context import ServiceContext
from tests.services.setup.conftest import NEXT_MONDAY, SYDNEY, Clinic, weekdays


def _live_rows(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.deleted_at.is_(None)))


# -- rosters ----------------------------------------------------------------------------------
def test_roster_reads_back_as_typed(clinic: Clinic) -> None:
    plan = rosters.roster_for(clinic.ctx, clinic.physio, NEXT_MONDAY)
    assert (plan.every_weeks, plan.effective_from) == (1, NEXT_MONDAY)
    assert plan.blocks == weekdays()


def test_bad_rosters_save_nothing(clinic: Clinic) -> None:
    ctx = clinic.ctx
    before = _live_rows(ctx, RosterEntry)
    overlapping = (RosterBlock(0, 540, 780), RosterBlock(0, 720, 1020))
    break_outside = (RosterBlock(0, 540, 780), RosterBlock(0, 800, 830, is_break=True))
    wednesday = NEXT_MONDAY + timedelta(days=2)
    for plan, field, says in (
        (rosters.RosterPlan(1, NEXT_MONDAY, overlapping), "roster.1", "overlaps"),
        (rosters.RosterPlan(1, NEXT_MONDAY, break_outside), "roster.1", "outside the hours"),
        (rosters.RosterPlan(2, wednesday, weekdays()), "effective_from", "starts on a Monday"),
    ):
        with pytest.raises(ValidationFailed, match=says) as caught:
            rosters.save_roster(ctx, clinic.physio, plan)
        assert caught.value.field == field
    south = locations.add_location(ctx, locations.LocationEntry("South"))
    wrong_room = (RosterBlock(0, 540, 780, location_id=south, room_id=clinic.room1),)
    with pytest.raises(ValidationFailed, match="Room 1 is not at South") as caught:
        rosters.save_roster(ctx, clinic.physio, rosters.RosterPlan(1, NEXT_MONDAY, wrong_room))
    assert caught.value.field == "roster.0"
    assert _live_rows(ctx, RosterEntry) == before
    assert rosters.roster_for(ctx, clinic.physio, NEXT_MONDAY).blocks == weekdays()


def test_a_change_that_strands_bookings_lists_them_before_saving(clinic: Clinic) -> None:
    ctx = clinic.ctx
    late = clinic.book(NEXT_MONDAY, 16)  # 16:00-16:30
    lunch = clinic.book(NEXT_MONDAY + timedelta(days=1), 12, 15)  # Tue 12:15
    clinic.book(NEXT_MONDAY + timedelta(days=2), 10)  # Wed 10:00, still inside
    shorter = (
        *(RosterBlock(d, 540, 900) for d in range(5)),
        RosterBlock(1, 720, 780, is_break=True, label="Lunch"),
    )
    plan = rosters.RosterPlan(1, NEXT_MONDAY, shorter)
    with pytest.raises(AppointmentsAffected, match="2 booked appointments") as listed:
        rosters.save_roster(ctx, clinic.physio, plan)
    assert [a.id for a in listed.value.appointments] == [late, lunch]
    assert rosters.roster_for(ctx, clinic.physio, NEXT_MONDAY).blocks == weekdays()
    rosters.save_roster(ctx, clinic.physio, plan, confirm=True)
    assert rosters.roster_for(ctx, clinic.physio, NEXT_MONDAY).blocks[1] == shorter[1]


def test_a_change_from_a_date_keeps_the_old_hours_before_it(clinic: Clinic) -> None:
    ctx = clinic.ctx
    later = NEXT_MONDAY + timedelta(weeks=2)
    fortnight = (RosterBlock(0, 480, 720), RosterBlock(0, 480, 720, week=1),
                 RosterBlock(3, 600, 1080, week=1))  # fmt: skip
    rosters.save_roster(ctx, clinic.physio, rosters.RosterPlan(2, later, fortnight))
    assert rosters.roster_for(ctx, clinic.physio, NEXT_MONDAY).blocks == weekdays()
    new = rosters.roster_for(ctx, clinic.physio, later + timedelta(days=3))
    assert (new.every_weeks, new.effective_from, new.blocks) == (2, later, fortnight)
    # the diary's availability follows: Thursday of week 1 only
    with ctx.read() as s:
        rules = diary_view.roster_rules(s, [clinic.physio])[clinic.physio]
    thursdays = [later + timedelta(days=3 + 7 * n) for n in range(3)]
    worked = [any(r.applies_on(d) for r in rules) for d in thursdays]
    assert worked == [False, True, False]
    assert any(r.applies_on(NEXT_MONDAY + timedelta(days=3)) for r in rules)  # old roster


# -- leave and closures -----------------------------------------------------------------------
def test_leave_over_bookings_lists_them_then_shows_in_the_diary(clinic: Clinic) -> None:
    ctx = clinic.ctx
    booked = clinic.book(NEXT_MONDAY + timedelta(days=1), 10)
    start, end = leave.whole_days(
        ctx, NEXT_MONDAY + timedelta(days=1), NEXT_MONDAY + timedelta(days=2)
    )
    entry = leave.LeaveEntry(start, end, practitioner_id=clinic.physio, reason="Conference")
    with pytest.raises(AppointmentsAffected) as listed:
        leave.add_leave(ctx, entry)
    assert [a.id for a in listed.value.appointments] == [booked]
    assert _live_rows(ctx, Leave) == 0
    leave_id = leave.add_leave(ctx, entry, confirm=True)
    assert [(r.who, r.reason) for r in leave.list_leave(ctx, start)] == [
        ("Priya Shah", "Conference")
    ]
    with ctx.read() as s:
        blocks = diary_view.leave_blocks(s, [clinic.physio], start, end)[clinic.physio]
    assert [b.ref_id for b in blocks] == [leave_id]
    leave.remove_leave(ctx, leave_id)
    assert leave.list_leave(ctx, start) == []


def test_leave_rules(clinic: Clinic) -> None:
    ctx = clinic.ctx
    t = datetime.combine(NEXT_MONDAY, time(9), SYDNEY)
    with pytest.raises(ValidationFailed, match="end after it starts") as c:
        leave.add_leave(ctx, leave.LeaveEntry(t, t, practitioner_id=clinic.physio))
    assert c.value.field == "ends_at"
    with pytest.raises(ValidationFailed, match="not several") as c:
        leave.add_leave(
            ctx,
            leave.LeaveEntry(
                t, t + timedelta(hours=1), practitioner_id=clinic.physio, room_id=clinic.gym
            ),
        )
    assert c.value.field == "who"
    with pytest.raises(ValidationFailed, match="on or after the first") as c:
        leave.whole_days(ctx, NEXT_MONDAY, NEXT_MONDAY - timedelta(days=1))
    assert _live_rows(ctx, Leave) == 0


def test_room_and_location_closures(clinic: Clinic) -> None:
    ctx = clinic.ctx
    in_gym = clinic.book(NEXT_MONDAY, 10, room_id=clinic.gym)
    clinic.book(NEXT_MONDAY, 11, room_id=clinic.room1)
    start, end = leave.whole_days(ctx, NEXT_MONDAY, NEXT_MONDAY)
    with pytest.raises(AppointmentsAffected) as listed:
        leave.add_leave(ctx, leave.LeaveEntry(start, end, room_id=clinic.gym, reason="Painting"))
    assert [a.id for a in listed.value.appointments] == [in_gym]
    with pytest.raises(AppointmentsAffected) as listed:
        leave.add_leave(ctx, leave.LeaveEntry(start, end, location_id=clinic.north))
    assert len(listed.value.appointments) == 2
    leave.add_leave(ctx, leave.LeaveEntry(start, end, location_id=clinic.north), confirm=True)
    with ctx.read() as s:
        assert len(diary_view.leave_blocks(s, [clinic.physio], start, end)[clinic.physio]) == 1


def test_public_holidays_of_the_clinics_state(clinic: Clinic) -> None:
    ctx = clinic.ctx
    profile = clinic_setup.load_profile(ctx)
    clinic_setup.save_profile(
        ctx, clinic_setup.ClinicProfile(**{**profile.__dict__, "state": "NSW"})
    )
    offers = leave.public_holidays(ctx, 2027)
    names = {h.day: h.name for h in offers}
    assert names[date(2027, 1, 26)] == "Australia Day"
    assert names[date(2027, 10, 4)] == "Labor Day"  # in NSW on the first Monday of October
    assert date(2027, 3, 8) not in names  # Labour Day in Victoria, not NSW
    chosen = [h for h in offers if h.day in (date(2027, 1, 1), date(2027, 1, 26))]
    assert len(leave.close_for_holidays(ctx, chosen)) == 2
    again = {h.day: h.added for h in leave.public_holidays(ctx, 2027)}
    assert again[date(2027, 1, 26)] and not again[date(2027, 4, 26)]
    assert leave.close_for_holidays(ctx, [h for h in leave.public_holidays(ctx, 2027)
                                          if h.day == date(2027, 1, 26)]) == []  # fmt: skip
    rows = leave.list_leave(ctx, datetime(2027, 1, 1, tzinfo=SYDNEY) - timedelta(days=1))
    assert [(r.who, r.reason) for r in rows] == [
        ("Whole clinic", "Public holiday: New Year's Day"),
        ("Whole clinic", "Public holiday: Australia Day"),
    ]
    # every practitioner's diary shows the closure
    start = datetime(2027, 1, 26, tzinfo=SYDNEY)
    with ctx.read() as s:
        blocks = diary_view.leave_blocks(s, [clinic.physio], start, start + timedelta(days=1))
    assert [b.label for b in blocks[clinic.physio]] == ["Public holiday: Australia Day"]


def test_a_holiday_over_bookings_lists_them(clinic: Clinic) -> None:
    ctx = clinic.ctx
    profile = clinic_setup.load_profile(ctx)
    clinic_setup.save_profile(
        ctx, clinic_setup.ClinicProfile(**{**profile.__dict__, "state": "NSW"})
    )
    booked = clinic.book(date(2026, 12, 28), 10)  # Boxing Day observed in NSW, 2026
    offers = [h for h in leave.public_holidays(ctx, 2026) if h.day == date(2026, 12, 28)]
    assert offers
    with pytest.raises(AppointmentsAffected) as listed:
        leave.close_for_holidays(ctx, offers)
    assert [a.id for a in listed.value.appointments] == [booked]
    assert _live_rows(ctx, Leave) == 0


# -- appointment types ------------------------------------------------------------------------
def test_type_rules_save_nothing(clinic: Clinic) -> None:
    ctx = clinic.ctx
    gone = practitioners.add_practitioner(
        ctx, practitioners.PractitionerEntry("Old", "Timer", "Physiotherapy")
    )
    practitioners.archive_practitioner(ctx, gone)
    for entry, field, says in (
        (types.TypeEntry("Standard", 0), "duration", "at least 5 minutes"),
        (types.TypeEntry(" ", 30), "name", "Give the appointment type a name"),
        (types.TypeEntry("Class", 60, capacity=0), "capacity", "at least one"),
        (types.TypeEntry("Standard", 30, price_cents=-1), "price", "negative"),
        (types.TypeEntry("Standard", 30, practitioner_ids=(clinic.physio, gone)),
         "practitioners", "Old Timer is archived"),
    ):  # fmt: skip
        with pytest.raises(ValidationFailed, match=says) as caught:
            types.add_type(ctx, entry)
        assert caught.value.field == field
    assert _live_rows(ctx, AppointmentType) == 0


def test_types_offered_by_profession_or_by_name_with_prices(clinic: Clinic) -> None:
    ctx = clinic.ctx
    chiro = practitioners.add_practitioner(
        ctx, practitioners.PractitionerEntry("Cal", "Chen", "Chiropractic")
    )
    with ctx.write("add a fund") as s:
        s.add(fund := Funder(kind="health_fund", name="Bupa"))
        s.flush()
        fund_id = fund.id
    physio_std = types.add_type(ctx, types.TypeEntry(
        "Physio standard", 30, profession="Physiotherapy", price_cents=9500,
        online_bookable=True,
        funder_prices=(types.FunderPrice(fund_id, "505", 9000),),
    ))  # fmt: skip
    chiro_only = types.add_type(
        ctx, types.TypeEntry("Adjustment", 15, practitioner_ids=(chiro,), price_cents=6000)
    )
    everyone = types.add_type(ctx, types.TypeEntry("Phone call", 10))
    assert types.type_ids_for(ctx, clinic.physio) == {physio_std, everyone}
    assert types.type_ids_for(ctx, chiro) == {chiro_only, everyone}
    rows = {r.name: r for r in types.list_types(ctx)}
    assert rows["Physio standard"].price_cents == 9500 and rows["Physio standard"].online_bookable
    assert rows["Adjustment"].offered_by == "Cal Chen"
    assert rows["Phone call"].price_cents is None and rows["Phone call"].offered_by == "Everyone"
    assert types.funder_prices(ctx, physio_std) == (types.FunderPrice(fund_id, "505", 9000),)
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(CatalogueFunderPrice)) == 1
    # changing the price changes the service; archiving hides the type from the booking dialog
    service = rows["Physio standard"].service_id
    changed = types.TypeEntry("Physio standard", 45, profession="Physiotherapy",
                              service_id=service, price_cents=11000)  # fmt: skip
    types.update_type(ctx, physio_std, changed)
    assert {r.name: r.price_cents for r in types.list_types(ctx)}["Physio standard"] == 11000
    types.archive_type(ctx, everyone)
    assert types.type_ids_for(ctx, clinic.physio) == {physio_std}
