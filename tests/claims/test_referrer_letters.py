"""Reports to the referring GP after the first and last service (issue 19 item 6): a PDF letter
from the template, read back with pypdf, and tracking that it was sent."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import pytest
from claims_world import Funded, make_funded, session
from pypdf import PdfReader

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.services.claims.letters import (
    TEMPLATE,
    ReportKind,
    letter_template,
    mark_report_sent,
    preview_letter,
    referrer_letter,
    reports_due,
    save_letter_template,
)
from frontdesk.store.context import ServiceContext


@pytest.fixture
def f(ctx: ServiceContext) -> Funded:
    return make_funded(ctx)


def text_of(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_first_and_last_service_letters_and_what_is_due(ctx: ServiceContext, f: Funded) -> None:
    with pytest.raises(RuleViolation, match="No sessions"):
        referrer_letter(ctx, f.cdm_plan, "first")
    session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 3, 2))
    assert [(d.patient_name, d.kind) for d in reports_due(ctx)] == [
        ("Maria Santos", ReportKind.FIRST)
    ]
    text = text_of(referrer_letter(ctx, f.cdm_plan, "first"))
    assert "Dear Dr Amelia Hart" in text
    assert "Provider number 2345671A" in text
    assert "first session with Ruby Esposito on 2 Mar 2026" in text
    assert "Harbourside Health" in text
    assert "under their Medicare chronic condition management plan" in text
    mark_report_sent(ctx, f.cdm_plan, "first")
    assert reports_due(ctx) == []
    for m in (4, 5, 6, 7):
        session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, m, 6))
    assert [d.kind for d in reports_due(ctx)] == [ReportKind.LAST]
    pdf = referrer_letter(ctx, f.cdm_plan, ReportKind.LAST)
    if os.environ.get("FRONTDESK_SHOTS"):  # to look at by hand
        (Path(os.environ["FRONTDESK_SHOTS"]) / "referrer_letter_last.pdf").write_bytes(pdf)
    text = text_of(pdf)
    assert "completed 5 of 5 services with Ruby Esposito, from 2 Mar 2026 to 6 Jul 2026" in text
    mark_report_sent(ctx, f.cdm_plan, "last")
    assert reports_due(ctx) == []


def test_the_clinics_own_letter_with_placeholders(ctx: ServiceContext, f: Funded) -> None:
    session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 3, 2))
    own = (
        "Dear {referrer} ({provider_number}),\n\n"
        "{patient_first} has had {sessions} of {limit} sessions since {first_session}.\n\n"
        "Kind regards,\n{practitioner}, {profession}"
    )
    preview = preview_letter(own, "last")
    assert preview.startswith("Dear Dr Amelia Hart (2345671A),")
    assert "Maria has had 5 of 5 sessions since 2 Mar 2026." in preview
    save_letter_template(ctx, own)
    assert letter_template(ctx) == own
    text = text_of(referrer_letter(ctx, f.cdm_plan, "first"))
    assert "Dear Dr Amelia Hart (2345671A)," in text
    assert "Maria has had 1 of 5 sessions since 2 Mar 2026." in text
    save_letter_template(ctx, "")  # back to the built-in letter
    assert letter_template(ctx) == TEMPLATE


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Dear {referer},", r"Unknown placeholder \{referer\}\. Use one of: \{referrer\}"),
        ("Dear {referrer,", "has no partner"),
        ("Costs {}", r"Unknown placeholder \{\}"),
        ("   ", "cannot be empty"),
    ],
)
def test_a_bad_template_is_refused_and_the_old_one_kept(
    ctx: ServiceContext, template: str, message: str
) -> None:
    save_letter_template(ctx, "Dear {referrer},\n\nThank you.")
    with pytest.raises(ValidationFailed, match=message):
        preview_letter(template)
    with pytest.raises(ValidationFailed, match=message):
        save_letter_template(ctx, template)
    assert letter_template(ctx) == "Dear {referrer},\n\nThank you."
