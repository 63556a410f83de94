"""A Hypothesis state machine: 2-5 desks doing random bookings, moves, patient edits, payments
and archives, and billing through the services the screens use (drafts, issues, payments — the
same invoice on two desks too — credit notes, voids and refunds), with partial syncs, pulls
delayed behind a push, outages, faults and clock jumps of more than a day. After everything goes
quiet every desk equals the server, every change made is on every desk or set aside with a reason
a person sees, nothing is duplicated, no booking is lost and every balance equals the ledger."""

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
from frontdesk.sync.summary import SyncSummary
from tests.sync import billing_steps
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
        self.billed: dict[str, set[str]] = {}  # desk name -> ids of billing rows it made
        self.lead_hours = 0
        RUNS["runs"] += 1

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

    # -- billing, through the services the screens use -------------------------------------
    def _billed(self, desk_index: int, made: str | None) -> None:
        if made is not None:
            self.billed.setdefault(self._desk(desk_index).name, set()).add(made)

    @rule(i=st.integers(0, 4), k=st.integers(0, 50), cents=st.integers(1, 50_000))
    def draft(self, i: int, k: int, cents: int) -> None:
        self._billed(i, billing_steps.draft(self._desk(i), k, cents))

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def issue(self, i: int, k: int) -> None:
        billing_steps.issue(self._desk(i), k)

    @rule(i=st.integers(0, 4), j=st.integers(0, 4), k=st.integers(0, 50), both=st.booleans())
    def pay_invoice(self, i: int, j: int, k: int, both: bool) -> None:
        """Pay an invoice in full; ``both``: on a second desk too before either syncs."""
        invoice = billing_steps.an_issued_invoice(self._desk(i), k)
        if invoice is None:
            return
        self._billed(i, billing_steps.pay_in_full(self._desk(i), invoice))
        if both and self._desk(j) is not self._desk(i):
            self._billed(j, billing_steps.pay_in_full(self._desk(j), invoice))

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def credit(self, i: int, k: int) -> None:
        self._billed(i, billing_steps.credit(self._desk(i), k))

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def void(self, i: int, k: int) -> None:
        billing_steps.void(self._desk(i), k)

    @rule(i=st.integers(0, 4), k=st.integers(0, 50))
    def refund(self, i: int, k: int) -> None:
        self._billed(i, billing_steps.refund_credit(self._desk(i), k))

    @rule(i=st.integers(0, 4), p=st.integers(0, 1), slot=st.integers(0, 30))
    def delayed_pull(self, i: int, p: int, slot: int) -> None:
        """The desk's sync has pushed; a booking is made before its (slow) pull lands."""
        d = self._desk(i)
        summary, touched = SyncSummary(), set[str]()
        with contextlib.suppress(FrontdeskError):
            d.engine.push(summary, touched)
        self.booked.add(d.book(self.pracs[p], None, START + timedelta(minutes=15 * slot)))
        with contextlib.suppress(FrontdeskError):
            d.engine.pull(summary, touched)

    @precondition(lambda self: self.lead_hours < 36)
    @rule(i=st.integers(0, 4), hours=st.sampled_from([1, 3, 6, 30]))
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

    @invariant()
    def totals_equal_a_count(self) -> None:
        """The per-table totals the sync check reads equal a count of the tables, on the
        server and every desk, after every step (faults, outages and resyncs included)."""
        assert self.clinic.totals_differences() == []

    def teardown(self) -> None:
        try:
            if hasattr(self, "pracs"):
                self.clinic.settle(4)
                self.clinic.assert_converged()
                # Every row a sync touched arrived exactly: the content check never had to
                # correct one (it would also catch fingerprints that differ between backends).
                assert [d.repaired for d in self.clinic.desks] == [0] * len(self.clinic.desks)
                self.clinic.assert_no_duplicates()
                assert self.clinic.totals_differences() == []
                server = self.clinic.server_rows()["appointments"]
                assert self.booked <= set(server)
                billing_steps.assert_billing_settled(self.clinic, self.billed)
        finally:
            self.clinic.close()
            shutil.rmtree(self.root, ignore_errors=True)


SETTINGS = settings(
    max_examples=12, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck)
)
RUNS = {"runs": 0}


def _run(machine: type[ClinicMachine], record_property) -> None:  # type: ignore[no-untyped-def]
    """Run the machine and say how much it did (runs, and steps across them)."""
    RUNS["runs"] = 0
    steps = {"n": 0}
    original = machine.check_invariants

    def counting(self, settings, output, runtimes):  # type: ignore[no-untyped-def]
        steps["n"] += 1
        return original(self, settings, output, runtimes)

    machine.check_invariants = counting  # type: ignore[method-assign]
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()
    record_property("runs", RUNS["runs"])
    record_property("steps", steps["n"])
    print(f"{machine.__name__}: {RUNS['runs']} runs, {steps['n']} steps")


def test_state_machine_sqlite(record_property) -> None:  # type: ignore[no-untyped-def]
    _run(type("SqliteClinic", (ClinicMachine,), {}), record_property)


@pytest.mark.postgres
def test_state_machine_postgres(pg_cluster, record_property) -> None:  # type: ignore[no-untyped-def]
    machine = type(
        "PgClinic",
        (ClinicMachine,),
        {"server_url_factory": staticmethod(lambda _root: pg_cluster.new_database())},
    )
    _run(machine, record_property)
