"""Scanned referrals and approvals kept with the patient (issue 19): a PDF, JPEG or PNG stored
in the desk's database and synced to every desk like any record. A synced change carries at most
``protocol.MAX_FIELDS_BYTES``, so the bytes are stored in pieces (``document_chunks``) and put
back together, checked against the SHA-256 taken when the file was attached."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, ValidationFailed
from frontdesk.models import DocumentChunk, FundingPlan, Patient, PlanDocument
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

MAX_BYTES = 10 * 1024 * 1024
# Base64 makes a piece a third larger; with the other fields a change stays under 64 KB.
CHUNK_BYTES = 32 * 1024

# What the file starts with decides its kind (not its name).
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
)
SUFFIX = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class DocumentView:
    id: str
    patient_id: str
    plan_id: str | None
    file_name: str
    media_type: str
    size_bytes: int
    attached_at: datetime
    complete: bool  # every piece has arrived on this desk


def media_type_of(data: bytes) -> str | None:
    for magic, media, _label in _SIGNATURES:
        if data.startswith(magic):
            return media
    return None


def attach_document(
    ctx: ServiceContext,
    patient_id: str,
    path: Path,
    *,
    plan_id: str | None = None,
    note: str = "",
) -> str:
    """Keep a scanned referral with the patient (and a plan). Refuses, with the reason and
    nothing saved, a file that cannot be read, is empty or too large, or is not a PDF, JPEG or
    PNG."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValidationFailed(
                f"{path.name} is {size / 1024 / 1024:.1f} MB; a document can be at most "
                f"{MAX_BYTES // 1024 // 1024} MB. Scan it at a lower resolution or in black "
                "and white and attach it again.",
                field="file",
            )
        data = path.read_bytes()
    except OSError as e:
        raise ValidationFailed(
            f"{path.name} could not be read: {e.strerror}.", field="file"
        ) from None
    if not data:
        raise ValidationFailed(f"{path.name} is empty.", field="file")
    media = media_type_of(data)
    if media is None:
        raise ValidationFailed(
            f"{path.name} is not a PDF, JPEG or PNG file. Save the scan in one of those and "
            "attach it again.",
            field="file",
        )
    with ctx.write("attach a document") as s:
        patient = s.get(Patient, patient_id)
        if patient is None or patient.deleted_at is not None:
            raise NotFound("That patient no longer exists.")
        if plan_id is not None:
            plan = s.get(FundingPlan, plan_id)
            if plan is None or plan.deleted_at is not None or plan.patient_id != patient_id:
                raise NotFound("That plan is no longer on the patient's card.")
        return store_document(s, patient_id, path.name, media, data, plan_id=plan_id, note=note)


def store_document(
    s: Session,
    patient_id: str,
    file_name: str,
    media_type: str,
    data: bytes,
    *,
    plan_id: str | None = None,
    note: str = "",
    kind: str = "referral",
) -> str:
    """Write a document and its pieces in the caller's transaction; returns its id."""
    pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
    doc = PlanDocument(
        patient_id=patient_id,
        plan_id=plan_id,
        file_name=file_name[:200],
        media_type=media_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        chunk_count=len(pieces),
        note=note.strip()[:200],
        kind=kind,
    )
    s.add(doc)
    s.flush()
    s.add_all(DocumentChunk(document_id=doc.id, seq=n, data=b) for n, b in enumerate(pieces))
    return doc.id


def read_document(s: Session, document_id: str) -> tuple[PlanDocumentFile, bytes]:
    """A document's name and bytes, put back together and checked, in the caller's session.
    Refused while pieces are still on their way from another desk, or if they do not add up."""
    doc = s.get(PlanDocument, document_id)
    if doc is None or doc.deleted_at is not None:
        raise NotFound("That document is no longer on the patient's card.")
    pieces = list(
        s.scalars(
            select(DocumentChunk.data)
            .where(DocumentChunk.document_id == document_id, DocumentChunk.deleted_at.is_(None))
            .order_by(DocumentChunk.seq)
        )
    )
    info = PlanDocumentFile(doc.file_name, doc.media_type)
    if len(pieces) < doc.chunk_count:
        raise ValidationFailed(
            f"{info.file_name} has not fully arrived from the desk that attached it yet "
            f"({len(pieces)} of {doc.chunk_count} parts). Try again after the next sync."
        )
    data = b"".join(pieces)
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise ValidationFailed(f"{info.file_name} is damaged on this desk (its check failed).")
    return info, data


def list_documents(ctx: ServiceContext, patient_id: str) -> list[DocumentView]:
    """The patient's documents, newest first; ``complete`` is False while pieces are still on
    their way from another desk."""
    require(ctx.actor, Action.VIEW_PATIENTS)
    arrived = (
        select(func.count())
        .select_from(DocumentChunk)
        .where(DocumentChunk.document_id == PlanDocument.id, DocumentChunk.deleted_at.is_(None))
        .scalar_subquery()
    )
    with ctx.read() as s:
        rows = s.execute(
            select(PlanDocument, arrived)
            .where(
                PlanDocument.patient_id == patient_id,
                PlanDocument.kind == "referral",
                PlanDocument.deleted_at.is_(None),
            )
            .order_by(PlanDocument.created_at.desc())
        ).all()
        return [
            DocumentView(
                d.id,
                d.patient_id,
                d.plan_id,
                d.file_name,
                d.media_type,
                d.size_bytes,
                d.created_at,
                n == d.chunk_count,
            )
            for d, n in rows
        ]


def document_bytes(ctx: ServiceContext, document_id: str) -> tuple[PlanDocumentFile, bytes]:
    """The document's file name and bytes, put back together and checked."""
    require(ctx.actor, Action.VIEW_PATIENTS)
    with ctx.read() as s:
        return read_document(s, document_id)


@dataclass(frozen=True)
class PlanDocumentFile:
    file_name: str
    media_type: str


def export_document(ctx: ServiceContext, document_id: str, folder: Path) -> Path:
    """Write the document to ``folder`` (a temporary copy for the system's viewer); returns
    the file's path."""
    info, data = document_bytes(ctx, document_id)
    stem = Path(info.file_name).stem or "document"
    target = folder / f"{stem}-{document_id[-6:]}{SUFFIX.get(info.media_type, '')}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Patient records: readable by this user only, like the desk's own files.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return target


def remove_document(ctx: ServiceContext, document_id: str) -> None:
    """Take a scan off the patient's card on every desk: the document row is deleted (audited,
    synced) and its pieces are emptied and deleted, so the scan's bytes do not stay behind in
    this desk's file, the server or the desks that pull the change."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write("remove a document") as s:
        doc = s.get(PlanDocument, document_id)
        if doc is None or doc.deleted_at is not None:
            raise NotFound("That document is no longer on the patient's card.")
        now = ctx.clock.now()
        doc.deleted_at = now
        for piece in s.scalars(
            select(DocumentChunk).where(
                DocumentChunk.document_id == document_id, DocumentChunk.deleted_at.is_(None)
            )
        ):
            piece.data = b""
            piece.deleted_at = now
