"""A Hypothesis state machine: 2-5 desks doing random bookings, moves, patient edits, payments
and archives, with partial syncs, outages, faults and clock jumps of hours. After everything
goes quiet every desk equals the server, nothing is duplicated and no booking is lost."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import Appointment, Patient
from tests.sync.clinic import START, Clinic
from tests.sync.fakes import Faults

NAMES = st.sampled_from(["Ann", "Bo", "Cy", "Di"])


class ClinicMachine(RuleBasedStateMachine):
    server_url_factory = staticmethod(lambda root: str(root / "server.sqlite3"))

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="fd-prop-"))
        self.clinic = Clinic(self.root, self.server_url_factory(self.root))
        self.booked: set[str] = set()
        self.lead_hours = 0

    @initialize(n=st.integers(min_value=2, max_value=5))
    def start(self, n: int) -> None:
        first = self.clinic.add_desk()
        self.pracs = [first.add_practitioner("Kim"), first.add_practitioner("Lou")]
        self.patients = [first.add_patient()]
        for _ in range(n - 1):
            self.clinic.add_desk()
        self.clinic.settle(2)

    def _desk(self, i: int):  # type: ignore[no-untyped-def]
        return self.clinic.desks[i % len(self.clinic.desks)]

    @rule(i=st.integers(0, 4), p=st.integers(0, 1), slot=st.integers(0, 30))
    def book(self, i: int, p: int, slot: int) -> None:
        d = self._desk(i)
        pats = d.ids(Patient)
        self.booked.add(
            d.book(self.pracs[p], pats[0] if pats else None, START + timedelta(minutes=15 * slot))
        )

    @rule(i=st.integers(0, 4), k=st.integers(0, 50), slot=st.integers(0, 30))
    def move(self, i: int, k: int, slot: int) -> None:
        d = self._desk(i)
        appts = d.ids(Appointment)
        if appts:
            d.move(appts[k % len(appts)], START + timedelta(minutes=15 * slot))

    @rule(i=st.integers(0, 4), first=NAMES)
    def add_patient(self, i: int, first: str) -> None:
        self._desk(i).add_patient(first, "Prop")

    @rule(i=st.integers(0, 4), k=st.integers(0, 50), name=NAMES, phone=st.integers(0, 99))
    def edit_patient(self, i: int, k: int, name: str, phone: int) -> None:
        d = self._desk(i)
        pats = d.ids(Patient)
        if pats:
            d.edit_patient(pats[k % len(pats)], first_name=name, mobile_phone=f"0400{phone:06d}")

    @rule(i=st.integers(0, 4), k=st.integers(0, 50), cents=st.integers(1, 50_000))
    def pay(self, i: int, k: int, cents: int) -> None:
        d = self._desk(i)
        pats = d.ids(Patient)
        if pats:
            d.pay(pats[k % len(pats)], cents)

    @rule(i=st.integers(0, 4), k=st.integers(0, 50), cents=st.integers(1, 50_000))
    def invoice(self, i: int, k: int, cents: int) -> None:
        d = self._desk(i)
        pats = d.ids(Patient)
        if pats:
            # e.g. the patient was archived: the services say so and nothing is made
            with contextlib.suppress(FrontdeskError):
                d.invoice(pats[k % len(pats)], cents)

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def archive(self, i: int, k: int) -> None:
        d = self._desk(i)
        pats = d.ids(Patient)
        if pats:
            d.archive_patient(pats[k % len(pats)])

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def cancel(self, i: int, k: int) -> None:
        d = self._desk(i)
        appts = d.ids(Appointment)
        if appts:
            d.cancel(appts[k % len(appts)])

    @rule(i=st.integers(0, 4), faulty=st.booleans())
    def sync(self, i: int, faulty: bool) -> None:
        d = self._desk(i)
        d.transport.faults = Faults(0.1, 0.1, 0.1, 0.1) if faulty else Faults()
        d.sync()

    @rule(i=st.integers(0, 4), online=st.booleans())
    def outage(self, i: int, online: bool) -> None:
        self._desk(i).plain.online = online

    @precondition(lambda self: self.lead_hours < 18)
    @rule(i=st.integers(0, 4), hours=st.integers(1, 6))
    def clock_jump(self, i: int, hours: int) -> None:
        self._desk(i).clock.advance(timedelta(hours=hours))
        self.lead_hours += hours

    @rule()
    def server_clock_catches_up(self) -> None:
        self.clinic.server_clock.advance(timedelta(hours=self.lead_hours))
        for d in self.clinic.desks:
            if d.clock.now() < self.clinic.server_clock.now():
                d.clock.set(self.clinic.server_clock.now())
        self.lead_hours = 0

    @invariant()
    def nothing_lost_locally(self) -> None:
        if hasattr(self, "pracs"):
            held = set().union(*(set(d.ids(Appointment)) for d in self.clinic.desks))
            assert self.booked <= held

    def teardown(self) -> None:
        try:
            if hasattr(self, "pracs"):
                self.clinic.settle(4)
                self.clinic.assert_converged()
                # Every row a sync touched arrived exactly: the content check never had to
                # correct one (it would also catch fingerprints that differ between backends).
                assert [d.repaired for d in self.clinic.desks] == [0] * len(self.clinic.desks)
                self.clinic.assert_no_duplicates()
                server = self.clinic.server_rows()["appointments"]
                assert self.booked <= set(server)
        finally:
            self.clinic.close()
            shutil.rmtree(self.root, ignore_errors=True)


SETTINGS = settings(
    max_examples=6, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)


def test_state_machine_sqlite() -> None:
    machine = type("SqliteClinic", (ClinicMachine,), {})
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()


@pytest.mark.postgres
def test_state_machine_postgres(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    machine = type(
        "PgClinic",
        (ClinicMachine,),
        {"server_url_factory": staticmethod(lambda _root: pg_cluster.new_database())},
    )
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()
