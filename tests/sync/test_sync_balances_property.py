"""The maintained balances (issue 21) stay equal to the ledger on every desk after every step:
money moves through the services the screens use (drafts, issues, payments — the same invoice
paid on two desks too — credit notes, voids, refunds) on two or three desks, with syncs between
the steps, so rows arrive from other desks through the sync's bulk upsert as well as locally."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from frontdesk.models import Patient
from frontdesk.services.billing.balances import check_balances
from tests.sync import billing_steps
from tests.sync.clinic import Clinic


class BalancesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="fd-bal-"))
        self.clinic = Clinic(self.root, str(self.root / "server.sqlite3"))

    @initialize(n=st.integers(min_value=2, max_value=3))
    def start(self, n: int) -> None:
        first = self.clinic.add_desk()
        first.add_patient("Ann")
        first.add_patient("Bo")
        for _ in range(n - 1):
            self.clinic.add_desk()
        self.clinic.settle(2)

    def _desk(self, i: int):  # type: ignore[no-untyped-def]
        return self.clinic.desks[i % len(self.clinic.desks)]

    @rule(i=st.integers(0, 2), k=st.integers(0, 9), cents=st.integers(1, 50_000))
    def draft_and_issue(self, i: int, k: int, cents: int) -> None:
        d = self._desk(i)
        billing_steps.draft(d, k, cents)
        billing_steps.issue(d, k)

    @rule(i=st.integers(0, 2), j=st.integers(0, 2), k=st.integers(0, 9), both=st.booleans())
    def pay(self, i: int, j: int, k: int, both: bool) -> None:
        invoice = billing_steps.an_issued_invoice(self._desk(i), k)
        if invoice is None:
            return
        billing_steps.pay_in_full(self._desk(i), invoice)
        if both:  # the same invoice paid on a second desk before either syncs: credit
            billing_steps.pay_in_full(self._desk(j), invoice)

    @rule(i=st.integers(0, 2), k=st.integers(0, 9), cents=st.integers(1, 50_000))
    def pay_on_account(self, i: int, k: int, cents: int) -> None:
        d = self._desk(i)
        patients = d.ids(Patient)
        if patients:
            d.pay(patients[k % len(patients)], cents)

    @rule(i=st.integers(0, 2), k=st.integers(0, 9))
    def credit(self, i: int, k: int) -> None:
        billing_steps.credit(self._desk(i), k)

    @rule(i=st.integers(0, 2), k=st.integers(0, 9))
    def void(self, i: int, k: int) -> None:
        billing_steps.void(self._desk(i), k)

    @rule(i=st.integers(0, 2), k=st.integers(0, 9))
    def refund(self, i: int, k: int) -> None:
        billing_steps.refund_credit(self._desk(i), k)

    @rule(i=st.integers(0, 2))
    def sync(self, i: int) -> None:
        self._desk(i).sync()

    @invariant()
    def every_desk_summary_equals_its_ledger(self) -> None:
        for d in self.clinic.desks:
            check = check_balances(d.ctx)
            assert check.ok, (d.name, check.differences)

    def teardown(self) -> None:
        try:
            if self.clinic.desks:
                self.clinic.settle(3)
                for d in self.clinic.desks:
                    check = check_balances(d.ctx)
                    assert check.ok, (d.name, check.differences)
                billing_steps.assert_billing_settled(self.clinic, {})
        finally:
            self.clinic.close()
            shutil.rmtree(self.root, ignore_errors=True)


def test_balances_equal_the_ledger_on_every_desk_after_every_step() -> None:
    BalancesMachine.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    BalancesMachine.TestCase().runTest()
