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

from frontdesk.domain.errors import RuleViolation
from frontdesk.services.claims.letters import (
    ReportKind,
    mark_report_sent,
    referrer_letter,
    reports_due,
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
