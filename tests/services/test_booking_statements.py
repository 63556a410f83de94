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
# leave; appointments and holds (one query); the outbox number, audit chain head and pull cursor
# (one query); the appointment and its history row, the audit events and the outbox rows (one
# insert each, written by the tracked bulk writer); COMMIT. Before issue 21: 16 (the
# practitioner read twice, patient and type apart, holds apart, the three heads apart).
STATEMENTS_PER_BOOKING = 11


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


@contextmanager
def statements(ctx: ServiceContext) -> Iterator[list[str]]:
    """Every statement SQLite runs for the connection's user (its trace callback), whether sent
    through SQLAlchemy or straight to the DB-API connection (the bulk writers). SQLite calls it
    again with the same text for each trigger program a statement runs (and for each row of an
    executemany): a repeat is one statement, as a raw insert runs the same triggers."""
    seen: list[str] = []

    def trace(statement: str) -> None:
        text = " ".join(statement.split())[:90]
        if not seen or seen[-1] != text:
            seen.append(text)

    def on(dbapi_conn: Any, *_rest: Any) -> None:
        dbapi_conn.set_trace_callback(trace)

    def off(dbapi_conn: Any, *_rest: Any) -> None:
        dbapi_conn.set_trace_callback(None)

    event.listen(ctx.engine, "checkout", on)
    event.listen(ctx.engine, "checkin", off)
    try:
        yield seen
    finally:
        event.remove(ctx.engine, "checkout", on)
        event.remove(ctx.engine, "checkin", off)


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
    assert [s.split()[2].strip('"') for s in seen if s.startswith("INSERT")] == [
        "appointments", "appointment_status_changes", "audit_events", "sync_outbox",
    ]  # fmt: skip
    assert seen[0] == "BEGIN IMMEDIATE" and seen[-1] == "COMMIT"  # one transaction, one commit


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


def _logged(ctx: ServiceContext, appointment_id: str) -> dict[str, Any]:
    """The change log of one booking: its rows' outbox fields and audit values, and the rows
    read back, with what differs between any two bookings (keys, times, the id) taken out."""
    import json

    from frontdesk.models import Appointment, AppointmentStatusChange, AuditEvent

    varying = {"id", "appointment_id", "created_at", "updated_at", "starts_at", "ends_at",
               "changed_at"}  # fmt: skip

    def same(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k not in varying}

    with ctx.read() as s:
        of_it = AppointmentStatusChange.appointment_id == appointment_id
        history = s.scalars(select(AppointmentStatusChange).where(of_it)).one()
        ids = {appointment_id: "appointments", history.id: "appointment_status_changes"}
        out = {}
        for row_id, table in ids.items():
            change = s.scalars(select(SyncOutbox).where(SyncOutbox.row_id == row_id)).one()
            event_ = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == row_id)).one()
            model = Appointment if table == "appointments" else AppointmentStatusChange
            row = s.get(model, row_id)
            assert row is not None and row.version == 0 and row.created_at == row.updated_at
            read_back = {c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}
            out[table] = (
                change.op, change.base_version, same(json.loads(change.fields_json)),
                event_.action, same(json.loads(event_.after_json or "{}")), same(read_back),
            )  # fmt: skip
            audit_out = s.scalars(select(SyncOutbox).where(SyncOutbox.row_id == event_.id)).one()
            assert audit_out.entity == "audit_events"
    return out


def test_a_booking_written_in_bulk_logs_what_the_orm_flush_logged(clinic: Clinic) -> None:
    """``book`` writes the appointment and its history row with the tracked bulk writer: the
    rows, their outbox changes (what syncs) and audit events are the ones the ORM flush writes
    for the same booking (``new_appointment``, as series and the waitlist still book)."""
    ctx = clinic.ctx
    bulk_id = diary.book(ctx, _req(clinic, 9, notes="  first visit "))
    with ctx.write("booked an appointment") as s:
        orm_id = diary.new_appointment(s, ctx, _req(clinic, 10, notes="  first visit "),
                                       allow_clash=False).id  # fmt: skip
    assert _logged(ctx, bulk_id) == _logged(ctx, orm_id)
    with ctx.read() as s:
        seqs = list(s.scalars(select(SyncOutbox.seq).order_by(SyncOutbox.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
    report = audit.verify_chain(ctx)
    assert report.intact, report.message


def test_a_refused_booking_writes_nothing(clinic: Clinic) -> None:
    """A clash under the ask-first policy and a NUL in the notes are refused before anything is
    written: no appointment, no outbox row, no audit event."""
    from frontdesk.domain.errors import ValidationFailed
    from frontdesk.models import Appointment, AuditEvent

    ctx = clinic.ctx
    diary.book(ctx, _req(clinic, 9))

    def counts() -> tuple[int, ...]:
        with ctx.read() as s:
            return tuple(len(s.scalars(select(m.id if m is not SyncOutbox else m.seq)).all())
                         for m in (Appointment, SyncOutbox, AuditEvent))  # fmt: skip

    before = counts()
    with pytest.raises(ClashNeedsConfirmation):
        diary.book(ctx, _req(clinic, 9))
    with pytest.raises(ValidationFailed, match="NUL"):
        diary.book(ctx, _req(clinic, 11, notes="pasted\x00text"))
    assert counts() == before
