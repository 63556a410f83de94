"""Scanned referrals (issue 19): attached on one desk, synced through the clinic server in
pieces (a 7 MB scan is more than one push may carry), opened on another desk with the same
bytes; a file too large, empty or of another kind is refused with the reason, nothing saved."""

from __future__ import annotations

import os
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from frontdesk.domain.errors import ValidationFailed
from frontdesk.models import DocumentChunk, PlanDocument
from frontdesk.protocol import MAX_BODY_BYTES
from frontdesk.services.claims.documents import (
    MAX_BYTES,
    attach_document,
    document_bytes,
    export_document,
    list_documents,
)
from frontdesk.services.claims.plans import PlanInput, save_plan
from tests.sync.clinic import Clinic


def noise_png(path: Path, width: int, height: int) -> Path:
    """A real PNG of random pixels (incompressible, so the file is as large as asked)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )
    return path


def test_a_scan_attached_on_one_desk_opens_on_another(any_clinic: Clinic, tmp_path: Path) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient("Maria", "Santos")
    plan = save_plan(
        a.ctx, patient,
        PlanInput(kind="medicare_cdm", referrer_name="Dr Hart",
                  referrer_provider_number="2345671A", starts_on=date(2026, 1, 5)),
    )  # fmt: skip
    scan = noise_png(tmp_path / "referral scan.png", 1600, 1500)
    assert MAX_BODY_BYTES < scan.stat().st_size * 4 / 3 < MAX_BYTES * 4 / 3
    doc = attach_document(a.ctx, patient, scan, plan_id=plan, note="GP referral")
    clinic.settle()
    (seen,) = list_documents(b.ctx, patient)
    assert (seen.id, seen.plan_id, seen.file_name, seen.media_type, seen.complete) == (
        doc, plan, "referral scan.png", "image/png", True,
    )  # fmt: skip
    _info, data = document_bytes(b.ctx, doc)
    assert data == scan.read_bytes()
    out = export_document(b.ctx, doc, tmp_path / "viewer")
    assert out.suffix == ".png" and out.read_bytes() == scan.read_bytes()
    clinic.assert_converged()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_text("Dear Doctor, ..."), "is not a PDF, JPEG or PNG file"),
        (lambda p: p.write_bytes(b"%PDF-1.4\n" + b"0" * (MAX_BYTES + 1)), "at most 10 MB"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_saved(
    clinic: Clinic, tmp_path: Path, make: object, message: str
) -> None:
    a = clinic.add_desk()
    patient = a.add_patient()
    path = tmp_path / "referral.pdf"
    make(path)  # type: ignore[operator]
    with pytest.raises(ValidationFailed, match=message):
        attach_document(a.ctx, patient, path)
    with pytest.raises(ValidationFailed, match="could not be read"):
        attach_document(a.ctx, patient, tmp_path / "missing.pdf")
    with a.ctx.read() as s:
        for model in (PlanDocument, DocumentChunk):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_a_removed_scan_goes_from_every_desk_with_its_bytes(clinic: Clinic, tmp_path: Path) -> None:
    """Removed on one desk: gone from the card on the other once synced, its pieces emptied
    there too (the scan is health information), and the removal is in the audit trail."""
    from frontdesk.models import AuditEvent
    from frontdesk.services.claims.documents import remove_document

    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient("Maria", "Santos")
    scan = noise_png(tmp_path / "referral.png", 300, 300)
    doc = attach_document(a.ctx, patient, scan)
    clinic.settle()
    assert [d.id for d in list_documents(b.ctx, patient)] == [doc]
    remove_document(a.ctx, doc)
    clinic.settle()
    for desk in (a, b):
        assert list_documents(desk.ctx, patient) == []
        with desk.ctx.read() as s:
            pieces = s.scalars(select(DocumentChunk).where(DocumentChunk.document_id == doc))
            left = {(p.deleted_at is not None, p.data) for p in pieces}
            assert left == {(True, b"")}
    with a.ctx.read() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity == "plan_documents", AuditEvent.entity_id == doc
            )
        ).all()
    assert len(actions) == 2 and actions[0] != actions[1]  # attached, then removed
    with pytest.raises(Exception, match="no longer on the patient's card"):
        remove_document(b.ctx, doc)
    clinic.assert_converged()
