"""Clinic details, locations, rooms and practitioners: rules refuse bad input and save nothing;
good input is audited and queued for sync like any other change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from frontdesk.domain.errors import NotFound, PermissionDenied, ValidationFailed
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import OverlapPolicy, Role
from frontdesk.models import AuditEvent, Practitioner, ProviderNumber, StaffUser, SyncOutbox
from frontdesk.services import clinic_settings, staff
from frontdesk.services.setup import clinic as clinic_setup
from frontdesk.services.setup import locations, practitioners
from frontdesk.services.setup.common import AppointmentsAffected
from frontdesk.store.context import Actor, ServiceContext
from tests.services.setup.conftest import NEXT_MONDAY, Clinic

P = practitioners.PractitionerEntry


def _count(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.deleted_at.is_(None)))


def test_clinic_profile_checks_the_abn_and_saves_nothing_when_wrong(owner: ServiceContext) -> None:
    good = clinic_setup.ClinicProfile(
        "Harbour Physio", "51824753556", "1 Main St, Manly NSW 2095", "02 9000 0000",
        "hello@harbour.example", "Australia/Sydney", True, "NSW",
    )  # fmt: skip
    clinic_setup.save_profile(owner, good)
    assert clinic_setup.load_profile(owner).business_number == "51 824 753 556"
    for bad, field in (
        ({"business_number": "51824753557"}, "business_number"),
        ({"name": "  "}, "name"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"state": "XYZ"}, "state"),
    ):
        changed = clinic_setup.ClinicProfile(**{**good.__dict__, "address": "elsewhere", **bad})
        with pytest.raises(ValidationFailed) as caught:
            clinic_setup.save_profile(owner, changed)
        assert caught.value.field == field
    assert clinic_setup.load_profile(owner).address == "1 Main St, Manly NSW 2095"


def test_the_settings_screen_uses_the_same_abn_check(owner: ServiceContext) -> None:
    details = clinic_settings.load(owner)
    with pytest.raises(ValidationFailed, match="not a valid ABN"):
        clinic_settings.update(owner, clinic_settings.ClinicDetails(
            **{**details.__dict__, "business_number": "12 345 678 901"}))  # fmt: skip
    clinic_settings.update(owner, clinic_settings.ClinicDetails(
        **{**details.__dict__, "business_number": "53004085616"}))  # fmt: skip
    assert clinic_settings.load(owner).business_number == "53 004 085 616"


def test_setup_progress_resumes_and_finishes(owner: ServiceContext) -> None:
    assert clinic_setup.progress(owner).wanted
    clinic_setup.reached_step(owner, "practitioners")
    assert clinic_setup.progress(owner).step == "practitioners"
    clinic_setup.finish(owner, skipped=True)
    done = clinic_setup.progress(owner)
    assert done.completed and not done.wanted and done.step == "practitioners"


def test_reception_cannot_set_the_clinic_up(owner: ServiceContext) -> None:
    owner.actor = Actor("x", "Rae", Role.RECEPTION)
    with pytest.raises(PermissionDenied):
        locations.add_location(owner, locations.LocationEntry("North"))


def test_locations_and_rooms(clinic: Clinic) -> None:
    ctx = clinic.ctx
    with pytest.raises(ValidationFailed, match="already a location called North") as c:
        locations.add_location(ctx, locations.LocationEntry(" north "))
    assert c.value.field == "name"
    with pytest.raises(ValidationFailed, match="already a room called Room 1"):
        locations.add_room(ctx, locations.RoomEntry("room 1", clinic.north))
    with pytest.raises(ValidationFailed, match="Choose the location") as c:
        locations.add_room(ctx, locations.RoomEntry("Room 9", ""))
    assert c.value.field == "location"
    rows = locations.list_rooms(ctx)
    assert [(r.name, r.location_name, r.suits, r.bookable) for r in rows] == [
        ("Gym", "North", "classes, rehab", True), ("Room 1", "North", "", True),
    ]  # fmt: skip
    assert [(loc.name, loc.rooms) for loc in locations.list_locations(ctx)] == [("North", 2)]
    with pytest.raises(Exception, match="still has rooms"):
        locations.archive_location(ctx, clinic.north)


def test_a_room_with_bookings_cannot_move_to_another_location(clinic: Clinic) -> None:
    ctx = clinic.ctx
    south = locations.add_location(ctx, locations.LocationEntry("South"))
    clinic.book(NEXT_MONDAY, 10, room_id=clinic.room1)
    with pytest.raises(ValidationFailed, match="two locations") as c:
        locations.update_room(ctx, clinic.room1, locations.RoomEntry("Room 1", south))
    assert c.value.field == "location"
    assert {r.name: r.location_name for r in locations.list_rooms(ctx)}["Room 1"] == "North"
    locations.update_room(ctx, clinic.gym, locations.RoomEntry("Gym", south, bookable=False))
    assert {r.name: r.location_name for r in locations.list_rooms(ctx)}["Gym"] == "South"
    with pytest.raises(AppointmentsAffected) as listed:
        locations.archive_room(ctx, clinic.room1)
    assert len(listed.value.appointments) == 1
    locations.archive_room(ctx, clinic.room1, confirm=True)
    assert "Room 1" not in {r.name for r in locations.list_rooms(ctx)}


def test_practitioner_with_numbers_room_and_staff_link_is_audited_and_synced(
    clinic: Clinic,
) -> None:
    ctx = clinic.ctx
    user = staff.create_staff(
        ctx, staff.NewStaff("sam", "Sam Lee", Role.PRACTICE_MANAGER, "pass word 1")
    )
    entry = P(
        "Sam", "Lee", "Chiropractic", title="Dr", colour="#AA3366",
        overlap_policy=OverlapPolicy.BLOCK, default_room_id=clinic.gym, staff_user_id=user,
        provider_numbers=(practitioners.ProviderNumberEntry("2428841A"),),
    )  # fmt: skip
    sam = practitioners.add_practitioner(ctx, entry)
    loaded = practitioners.load_practitioner(ctx, sam)
    assert loaded.default_location_id == clinic.north  # taken from the room
    assert loaded.colour == "#aa3366" and loaded.staff_user_id == user
    assert [n.number for n in loaded.provider_numbers] == ["2428841A"]
    row = {r.id: r for r in practitioners.list_practitioners(ctx)}[sam]
    assert (row.display_name, row.location_name, row.staff_name) == (
        "Dr Sam Lee",
        "North",
        "Sam Lee",
    )
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox).where(
            SyncOutbox.entity == "practitioners", SyncOutbox.row_id == sam)) == 1  # fmt: skip
        assert s.scalar(select(func.count()).select_from(SyncOutbox).where(
            SyncOutbox.entity == "provider_numbers")) == 1  # fmt: skip
        audit = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == sam)).all()
        assert audit == ["add a practitioner"]
        assert s.get(StaffUser, user).practitioner_id == sam
    # numbers removed are tombstoned, the staff link moves
    practitioners.update_practitioner(ctx, sam, P("Sam", "Lee", "Chiropractic"))
    assert practitioners.load_practitioner(ctx, sam).provider_numbers == ()
    assert _count(ctx, ProviderNumber) == 0
    with ctx.read() as s:
        assert s.get(StaffUser, user).practitioner_id is None
    # an account with the practitioner role stays linked to its practitioner
    pat = staff.create_staff(
        ctx, staff.NewStaff("pat", "Pat Ng", Role.PRACTITIONER, "pass word 2", practitioner_id=sam)
    )
    with pytest.raises(ValidationFailed, match="Pat Ng's account has the practitioner role") as c:
        practitioners.update_practitioner(ctx, sam, P("Sam", "Lee", "Chiropractic"))
    assert c.value.field == "staff"
    with ctx.read() as s:
        assert s.get(StaffUser, pat).practitioner_id == sam


def test_practitioner_rules_save_nothing(clinic: Clinic) -> None:
    ctx = clinic.ctx
    south = locations.add_location(ctx, locations.LocationEntry("South"))
    before = _count(ctx, Practitioner)
    cases = [
        (P("", "Lee", "Physiotherapy"), "first_name", "Give the practitioner a name"),
        (P("Sam", "Lee", " "), "profession", "profession"),
        (P("Sam", "Lee", "Physiotherapy", colour="red"), "colour", "not a colour"),
        (P("Sam", "Lee", "Physiotherapy", default_location_id=south,
           default_room_id=clinic.room1), "room", "Room 1 is not at South"),
        (P("Sam", "Lee", "Physiotherapy", provider_numbers=(
            practitioners.ProviderNumberEntry("1"), practitioners.ProviderNumberEntry("2"))),
         "provider_numbers.1", "two provider numbers"),
    ]  # fmt: skip
    for entry, field, says in cases:
        with pytest.raises(ValidationFailed, match=says) as caught:
            practitioners.add_practitioner(ctx, entry)
        assert caught.value.field == field
    assert _count(ctx, Practitioner) == before
    with pytest.raises(NotFound):
        practitioners.add_practitioner(ctx, P("Sam", "Lee", "Physio", default_room_id=uuid7()))
    assert _count(ctx, Practitioner) == before


def test_archiving_a_practitioner_lists_their_future_appointments(clinic: Clinic) -> None:
    ctx = clinic.ctx
    clinic.book(NEXT_MONDAY, 10)
    clinic.book(NEXT_MONDAY + timedelta(days=1), 11)
    with pytest.raises(AppointmentsAffected, match="2 booked appointments") as listed:
        practitioners.archive_practitioner(ctx, clinic.physio)
    assert [a.practitioner_name for a in listed.value.appointments] == ["Priya Shah"] * 2
    assert [a.patient_name for a in listed.value.appointments] == ["Ana Silva"] * 2
    assert clinic.physio in {r.id for r in practitioners.list_practitioners(ctx)}
    practitioners.archive_practitioner(ctx, clinic.physio, confirm=True)
    assert clinic.physio not in {r.id for r in practitioners.list_practitioners(ctx)}
    practitioners.archive_practitioner(ctx, clinic.physio, archived=False)
    assert clinic.physio in {r.id for r in practitioners.list_practitioners(ctx)}
