"""The record of an accounting export travels by sync: a second desk refuses to export the
same period to the same program again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from frontdesk.models import AccountingExport
from frontdesk.services import accounting_export as ax
from frontdesk.services.report_types import Period
from tests.sync.clinic import Clinic


def test_the_other_desk_refuses_a_period_already_exported(clinic: Clinic, tmp_path: Path) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    pat = a.add_patient()
    a.invoice(pat)
    clinic.settle()
    day = Period(date(2026, 11, 27), date(2026, 11, 27))
    done = ax.export_period(a.ctx, "xero", day, tmp_path)
    assert done.invoices == 1
    clinic.settle()
    assert done.record_id in b.ids(AccountingExport)
    with pytest.raises(ax.AlreadyExported, match="already exported to Xero"):
        ax.export_period(b.ctx, "xero", Period(date(2026, 11, 1), date(2026, 11, 30)), tmp_path)
    clinic.assert_converged()
