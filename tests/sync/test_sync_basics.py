"""Two and three desks around one server: changes travel, clashes and conflicts surface."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.models import Appointment, Patient, SyncState
from frontdesk.paths import DeskPaths
from frontdesk.protocol import Endpoint
from frontdesk.services.desk import open_desk
from frontdesk.sync.status import sync_status
from tests.sync.clinic import START, Clinic, Desk


def test_booking_travels_to_the_other_desk(any_clinic: Clinic) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    pid = a.add_practitioner()
    pat = a.add_patient()
    appt = a.book(pid, pat, START + timedelta(hours=1))
    clinic.settle()
    assert appt in b.ids(Appointment)
    clinic.assert_converged()
    clinic.assert_no_duplicates()


def test_offline_overlapping_bookings_are_both_kept_and_flagged(any_clinic: Clinic) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    pid = a.add_practitioner()
    clinic.settle()
    a.plain.online = b.plain.online = False
    x = a.book(pid, None, START + timedelta(hours=2))
    y = b.book(pid, None, START + timedelta(hours=2, minutes=15))
    clinic.settle()
    for desk in (a, b):
        with desk.ctx.read() as s:
            flagged = {r.id: r.clash_flagged for r in s.query(Appointment)}
        assert flagged[x] and flagged[y]
        clashes = [c for c in desk.open_conflicts() if c.kind == "clash"]
        assert len(clashes) == 1
        assert {clashes[0].row_id, clashes[0].other_row_id} == {x, y}
    clinic.assert_converged()


def test_sensitive_field_changed_on_two_desks_becomes_a_conflict(any_clinic: Clinic) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    pat = a.add_patient("Jo", "Smith")
    clinic.settle()
    a.edit_patient(pat, last_name="Smyth", mobile_phone="0400 000 001")
    b.edit_patient(pat, last_name="Smithe", email="jo@example.org")
    clinic.settle()
    with a.ctx.read() as s:
        p = s.get(Patient, pat)
        assert p is not None
        assert p.last_name == "Smyth"  # the first arrival stays until a person chooses
        assert p.mobile_phone == "0400 000 001" and p.email == "jo@example.org"
    conflicts = b.open_conflicts()
    assert [(c.kind, c.field) for c in conflicts] == [("field", "last_name")]
    assert conflicts[0].local_value_json == '"Smithe"'
    assert conflicts[0].remote_value_json == '"Smyth"'
    clinic.assert_converged()


def test_desks_end_up_with_one_clinic_settings_row(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    clinic.settle()
    for desk in (a, b):
        with desk.ctx.read() as s:
            from sqlalchemy import func, select

            from frontdesk.models import ClinicSettings

            live = s.scalar(
                select(func.count())
                .select_from(ClinicSettings)
                .where(ClinicSettings.deleted_at.is_(None))
            )
        assert live == 1
    clinic.assert_converged()


def test_resolving_a_clash_on_one_desk_resolves_it_everywhere(clinic: Clinic) -> None:
    from frontdesk.sync import conflicts

    a, b = clinic.add_desk(), clinic.add_desk()
    pid = a.add_practitioner()
    clinic.settle()
    a.plain.online = b.plain.online = False
    x = a.book(pid, None, START + timedelta(hours=2))
    y = b.book(pid, None, START + timedelta(hours=2, minutes=15))
    clinic.settle()
    (clash,) = conflicts.list_open(a.ctx)
    new_start = conflicts.suggest_free_start(a.ctx, y)
    assert new_start is not None
    conflicts.resolve_clash_by_moving(a.ctx, clash.id, y, new_start)
    clinic.settle()
    assert conflicts.list_open(b.ctx) == []
    with b.ctx.read() as s:
        moved = s.get(Appointment, y)
        kept = s.get(Appointment, x)
        assert moved is not None and kept is not None
        assert moved.starts_at == new_start
        assert not moved.clash_flagged and not kept.clash_flagged
    clinic.assert_converged()


def test_many_offline_bookings_in_one_push_flag_exactly_the_overlapping_pairs(
    clinic: Clinic,
) -> None:
    """The server checks a whole pushed chunk of bookings for clashes at once."""
    a, b = clinic.add_desk(), clinic.add_desk()
    pid, other = a.add_practitioner(), a.add_practitioner("Kim")
    clinic.settle()
    a.plain.online = b.plain.online = False
    long_one = a.book(pid, None, START + timedelta(hours=1), minutes=240)  # 1:00 to 5:00
    mine = [a.book(pid, None, START + timedelta(hours=h)) for h in (7, 9)]
    elsewhere = a.book(other, None, START + timedelta(hours=7))
    late = b.book(pid, None, START + timedelta(hours=4, minutes=45))  # inside the long one
    theirs = [b.book(pid, None, START + timedelta(hours=h, minutes=15)) for h in (7, 11)]
    cancelled = b.book(pid, None, START + timedelta(hours=9, minutes=10))
    b.cancel(cancelled)
    clinic.settle()
    pairs = {frozenset((long_one, late)), frozenset((mine[0], theirs[0]))}
    for desk in (a, b):
        clashes = [c for c in desk.open_conflicts() if c.kind == "clash"]
        assert {frozenset((c.row_id, c.other_row_id)) for c in clashes} == pairs
        with desk.ctx.read() as s:
            flagged = {r.id for r in s.query(Appointment) if r.clash_flagged}
        assert flagged == {long_one, late, mine[0], theirs[0]}
        assert elsewhere not in flagged and mine[1] not in flagged
    clinic.assert_converged()


def _count_writes(desk: Desk) -> list[str]:
    writes: list[str] = []
    real_write = desk.ctx.write

    def counting_write(action: str = "", **kw):  # type: ignore[no-untyped-def]
        writes.append(action)
        return real_write(action, **kw)

    desk.ctx.write = counting_write  # type: ignore[method-assign]
    return writes


def _file_status(desk: Desk) -> tuple[datetime | None, str | None]:
    with desk.ctx.read() as s:
        state = s.get(SyncState, 1)
        assert state is not None
        return state.last_sync_at, state.last_error


def test_a_sync_with_nothing_to_do_writes_nothing(clinic: Clinic) -> None:
    """Flat in the desk's size: no pull transaction when nothing arrived, and no status write
    within a minute of the last one (the status shows the newest time all the same)."""
    a, b = clinic.add_desk(), clinic.add_desk()
    a.add_patient()
    clinic.settle()
    writes = _count_writes(b)
    sent: list[str] = []
    real_send = b.plain.send

    def counting_send(method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        sent.append(f"{method} {path}")
        return real_send(method, path, **kw)

    b.plain.send = counting_send  # type: ignore[method-assign]
    b.clock.advance(timedelta(seconds=59))
    assert b.sync()
    assert writes == []
    assert sent == [f"GET {Endpoint.PULL}"]  # one request: the pull
    assert sync_status(b.ctx).last_sync_at == b.clock.now()
    assert _file_status(b)[0] == b.clock.now() - timedelta(seconds=59)  # kept, not written
    a.add_patient()
    assert a.sync() and b.sync()
    assert "sync pull" in writes  # something arrived: applied in its own transaction
    clinic.assert_converged()


def test_the_status_is_written_again_after_a_minute_or_a_problem(clinic: Clinic) -> None:
    a = clinic.add_desk()
    assert a.sync()
    writes = _count_writes(a)
    a.clock.advance(timedelta(seconds=60))
    assert a.sync()
    assert writes == ["sync status"]
    assert _file_status(a) == (a.clock.now(), None)
    # a sync that failed is written at once, and so is the next one that went well
    a.plain.online = False
    a.clock.advance(timedelta(seconds=5))
    assert not a.sync()
    written, problem = _file_status(a)
    assert written == a.clock.now() - timedelta(seconds=5) and problem
    assert sync_status(a.ctx).last_error == problem
    a.plain.online = True
    a.clock.advance(timedelta(seconds=5))
    assert a.sync()
    assert writes == ["sync status"] * 3
    assert _file_status(a) == (a.clock.now(), None)
    # a clock set back is not trusted to say the file is recent: written
    a.clock.advance(timedelta(seconds=-30))
    assert a.sync()
    assert writes[-1] == "sync status" and len(writes) == 4
    # a desk started again shows the time in its file
    fresh = open_desk(DeskPaths(a.ctx.data_dir or Path()), clock=a.clock)
    assert sync_status(fresh).last_sync_at == a.clock.now()
    fresh.engine.dispose()


@pytest.mark.parametrize("owner", [True, False], ids=["owner-with-key", "accounts-before-keys"])
def test_a_new_desk_joining_a_clinic_keeps_its_blank_settings_back(
    clinic: Clinic, owner: bool
) -> None:
    """A new desk's blank settings ("My clinic", made before anyone could sign in) are not
    sent when the clinic already has its own: nothing is refused (the desk showed "1 refused
    by the server"), and a server whose accounts have no keys yet (a demo clinic) does not
    take an unsigned row that desks holding keys then leave out of every sync."""
    from sqlalchemy import func, select

    from frontdesk.models import ClinicSettings
    from frontdesk.services import signin, staff

    a = clinic.add_desk("a")
    if owner:
        staff.create_first_owner(a.ctx, "owner", "Olive Owner", "correct horse")
        signin.sign_in(a.ctx, "owner", "correct horse")
    clinic.settle()
    with a.ctx.read() as s:
        ours = a.ctx.settings(s).id
    b = clinic.add_desk("b")
    summary = b.engine.sync()
    assert summary.rejected == 0
    with b.ctx.read() as s:
        assert b.ctx.settings(s).id == ours
        live = select(func.count()).select_from(ClinicSettings)
        assert s.scalar(live.where(ClinicSettings.deleted_at.is_(None))) == 1
    assert list(clinic.server_rows()["clinic_settings"]) == [ours]
    clinic.settle()
    clinic.assert_converged()
