"""Sessions used against approvals (issue 19, reports): every current plan with approved, used,
left and when it ends; ended plans left out; the CSV spreadsheet-safe and read back."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from claims_world import Funded, make_funded, session

from frontdesk.domain.errors import ValidationFailed
from frontdesk.services.claims.approvals import (
    COLUMNS,
    save_approvals_csv,
    sessions_vs_approvals,
)
from frontdesk.services.claims.plans import PlanInput, save_plan
from frontdesk.store.context import ServiceContext


@pytest.fixture
def f(ctx: ServiceContext) -> Funded:
    return make_funded(ctx)


def test_sessions_vs_approvals_and_its_csv(ctx: ServiceContext, f: Funded, tmp_path: Path) -> None:
    for m in (3, 5, 8, 10):
        session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, m, 2))
    session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    save_plan(
        ctx, f.veteran,
        PlanInput(kind="workcover", insurer_name="=icare()", claim_number="WC-1",
                  approved_sessions=8, starts_on=date(2026, 9, 1)),
    )  # fmt: skip
    rows = sessions_vs_approvals(ctx)
    got = [(r.patient, r.plan, r.approved, r.used, r.left, r.ends_on) for r in rows]
    assert got == [
        ("Maria Santos", "Medicare chronic condition management plan", 5, 4, 1, None),
        ("Ted Walsh", "WorkCover claim", 8, 0, 8, None),
        ("Ted Walsh", "DVA referral", 12, 1, 11, date(2026, 12, 19)),
    ]  # the NDIS plan ended in 2025: not current
    out = tmp_path / "approvals.csv"
    assert save_approvals_csv(ctx, out) == 3
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == list(COLUMNS)
    assert table[2] == ["Ted Walsh", "WorkCover claim", "'=icare()", "8", "0", "8", "", ""]
    assert table[3][-1] == "2026-12-19"
    with pytest.raises(ValidationFailed, match="could not be saved"):
        save_approvals_csv(ctx, tmp_path / "no such folder" / "a.csv")
