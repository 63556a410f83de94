"""A push whose answer is lost, then a pull (a pull delayed behind a push, or a sync that goes
on after its push failed), on a SQLite and a PostgreSQL server: the desk's changes still wait
to be pushed again, but the server already holds them. What the server made of them (stamps
clamped to its clock) and what other desks changed after them must reach the desk with that
pull, so the content check after a sync never has to correct a row."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import Appointment
from frontdesk.sync.summary import SyncSummary
from tests.sync.clinic import START, Clinic, Desk
from tests.sync.fakes import Faults


def _three_desks_one_booking(clinic: Clinic) -> tuple[Desk, Desk, Desk, str]:
    a, b, c = clinic.add_desk(), clinic.add_desk(), clinic.add_desk()
    appt = a.book(a.add_practitioner(), None, START)
    clinic.settle(2)
    return a, b, c, appt


def _push_answer_lost_then_pull(desk: Desk, meanwhile: Callable[[], None] = lambda: None) -> None:
    summary, touched = SyncSummary(), set[str]()
    desk.transport.faults = Faults(drop_response=1.0)  # the server commits; the answer is lost
    with contextlib.suppress(FrontdeskError):
        desk.engine.push(summary, touched)
    desk.transport.faults = Faults()
    assert desk.outbox_states().get("pending", 0) > 0  # still waiting here
    meanwhile()
    desk.engine.pull(summary, touched)


def _starts_at(desk: Desk, appt: str) -> object:
    with desk.ctx.read() as s:
        row = s.get(Appointment, appt)
        assert row is not None
        return row.starts_at


def test_stamps_the_server_clamped_reach_the_desk_whose_answer_was_lost(
    any_clinic: Clinic,
) -> None:
    _a, _b, c, appt = _three_desks_one_booking(any_clinic)
    c.clock.advance(timedelta(hours=6))  # its updated_at and audit stamps get clamped
    c.move(appt, START + timedelta(hours=1))
    _push_answer_lost_then_pull(c)
    any_clinic.settle(3)
    any_clinic.assert_converged()
    assert [d.repaired for d in any_clinic.desks] == [0, 0, 0]


def test_a_later_change_from_another_desk_reaches_the_desk_whose_answer_was_lost(
    any_clinic: Clinic,
) -> None:
    _a, b, c, appt = _three_desks_one_booking(any_clinic)
    c.move(appt, START + timedelta(hours=1))

    def b_moves_it_after_the_server_took_cs_move() -> None:
        assert b.sync()
        b.move(appt, START + timedelta(hours=2))
        assert b.sync()

    _push_answer_lost_then_pull(c, b_moves_it_after_the_server_took_cs_move)
    assert _starts_at(c, appt) == _starts_at(b, appt)  # the pull itself brought b's move
    any_clinic.settle(3)
    any_clinic.assert_converged()
    assert [d.repaired for d in any_clinic.desks] == [0, 0, 0]


def test_a_change_still_waiting_after_the_lost_answer_keeps_its_fields(
    any_clinic: Clinic,
) -> None:
    _a, b, c, appt = _three_desks_one_booking(any_clinic)
    c.move(appt, START + timedelta(hours=1))

    def both_move_it_again() -> None:
        assert b.sync()
        b.move(appt, START + timedelta(hours=2))
        assert b.sync()
        c.move(appt, START + timedelta(hours=3))  # made after the lost answer: not yet pushed

    _push_answer_lost_then_pull(c, both_move_it_again)
    assert _starts_at(c, appt) == START + timedelta(hours=3)
    any_clinic.settle(3)
    any_clinic.assert_converged()
    assert _starts_at(b, appt) == START + timedelta(hours=3)
    assert [d.repaired for d in any_clinic.desks] == [0, 0, 0]
