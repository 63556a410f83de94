"""Reports across desks (issue 20): account codes saved on one desk are the other desk's after
a sync, and bookings arriving by sync keep the other desk's report summary equal to its raw
tables (the triggers fire on sync's writes as on the services')."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from frontdesk.db.types import key_blob
from frontdesk.models import Appointment
from frontdesk.services import accounting_codes as ac
from frontdesk.store import balances
from tests.sync.clinic import START, Clinic


def test_codes_and_bookings_travel_and_the_summary_follows(any_clinic: Clinic) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    codes = ac.AccountCodes("41000", "GST on Income", "GST Free Income", "090",
                            methods={"cash": "091"})  # fmt: skip
    ac.save_account_codes(a.ctx, "xero", codes)
    pid = a.add_practitioner()
    pat = a.add_patient()
    first = a.book(pid, pat, START + timedelta(hours=1))
    a.book(pid, pat, START + timedelta(days=7, hours=1))
    clinic.settle()
    assert ac.account_codes(b.ctx, "xero") == codes
    assert first in b.ids(Appointment)
    for desk in (a, b):
        with desk.ctx.read() as s:
            assert balances.report_differences(s) == []
            kept = s.execute(
                text("SELECT first_at FROM report_summary_first_visits WHERE patient_id = :p"),
                {"p": key_blob(pat)},  # a key as the desk stores it (db/types.py)
            ).scalar()
        assert kept is not None
    clinic.assert_converged()
