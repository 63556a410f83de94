"""Issue 21, booking through the service: how many SQL statements one booking runs, counted with
an engine event so the number cannot creep back, and the change log still right when a second
writer (the command line, another process on the same file) writes between two bookings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from diary_clinic import MONDAY, Clinic, make_clinic
from sqlalchemy import event, select

from frontdesk.domain.errors import NotFound
from frontdesk.domain.ids import uuid7
from frontdesk.models import AppointmentHold, SyncOutbox
from frontdesk.services import audit, diary
from frontdesk.services.desk import open_desk
from frontdesk.services.diary import BookingRequest, ClashNeedsConfirmation
from frontdesk.store.context import ServiceContext

# BEGIN IMMEDIATE; the practitioner, patient and type (one join by their keys); the roster;
# leave; appointments and holds (one query); the appointment and its history row; the outbox
# number, audit chain head and pull cursor (one query); the audit events and the outbox rows
# (one executemany each). Before issue 21: 16 (the practitioner read twice, patient and type
# apart, holds apart, the three heads apart).
STATEMENTS_PER_BOOKING = 10


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


@contextmanager
def statements(ctx: ServiceContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split())[:90])

    event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(ctx.engine, "before_cursor_execute", count)


def _req(c: Clinic, hh: int, **kw: Any) -> BookingRequest:
    start = c.at(MONDAY, hh)
    values: dict[str, Any] = {"practitioner_id": c.anna, "starts_at": start,
                              "ends_at": start + timedelta(minutes=30), "patient_id": c.pat,
                              "appointment_type_id": c.standard}  # fmt: skip
    values.update(kw)
    return BookingRequest(**values)


@pytest.mark.parametrize("with_room", [False, True])
def test_one_booking_runs_a_fixed_number_of_statements(clinic: Clinic, with_room: bool) -> None:
    ctx = clinic.ctx
    diary.book(ctx, _req(clinic, 8))  # the first write of a process builds its statements
    room = {"room_id": clinic.room} if with_room else {}
    with statements(ctx) as seen:
        diary.book(ctx, _req(clinic, 9, **room))
    extra = 1 if with_room else 0  # the room's closures (the room itself joins the others)
    assert len(seen) == STATEMENTS_PER_BOOKING + extra, "\n".join(seen)
    assert sum(s.startswith("SELECT") for s in seen) == 5 + extra
    assert [s.split()[2] for s in seen if s.startswith("INSERT")] == [
        "appointments", "appointment_status_changes", "audit_events", "sync_outbox",
    ]  # fmt: skip


def test_what_a_booking_names_and_is_gone_is_still_refused_in_its_own_words(
    clinic: Clinic,
) -> None:
    """The practitioner, patient, type and room are read in one join: when one is missing the
    join finds nothing and each is read alone, so the refusal names the missing one."""
    gone = uuid7()  # a key no row has (a key must be a UUID: db.types.UUIDKey)
    cases = [
        ({"patient_id": gone}, "patient's card no longer exists"),
        ({"appointment_type_id": gone}, "type is no longer offered"),
        ({"practitioner_id": gone}, "practitioner no longer exists"),
        ({"room_id": gone}, "room is no longer available"),
    ]
    for change, said in cases:
        with pytest.raises(NotFound, match=said):
            diary.book(clinic.ctx, _req(clinic, 9, **change))


def test_holds_are_still_clashes_read_in_the_same_query(clinic: Clinic) -> None:
    """Appointments and holds now come from one query: a running hold on the practitioner asks
    first; a lapsed one and one on another practitioner do not."""
    ctx = clinic.ctx
    now = ctx.clock.now()
    with ctx.write("holds from the server", origin="sync") as s:
        for hh, who, lasts in ((10, clinic.anna, 10), (11, clinic.anna, -1), (13, clinic.ben, 10)):
            start = clinic.at(MONDAY, hh)
            s.add(AppointmentHold(practitioner_id=who, starts_at=start,
                                  ends_at=start + timedelta(minutes=30),
                                  expires_at=now + timedelta(minutes=lasts), created_at=now,
                                  updated_at=now))  # fmt: skip
    with pytest.raises(ClashNeedsConfirmation, match="Held online until"):
        diary.book(ctx, _req(clinic, 10))
    diary.book(ctx, _req(clinic, 11))
    diary.book(ctx, _req(clinic, 13))
    diary.book(ctx, _req(clinic, 10), allow_clash=True)


def test_another_writer_between_bookings_keeps_outbox_and_audit_chain_whole(
    clinic: Clinic,
) -> None:
    """The heads (next outbox number, audit chain head) are read inside each write transaction,
    which holds the file's lock, never kept between writes: a second process writing the same
    file in between (here a second context with its own engine, as the command line opens it)
    is continued from, not overwritten."""
    ctx = clinic.ctx
    assert ctx.paths is not None
    other = open_desk(ctx.paths, clock=ctx.clock)
    try:
        for n, hh in enumerate((8, 9, 10, 11, 13, 14)):
            writer = ctx if n % 2 == 0 else other
            diary.book(writer, _req(clinic, hh, practitioner_id=(clinic.anna, clinic.ben)[n % 2]))
    finally:
        other.engine.dispose()
    with ctx.read() as s:
        seqs = list(s.scalars(select(SyncOutbox.seq).order_by(SyncOutbox.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
    report = audit.verify_chain(ctx)
    assert report.intact, report.message
