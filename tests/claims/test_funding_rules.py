"""The funders' published rules, as pure functions (frontdesk/domain/funding.py, ndis.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.funding import (
    MEDICARE_ALLIED_HEALTH_ITEMS,
    Budget,
    NdisManagement,
    PlanFacts,
    PlanKind,
    SessionFacts,
    Severity,
    check_plan_record,
    check_session,
    gst_free,
    medicare_item_for,
    runs_out_soon,
    worst,
)
from frontdesk.domain.ndis import (
    BULK_PAYMENT_COLUMNS,
    BulkClaimLine,
    bulk_payment_request,
    check_price,
    match_remittance,
    parse_remittance,
    parse_support_catalogue,
)

DATA = Path(__file__).parent / "data"

CDM = PlanFacts(
    PlanKind.MEDICARE_CDM,
    starts_on=date(2026, 1, 10),
    referrer_name="Dr Amelia Hart",
    referrer_provider_number="2345671A",
)


def codes(findings: list) -> set[str]:
    return {f.code for f in findings}


# -- Medicare chronic condition items 10950–10970 ------------------------------------------
def test_the_13_allied_health_items_10950_to_10970() -> None:
    assert len(MEDICARE_ALLIED_HEALTH_ITEMS) == 13
    assert min(MEDICARE_ALLIED_HEALTH_ITEMS) == "10950"
    assert max(MEDICARE_ALLIED_HEALTH_ITEMS) == "10970"
    assert medicare_item_for("Physiotherapist") == "10960"
    assert medicare_item_for("Podiatrist") == "10962"
    assert medicare_item_for("Massage therapist") is None


def test_fifth_medicare_visit_of_the_year_warns_and_sixth_is_refused() -> None:
    fifth = check_session(CDM, SessionFacts(date(2026, 6, 1), 30), used_in_plan=4, used_in_year=4)
    assert [f.message for f in fifth] == ["5th of 5 Medicare visits in 2026"]
    assert worst(fifth) is Severity.WARNING
    sixth = check_session(CDM, SessionFacts(date(2026, 6, 8), 30), used_in_plan=5, used_in_year=5)
    assert worst(sixth) is Severity.ERROR
    assert "6th Medicare visit in 2026: only 5 a year are paid." in [f.message for f in sixth]
    third = check_session(CDM, SessionFacts(date(2026, 3, 1), 30), used_in_plan=0, used_in_year=2)
    assert worst(third) is Severity.INFO


def test_medicare_services_shorter_than_20_minutes_or_in_a_group_are_not_paid() -> None:
    assert "too_short" in codes(
        check_session(CDM, SessionFacts(date(2026, 3, 1), 19), used_in_plan=0)
    )
    assert "too_short" not in codes(
        check_session(CDM, SessionFacts(date(2026, 3, 1), 20), used_in_plan=0)
    )
    group = check_session(CDM, SessionFacts(date(2026, 3, 1), 45, one_to_one=False), used_in_plan=0)
    assert "not_one_to_one" in codes(group)


def test_a_referral_without_a_provider_number_is_refused() -> None:
    plan = PlanFacts(PlanKind.MEDICARE_CDM, referrer_name="Dr Hart")
    problems = check_plan_record(plan)
    assert "no_provider_number" in codes(problems)
    assert "provider number" in problems[0].message


def test_mental_health_plan_allows_10_a_calendar_year() -> None:
    mh = PlanFacts(PlanKind.MENTAL_HEALTH, referrer_name="Dr A", referrer_provider_number="1")
    f = check_session(mh, SessionFacts(date(2026, 2, 1), 50), used_in_plan=9, used_in_year=9)
    assert f[0].message == "10th of 10 Better Access sessions in 2026"


# -- DVA and WorkCover -------------------------------------------------------------------------
def test_dva_referral_lasts_12_sessions_or_12_months() -> None:
    dva = PlanFacts(
        PlanKind.DVA,
        starts_on=date(2026, 3, 15),
        referrer_name="Dr B",
        referrer_provider_number="2",
    )
    assert dva.last_day() == date(2027, 3, 14)
    twelfth = check_session(dva, SessionFacts(date(2026, 9, 1), 30), used_in_plan=11)
    assert [f.message for f in twelfth] == ["12th of 12 approved DVA sessions"]
    late = check_session(dva, SessionFacts(date(2027, 3, 15), 30), used_in_plan=1)
    assert [f.message for f in late if f.code == "expired"] == [
        "The DVA referral expires on 14 Mar 2027, before this date."
    ]
    assert "over_approved" in codes(
        check_session(dva, SessionFacts(date(2026, 9, 1), 30), used_in_plan=12)
    )


def test_workcover_counts_approved_sessions_and_needs_a_claim_number() -> None:
    wc = PlanFacts(PlanKind.WORKCOVER, approved_sessions=8, expires_on=date(2026, 12, 31))
    assert check_plan_record(wc)[0].message == "A WorkCover claim needs the insurer's claim number."
    wc = PlanFacts(
        PlanKind.WORKCOVER, approved_sessions=8, expires_on=date(2026, 12, 31), claim_number="C1"
    )
    assert check_plan_record(wc) == []
    assert "over_approved" in codes(
        check_session(wc, SessionFacts(date(2026, 5, 1), 30), used_in_plan=8)
    )


# -- NDIS budgets and price limits ----------------------------------------------------------
def test_ndis_budget_left_and_over_budget() -> None:
    ndis = PlanFacts(
        PlanKind.NDIS,
        starts_on=date(2026, 1, 1),
        expires_on=date(2026, 12, 31),
        ndis_management=NdisManagement.AGENCY,
        budgets=(Budget("Capacity Building", 100_000, 82_000),),
    )
    ok = check_session(
        ndis,
        SessionFacts(date(2026, 5, 1), 60, price_cents=15_000, ndis_category="Capacity Building"),
        used_in_plan=0,
    )
    assert [f.message for f in ok] == ["NDIS Capacity Building budget has $180.00 left"]
    assert worst(ok) is Severity.WARNING  # not enough left for another one
    over = check_session(
        ndis,
        SessionFacts(date(2026, 5, 1), 60, price_cents=19_399, ndis_category="Capacity Building"),
        used_in_plan=0,
    )
    assert worst(over) is Severity.ERROR
    assert "over budget" in over[0].message


def test_support_catalogue_sample_reads_the_published_price_limits() -> None:
    items = parse_support_catalogue((DATA / "ndis_support_catalogue_sample.csv").read_text())
    by_number = {i.number: i for i in items}
    physio = by_number["15_055_0128_1_3"]
    assert physio.unit == "H"
    assert physio.price_limit("NSW") == 19_399
    assert physio.price_limit("Remote") == 27_159
    assert physio.price_limit("Very Remote") == 29_099
    assert physio.category_name == "Improved Daily Living Skills"
    assert physio.starts_on == date(2024, 7, 1)
    hoist = by_number["05_122203111_0103_1_2"]
    assert hoist.quote and hoist.price_limit("NSW") is None
    check_price(physio, "NSW", 19_399)
    with pytest.raises(ValidationFailed, match=r"above the NDIS price limit .* \(\$193.99\)"):
        check_price(physio, "NSW", 19_400)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Item,Name\n1,2\n", "not the NDIS support catalogue"),
        (
            "Support Item Number,Support Item Name,Unit,NSW\n01_1,X,H,$12.345\n",
            r"Line 2 \(01_1\)",
        ),
        ("Support Item Number,Support Item Name,Unit,NSW\n01_1,X,H,1\n01_1,X,H,2\n", "twice"),
    ],
)
def test_a_bad_catalogue_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_support_catalogue(text)


def test_gst_free_status_of_funded_supports() -> None:
    for kind in PlanKind:
        free, reason = gst_free(kind)
        assert free and "GST Act" in reason
    assert "38-38" in gst_free(PlanKind.NDIS)[1]
    assert "38-10" in gst_free(PlanKind.MEDICARE_CDM)[1]


# -- the bulk payment request and its payment report ------------------------------------------
def test_bulk_payment_request_has_the_published_columns() -> None:
    csv_text = bulk_payment_request(
        [
            BulkClaimLine(
                registration_number="4050012345",
                ndis_number="430123456",
                delivered_from=date(2026, 5, 4),
                delivered_to=date(2026, 5, 4),
                support_number="15_055_0128_1_3",
                claim_reference="INV-00042",
                quantity=Decimal("1.00"),
                unit_price_cents=19_399,
                abn="53 004 085 616",
            )
        ]
    )
    header, row = csv_text.split("\r\n")[:2]
    assert header.split(",") == list(BULK_PAYMENT_COLUMNS)
    assert len(BULK_PAYMENT_COLUMNS) == 16
    assert row == (
        "4050012345,430123456,2026-05-04,2026-05-04,15_055_0128_1_3,INV-00042,1.00,,193.99,P1,"
        ",,,,,53004085616"
    )


def test_remittance_lines_match_exactly_one_claim() -> None:
    text = (
        "ClaimReference,Claimed Amount,Paid Total Amount,Payment Request Status,Error Message\n"
        "INV-1,$193.99,$193.99,PAID,\n"
        "INV-2,193.99,150.00,PAID,\n"
        "INV-3,193.99,0,ERROR,Plan budget exceeded\n"
        "INV-9,193.99,193.99,PAID,\n"
        "INV-D,193.99,193.99,PAID,\n"
    )
    lines = parse_remittance(text)
    assert [(x.reference, x.paid_cents) for x in lines][:3] == [
        ("INV-1", 19_399),
        ("INV-2", 15_000),
        ("INV-3", 0),
    ]
    assert lines[2].rejected and lines[2].error == "Plan budget exceeded"
    matched, problems = match_remittance(
        lines, {"INV-1": ["c1"], "INV-2": ["c2"], "INV-3": ["c3"], "INV-D": ["c4", "c5"]}
    )
    assert matched == {2: "c1", 3: "c2", 4: "c3"}
    assert problems == [
        "Line 5: no claim has the reference INV-9.",
        "Line 6: the reference INV-D matches 2 claims.",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "no “ClaimReference” or “Paid Total Amount” column"),
        ("ClaimReference,Paid Total Amount\nINV-1,abc\n", r"Line 2 \(INV-1\)"),
        ("ClaimReference,Paid Total Amount\n,1.00\n", "Line 2 has no claim reference"),
        ("ClaimReference,Paid Total Amount\nINV-1,1.00,extra\n", "more fields than the header"),
        ("ClaimReference,Paid Total Amount\n", "no lines"),
    ],
)
def test_a_malformed_remittance_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_remittance(text)


def test_plans_running_out_soon() -> None:
    dva = PlanFacts(PlanKind.DVA, starts_on=date(2026, 1, 1))
    assert runs_out_soon(dva, 3, date(2026, 12, 10)) == "expires 31 Dec 2026"
    assert runs_out_soon(dva, 11, date(2026, 6, 1)) == "1 of 12 sessions left"
    assert runs_out_soon(dva, 3, date(2026, 6, 1)) is None
