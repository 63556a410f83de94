"""Plans, the booking-time funding check, checkout, claims, the NDIA's files and remittances on
a real desk database (tests/claims/claims_world.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from claims_world import Funded, at, make_funded, session
from sqlalchemy import func, select

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.funding import ClaimStatus, Severity
from frontdesk.domain.ndis import BULK_PAYMENT_COLUMNS
from frontdesk.models import (
    AuditEvent,
    Claim,
    FundingPlan,
    Payment,
    PaymentAllocation,
    RemittanceImport,
    SyncOutbox,
)
from frontdesk.services import billing, diary
from frontdesk.services.claims import claims as claims_svc
from frontdesk.services.claims.check import check_appointment, checkout_terms, funding_check
from frontdesk.services.claims.checkout import invoice_under_plan
from frontdesk.services.claims.plans import (
    PlanInput,
    list_plans,
    plans_running_out,
    save_plan,
)
from frontdesk.services.claims.remittance import RemittanceProblems, import_remittance
from frontdesk.store.context import ServiceContext


@pytest.fixture
def f(ctx: ServiceContext) -> Funded:
    return make_funded(ctx)


def messages(checks: list) -> list[str]:
    return [x.message for c in checks for x in c.findings]


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# -- plans --------------------------------------------------------------------------------
def test_a_plan_is_saved_with_audit_and_sync(ctx: ServiceContext, f: Funded) -> None:
    outbox = count(ctx, SyncOutbox)
    audit = count(ctx, AuditEvent)
    save_plan(
        ctx,
        f.veteran,
        PlanInput(kind="workcover", insurer_name="icare", claim_number="WC-991",
                  case_manager="Jo Bloggs", approved_sessions=8, starts_on=date(2026, 10, 1)),
    )  # fmt: skip
    assert count(ctx, SyncOutbox) > outbox and count(ctx, AuditEvent) > audit
    plans = {p.kind.value: p for p in list_plans(ctx, f.veteran)}
    assert plans["workcover"].claim_number == "WC-991"
    assert plans["workcover"].session_limit == 8
    assert plans["dva"].session_limit == 12
    assert plans["dva"].last_day == date(2026, 12, 19)


def test_a_referral_without_a_provider_number_is_refused_and_nothing_saved(
    ctx: ServiceContext, f: Funded
) -> None:
    before = count(ctx, FundingPlan)
    with pytest.raises(ValidationFailed, match="no provider number"):
        save_plan(ctx, f.cdm_patient, PlanInput(kind="medicare_cdm", referrer_name="Dr X"))
    with pytest.raises(ValidationFailed, match="expires before it starts"):
        save_plan(
            ctx,
            f.veteran,
            PlanInput(kind="workcover", claim_number="1", starts_on=date(2026, 5, 1),
                      expires_on=date(2026, 4, 1)),
        )  # fmt: skip
    assert count(ctx, FundingPlan) == before


# -- the booking-time check -----------------------------------------------------------------
def test_fifth_and_sixth_medicare_visit_combined_across_plans_this_year(
    ctx: ServiceContext, f: Funded
) -> None:
    save_plan(
        ctx,
        f.cdm_patient,
        PlanInput(kind="medicare_cdm", referrer_name="Dr Hart", referrer_provider_number="2345671A",
                  starts_on=date(2026, 2, 1), sessions_used_elsewhere=1),
    )  # fmt: skip
    session(ctx, f, f.cdm_patient, f.cdm_plan, date(2025, 12, 1))  # last year: not counted
    for d in (date(2026, 3, 2), date(2026, 5, 4), date(2026, 8, 3)):
        session(ctx, f, f.cdm_patient, f.cdm_plan, d)
    cancelled = session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 9, 7))
    diary.cancel(ctx, cancelled, "sick")
    fifth = funding_check(ctx, f.cdm_patient, at(date(2026, 12, 7)), 30, plan_id=f.cdm_plan)
    assert messages(fifth) == ["5th of 5 Medicare visits in 2026"]
    assert fifth[0].severity is Severity.WARNING
    booked = session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 12, 7))
    # Checking the booked appointment itself does not count it twice.
    assert messages(check_appointment(ctx, booked)) == ["5th of 5 Medicare visits in 2026"]
    sixth = funding_check(ctx, f.cdm_patient, at(date(2026, 12, 14)), 30, plan_id=f.cdm_plan)
    assert messages(sixth) == ["6th Medicare visit in 2026: only 5 a year are paid."]
    assert sixth[0].severity is Severity.ERROR
    # A new year starts again.
    jan = funding_check(ctx, f.cdm_patient, at(date(2027, 1, 11)), 30, plan_id=f.cdm_plan)
    assert messages(jan) == ["1st of 5 Medicare visits in 2027"]
    short = funding_check(ctx, f.cdm_patient, at(date(2027, 1, 11)), 15, plan_id=f.cdm_plan)
    assert any("at least 20 minutes" in m for m in messages(short))


def test_dva_referral_expiring_before_the_booking(ctx: ServiceContext, f: Funded) -> None:
    checks = funding_check(ctx, f.veteran, at(date(2026, 12, 21)), 30)
    assert "The DVA referral expires on 19 Dec 2026, before this date." in messages(checks)
    ok = funding_check(ctx, f.veteran, at(date(2026, 12, 1)), 30)
    assert messages(ok) == ["1st of 12 approved DVA sessions"]


def test_ndis_budget_left_and_over_budget(ctx: ServiceContext, f: Funded) -> None:
    for d in (date(2025, 5, 5), date(2025, 5, 12), date(2025, 5, 19), date(2025, 5, 26)):
        session(ctx, f, f.participant, f.ndis_plan, d)
    # $1,000 budget, 4 × $193.99 booked: $224.04 left; one more fits, with a warning.
    checks = funding_check(ctx, f.participant, at(date(2025, 6, 2)), 60, price_cents=19_399)
    assert messages(checks) == ["NDIS Capacity Building budget has $224.04 left"]
    assert checks[0].severity is Severity.WARNING
    session(ctx, f, f.participant, f.ndis_plan, date(2025, 6, 2))
    over = funding_check(ctx, f.participant, at(date(2025, 6, 9)), 60, price_cents=19_399)
    assert over[0].severity is Severity.ERROR
    assert messages(over) == [
        "NDIS Capacity Building budget has $30.05 left; this session ($193.99) is over budget."
    ]


def test_plans_running_out_for_recalls(ctx: ServiceContext, f: Funded) -> None:
    rows = plans_running_out(ctx, date(2026, 12, 1))
    assert [(r.patient_name, r.why) for r in rows] == [("Ted Walsh", "expires 19 Dec 2026")]


# -- checkout --------------------------------------------------------------------------------
def test_checkout_takes_item_price_and_payer_from_the_plan(ctx: ServiceContext, f: Funded) -> None:
    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    terms = checkout_terms(ctx, appt)
    assert terms is not None
    assert (terms.item_number, terms.price_cents, terms.payer_funder_id) == (
        "15_055_0128_1_3",
        19_399,
        f.ndis,
    )
    assert terms.gst_free and "38-38" in terms.gst_reason
    invoice_id = invoice_under_plan(ctx, appt)
    view = billing.invoice_view(ctx, invoice_id)
    assert view.total_cents == 19_399 and view.tax_cents == 0
    cdm = session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 3, 2))
    terms = checkout_terms(ctx, cdm)
    assert terms is not None and terms.item_number == "10960"


def test_a_price_above_the_ndis_limit_is_refused(ctx: ServiceContext, f: Funded) -> None:
    from frontdesk.models import CatalogueFunderPrice, Invoice

    with ctx.write("raise the price") as s:
        row = s.scalars(
            select(CatalogueFunderPrice).where(CatalogueFunderPrice.funder_id == f.ndis)
        ).one()
        row.price_cents = 19_400
    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    with pytest.raises(ValidationFailed, match=r"above the NDIS price limit .*\(\$193.99\)"):
        invoice_under_plan(ctx, appt)
    assert count(ctx, Invoice) == 0


def test_invoice_to_the_funder_refused_past_the_yearly_limit(
    ctx: ServiceContext, f: Funded
) -> None:
    for m in (2, 3, 4, 5, 6):
        session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, m, 2))
    sixth = session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 7, 6))
    with pytest.raises(RuleViolation, match="6th Medicare visit in 2026"):
        invoice_under_plan(ctx, sixth)


# -- claims, the bulk payment request and the remittance ----------------------------------
def ndis_month(ctx: ServiceContext, f: Funded) -> list[str]:
    numbers = []
    for d in (date(2025, 5, 5), date(2025, 5, 12), date(2025, 5, 19)):
        appt = session(ctx, f, f.participant, f.ndis_plan, d)
        inv = invoice_under_plan(ctx, appt)
        numbers.append(billing.issue_invoice(ctx, inv))
    assert claims_svc.prepare_claims(ctx) == 3
    assert claims_svc.prepare_claims(ctx) == 0  # idempotent
    return numbers


def test_bulk_payment_request_for_a_month(ctx: ServiceContext, f: Funded) -> None:
    numbers = ndis_month(ctx, f)
    req = claims_svc.build_bulk_payment_request(ctx, date(2025, 5, 1), "4050012345")
    rows = req.csv_text.split("\r\n")
    assert rows[0].split(",") == list(BULK_PAYMENT_COLUMNS)
    assert rows[1].split(",")[:10] == [
        "4050012345", "430123456", "2025-05-05", "2025-05-05", "15_055_0128_1_3", numbers[0],
        "1.00", "", "193.99", "P1",
    ]  # fmt: skip
    assert req.lines == 3 and req.total_cents == 3 * 19_399
    with pytest.raises(RuleViolation, match="No prepared NDIS claims"):
        claims_svc.build_bulk_payment_request(ctx, date(2025, 6, 1), "4050012345")


def remittance(tmp_path: Path, body: str, name: str = "payment_report.csv") -> Path:
    p = tmp_path / name
    p.write_text(
        "RegistrationNumber,NDISNumber,SupportsDeliveredFrom,SupportsDeliveredTo,SupportNumber,"
        "ClaimReference,Quantity,Hours,UnitPrice,GSTCode,Claimed Amount,Paid Total Amount,"
        "Payment Request Status,Error Message\n" + body
    )
    return p


def line(ref: str, paid: str, status: str = "PAID", error: str = "") -> str:
    return (
        f"4050012345,430123456,2025-05-05,2025-05-05,15_055_0128_1_3,{ref},1,,193.99,P1,"
        f"193.99,{paid},{status},{error}\n"
    )


def test_remittance_pays_part_pays_and_rejects(
    ctx: ServiceContext, f: Funded, tmp_path: Path
) -> None:
    a, b, c = ndis_month(ctx, f)
    ids = [r.id for r in claims_svc.list_claims(ctx)]
    claims_svc.mark_submitted(ctx, ids)
    path = remittance(
        tmp_path,
        line(a, "193.99") + line(b, "150.00") + line(c, "0.00", "ERROR", "Plan budget exceeded"),
    )
    result = import_remittance(ctx, path)
    assert (result.paid, result.part_paid, result.rejected) == (1, 1, 1)
    assert result.paid_cents == 34_399
    by_ref = {r.invoice_number: r for r in claims_svc.list_claims(ctx)}
    assert by_ref[a].status is ClaimStatus.PAID
    assert by_ref[b].status is ClaimStatus.PART_PAID and by_ref[b].paid_cents == 15_000
    assert by_ref[c].status is ClaimStatus.REJECTED
    assert by_ref[c].rejection_reason == "Plan budget exceeded"
    assert billing.invoice_view(ctx, by_ref[a].invoice_id).owing_cents == 0
    assert billing.invoice_view(ctx, by_ref[b].invoice_id).owing_cents == 4_399
    with pytest.raises(RuleViolation, match="imported already"):
        import_remittance(ctx, path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{a}", None),
        ("INV-NOPE", "no claim has the reference INV-NOPE"),
        ("garbage", r"Line 3 \("),
        ("over", "is paid \\$200.00 but its invoice owes \\$193.99"),
    ],
)
def test_a_bad_remittance_changes_nothing(
    ctx: ServiceContext, f: Funded, tmp_path: Path, body: str, message: str | None
) -> None:
    a, b, _c = ndis_month(ctx, f)
    good = line(a, "193.99")
    bad = {
        "{a}": line(a, "193.99"),
        "INV-NOPE": line("INV-NOPE", "10.00"),
        "garbage": line(b, "lots"),
        "over": line(b, "200.00"),
    }[body]
    before = (count(ctx, Payment), count(ctx, PaymentAllocation), count(ctx, RemittanceImport))
    path = remittance(tmp_path, good + bad)
    if message is None:  # one claim on two lines: refused when together they pay too much
        message = "is paid \\$387.98 but its invoice owes \\$193.99"
    with pytest.raises(ValidationFailed, match=message):
        import_remittance(ctx, path)
    after = (count(ctx, Payment), count(ctx, PaymentAllocation), count(ctx, RemittanceImport))
    assert after == before
    assert {r.status for r in claims_svc.list_claims(ctx)} == {ClaimStatus.PREPARED}


def test_a_line_matching_two_claims_is_refused(
    ctx: ServiceContext, f: Funded, tmp_path: Path
) -> None:
    _a, _b, _c = ndis_month(ctx, f)
    with ctx.write("same reference twice") as s:
        for claim in s.scalars(select(Claim)):
            claim.reference = "DUP-1"
    with pytest.raises(RemittanceProblems, match="matches 3 claims"):
        import_remittance(ctx, remittance(tmp_path, line("DUP-1", "193.99")))
    assert count(ctx, Payment) == 0


def test_terminal_result_and_medicare_dva_summary(ctx: ServiceContext, f: Funded) -> None:
    appt = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    claims_svc.prepare_claims(ctx)
    summary = claims_svc.medicare_dva_summary(ctx, date(2026, 11, 1), date(2026, 11, 30))
    header, row = summary.split("\r\n")[:2]
    assert "Referrer provider number" in header
    assert "NX123456" in row and "F560" in row and "4412345B" in row and "72.55" in row
    (claim,) = claims_svc.list_claims(ctx)
    with pytest.raises(ValidationFailed, match="add up to"):
        claims_svc.record_terminal_result(ctx, claim.id, claims_svc.TerminalResult(5_000, 0))
    claims_svc.record_terminal_result(
        ctx, claim.id, claims_svc.TerminalResult(7_255, 0, reference="HC-88812")
    )
    (claim,) = claims_svc.list_claims(ctx)
    assert claim.status is ClaimStatus.PAID and claim.paid_cents == 7_255
    with pytest.raises(ValidationFailed, match="Say why"):
        claims_svc.reject_claim(ctx, claim.id, "  ")


def test_claims_outstanding_by_funder_and_age(ctx: ServiceContext, f: Funded) -> None:
    ndis_month(ctx, f)
    appt = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    claims_svc.prepare_claims(ctx)
    rows = claims_svc.outstanding_by_funder(ctx, date(2027, 1, 15))
    assert [(r.funder, r.claims, r.total_cents) for r in rows] == [
        ("NDIA", 3, 3 * 19_399),
        ("Department of Veterans' Affairs", 1, 7_255),
    ]
    assert rows[0].buckets["31-60"] == 3 * 19_399  # issued 27 Nov 2026, 49 days before


def test_another_funders_remittance_through_a_generic_mapping(
    ctx: ServiceContext, f: Funded, tmp_path: Path
) -> None:
    from frontdesk.domain.ndis import RemittanceMapping

    appt = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    number = billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    claims_svc.prepare_claims(ctx)
    path = tmp_path / "dva_remittance.csv"
    path.write_text(f"Invoice No,Benefit Paid,Comment\n{number},$72.55,\n")
    with pytest.raises(ValidationFailed, match="no “ClaimReference”"):
        import_remittance(ctx, path)
    mapping = RemittanceMapping(reference="Invoice No", paid="Benefit Paid", error="Comment")
    result = import_remittance(ctx, path, mapping)
    assert (result.paid, result.paid_cents) == (1, 7_255)
    (claim,) = claims_svc.list_claims(ctx)
    assert claim.status is ClaimStatus.PAID
    assert billing.invoice_view(ctx, claim.invoice_id).owing_cents == 0


def test_merging_patients_moves_their_plans_and_undo_puts_them_back(
    ctx: ServiceContext, f: Funded
) -> None:
    from frontdesk.services.patients.merge import merge_patients, undo_merge

    merge_id = merge_patients(ctx, f.participant, f.cdm_patient)
    kinds = sorted(p.kind.value for p in list_plans(ctx, f.participant))
    assert kinds == ["medicare_cdm", "ndis"]
    undo_merge(ctx, merge_id)
    assert [p.kind.value for p in list_plans(ctx, f.cdm_patient)] == ["medicare_cdm"]


def test_a_remittance_is_audited_once_and_every_row_still_syncs(
    ctx: ServiceContext, f: Funded, tmp_path: Path
) -> None:
    """The import records one audit event saying what it did (not one per claim and per
    allocation: 30,000 rows for a 5,000-line file); each claim's change and each allocation
    still has its outbox row, so every desk receives them, and the chain stays intact."""
    from frontdesk.models import Claim, PaymentAllocation
    from frontdesk.services.audit import verify_chain

    a, b, c = ndis_month(ctx, f)
    path = remittance(
        tmp_path,
        line(a, "193.99") + line(b, "150.00") + line(c, "0.00", "ERROR", "Plan budget exceeded"),
    )
    with ctx.read() as s:
        before = s.scalar(select(func.max(AuditEvent.device_seq))) or 0
    result = import_remittance(ctx, path)
    with ctx.read() as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.entity, AuditEvent.summary)
            .where(AuditEvent.device_seq > before)
            .order_by(AuditEvent.device_seq)
        ).all()
        claim_ids = s.scalars(select(Claim.id)).all()
        alloc_ids = s.scalars(
            select(PaymentAllocation.id).where(PaymentAllocation.payment_id.in_(result.payment_ids))
        ).all()
        logged = {
            (r.entity, r.row_id, r.op)
            for r in s.scalars(select(SyncOutbox).where(SyncOutbox.entity != "audit_events"))
        }
    assert [e for e in events if e.entity in ("claims", "payment_allocations")] == []
    assert len(events) <= 4  # the payment, the import's row, its summary (not 5 rows' worth)
    (event,) = [e for e in events if e.summary]
    assert (event.action, event.entity) == ("import a remittance", "remittance_imports")
    assert event.summary == (
        "payment_report.csv: 3 lines, $343.99 received — 1 paid, 1 part-paid, 1 rejected; "
        "3 claims and 2 allocations changed"
    )
    assert len(alloc_ids) == 2
    assert {("claims", i, "update") for i in claim_ids} <= logged
    assert {("payment_allocations", i, "insert") for i in alloc_ids} <= logged
    assert verify_chain(ctx).intact
