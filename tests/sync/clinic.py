"""A whole clinic for tests: one in-process server and several desks, each its own SQLite file
and FakeClock, with clinic actions and convergence checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from frontdesk.db import sync_totals
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import (
    Appointment,
    Patient,
    Payment,
    Practitioner,
    SyncConflict,
    SyncOutbox,
    synced_tables,
)
from frontdesk.models.codec import to_json_value
from frontdesk.paths import DeskPaths
from frontdesk.protocol import LOCAL_ONLY
from frontdesk.server import schema as server_schema
from frontdesk.server.app import create_app
from frontdesk.services.desk import open_desk
from frontdesk.store.balances import covered_tables
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number
from frontdesk.sync.engine import SyncEngine
from frontdesk.sync.setup import engine_for, enrol
from tests.sync.fakes import ClientTransport, FaultyTransport

START = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


@dataclass
class Desk:
    name: str
    ctx: ServiceContext
    clock: FakeClock
    plain: ClientTransport
    transport: FaultyTransport
    engine: SyncEngine
    repaired: int = 0  # rows the content check had to correct (0 when sync works)

    # -- clinic actions (local writes through ctx.write, as the services do) ----------------
    def add_practitioner(self, first: str = "Alex") -> str:
        with self.ctx.write("add practitioner") as s:
            p = Practitioner(
                first_name=first,
                last_name="Ng",
                display_name=f"{first} Ng",
                profession="Physiotherapist",
            )
            s.add(p)
            s.flush()
            return p.id

    def add_patient(self, first: str = "Sam", last: str = "Lee") -> str:
        with self.ctx.write("add patient") as s:
            _sid, number = next_number(s, SeriesKind.PATIENT)
            p = Patient(patient_number=number, first_name=first, last_name=last)
            s.add(p)
            s.flush()
            return p.id

    def book(
        self, practitioner_id: str, patient_id: str | None, start: datetime, minutes: int = 30
    ) -> str:
        with self.ctx.write("book") as s:
            a = Appointment(
                practitioner_id=practitioner_id,
                patient_id=patient_id,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
            )
            s.add(a)
            s.flush()
            return a.id

    def move(self, appt_id: str, start: datetime) -> None:
        with self.ctx.write("move") as s:
            a = s.get(Appointment, appt_id)
            assert a is not None
            length = a.ends_at - a.starts_at
            a.starts_at, a.ends_at = start, start + length

    def cancel(self, appt_id: str) -> None:
        with self.ctx.write("cancel") as s:
            a = s.get(Appointment, appt_id)
            assert a is not None
            a.status = "cancelled"
            a.cancellation_reason = "sick"
            a.cancelled_at = self.clock.now()

    def edit_patient(self, patient_id: str, **values: Any) -> None:
        with self.ctx.write("edit patient") as s:
            p = s.get(Patient, patient_id)
            assert p is not None
            for k, v in values.items():
                setattr(p, k, v)

    def archive_patient(self, patient_id: str) -> None:
        self.edit_patient(patient_id, archived_at=self.clock.now())

    def pay(self, patient_id: str, cents: int) -> str:
        with self.ctx.write("payment") as s:
            p = Payment(
                method="cash",
                amount_cents=cents,
                patient_id=patient_id,
                received_at=self.clock.now(),
                business_date=date(2026, 11, 27),
                device_id=self.ctx.device_id,
            )
            s.add(p)
            s.flush()
            return p.id

    def invoice(self, patient_id: str, cents: int = 9500) -> str:
        """Issue a one-line invoice through the billing services; returns its number."""
        from frontdesk.services.billing.invoices import (
            DraftHeader,
            DraftLine,
            create_draft,
            issue_invoice,
        )

        draft = create_draft(self.ctx, DraftHeader(patient_id), [DraftLine("Consultation", cents)])
        return issue_invoice(self.ctx, draft)

    def ids(self, model: Any) -> list[str]:
        with self.ctx.read() as s:
            return list(s.scalars(select(model.id).order_by(model.id)))

    def open_conflicts(self) -> list[SyncConflict]:
        with self.ctx.read() as s:
            return list(s.scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None))))

    def outbox_states(self) -> dict[str, int]:
        with self.ctx.read() as s:
            out: dict[str, int] = {}
            for state in s.scalars(select(SyncOutbox.state)):
                out[state] = out.get(state, 0) + 1
            return out

    def sync(self) -> bool:
        try:
            self.repaired += self.engine.sync().repaired
        except Exception as exc:  # the desk shows it and retries later
            from frontdesk.domain.errors import EnvironmentProblem

            if not isinstance(exc, EnvironmentProblem):
                raise
            return False
        return True


@dataclass
class Clinic:
    root: Path
    url: str
    server_clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    desks: list[Desk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = create_app(self.url, clock=self.server_clock)
        self.client = TestClient(self.app)
        self.store = self.app.state.store

    def add_desk(self, name: str | None = None) -> Desk:
        name = name or f"desk{len(self.desks) + 1}"
        clock = FakeClock(START)
        ctx = open_desk(DeskPaths(self.root / name), clock=clock)
        plain = ClientTransport(self.client)
        faulty = FaultyTransport(plain)
        code = self.store.create_enrolment_code(name)
        enrol(ctx, "http://testserver", code, transport=plain, device_name=name)
        desk = Desk(name, ctx, clock, plain, faulty, engine_for(ctx, transport=faulty))
        self.desks.append(desk)
        return desk

    def close(self) -> None:
        for d in self.desks:
            d.ctx.engine.dispose()
        self.client.close()
        self.store.dispose()

    def settle(self, rounds: int = 6) -> None:
        """Everyone online, no faults, sync until quiet."""
        for d in self.desks:
            d.plain.online = True
            d.transport.faults = type(d.transport.faults)()
            d.transport.flush()
        for _ in range(rounds):
            for d in self.desks:
                assert d.sync(), f"{d.name} could not sync"

    # -- convergence ------------------------------------------------------------------------
    def server_rows(self) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with self.store.reading() as conn:
            for name, table in server_schema.data_tables().items():
                rows = conn.execute(select(table)).mappings()
                out[name] = {r["id"]: _json_row(r) for r in rows}
        return out

    def assert_converged(self) -> None:
        server = self.server_rows()
        for d in self.desks:
            states = d.outbox_states()
            assert states.get("pending", 0) == 0, (d.name, states)
            rejected = _rejected_rows(d)
            with d.ctx.read() as s:
                for name in synced_tables():
                    if name in LOCAL_ONLY:
                        continue
                    table = server_schema.data_tables()[name]
                    local = {r["id"]: _json_row(r) for r in s.execute(select(table)).mappings()}
                    extra = set(local) - set(server[name])
                    assert extra <= rejected, (d.name, name, extra - rejected)
                    missing = set(server[name]) - set(local)
                    assert not missing, (d.name, name, len(missing))
                    for rid, row in server[name].items():
                        assert local[rid] == row, (d.name, name, rid, _diff(local[rid], row))

    def totals_differences(self) -> list[str]:
        """Where the kept per-table totals (what the sync check compares) differ from a count
        of the tables, on the server and on every desk."""
        with self.store.reading() as conn:
            found = [
                f"server {d}"
                for d in sync_totals.differences(
                    lambda q: conn.execute(text(q)).all(), covered_tables()
                )
            ]
        for d in self.desks:
            with d.ctx.read() as session:
                found += [
                    f"{d.name} {x}"
                    for x in sync_totals.differences(
                        lambda q: session.execute(text(q)).all(), covered_tables()
                    )
                ]
        return found

    def assert_no_duplicates(self) -> None:
        server = self.server_rows()
        numbers = [r["number"] for r in server["invoices"].values() if r["number"]]
        assert len(numbers) == len(set(numbers))
        pnums = [r["patient_number"] for r in server["patients"].values()]
        assert len(pnums) == len(set(pnums))
        with self.store.reading() as conn:
            ids = conn.execute(select(server_schema.mutation_results.c.mutation_id)).scalars().all()
            assert len(ids) == len(set(ids))


def _json_row(row: Any) -> dict[str, Any]:
    return {k: to_json_value(v) for k, v in dict(row).items()}


def _diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


def _rejected_rows(d: Desk) -> set[str]:
    with d.ctx.read() as s:
        rows = s.execute(
            select(SyncOutbox.row_id, SyncOutbox.result_json).where(SyncOutbox.state == "rejected")
        ).all()
    return {r.row_id for r in rows if json.loads(r.result_json or "{}")}
