"""Merging a duplicate patient into a survivor, and undoing it (an admin's decision).

Everything that belongs to the duplicate moves to the survivor: appointments, group-class
attendances, invoices, payments, funding memberships, alerts, waitlist entries, messages. Empty
fields of the survivor are filled from the duplicate, and its admin notes are appended. The
duplicate is archived with ``merged_into_id`` set. A PatientMerge row keeps the ids moved and the
survivor's fields before, which is what undo needs; every change is audited by the flush hook.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation
from frontdesk.models import (
    Appointment,
    AppointmentAttendee,
    FundingMembership,
    FundingPlan,
    InboundMessage,
    Invoice,
    OutgoingMessage,
    Patient,
    PatientAlert,
    PatientDuplicate,
    PatientMerge,
    Payment,
    WaitlistEntry,
)
from frontdesk.models.codec import from_json_value, to_json_value
from frontdesk.services.patients.records import EDITABLE, get_patient
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracking import record_event

MOVABLE: tuple[type[Any], ...] = (
    Appointment, AppointmentAttendee, Invoice, Payment, FundingMembership, PatientAlert,
    WaitlistEntry, OutgoingMessage, InboundMessage, FundingPlan,
)  # fmt: skip
_NOT_FILLED = {"sms_consent", "email_consent", "country", "admin_notes"}


def merge_patients(ctx: ServiceContext, survivor_id: str, duplicate_id: str) -> str:
    """Merge ``duplicate_id`` into ``survivor_id``; returns the merge's id (for undo)."""
    require(ctx.actor, Action.MERGE_PATIENTS)
    if survivor_id == duplicate_id:
        raise RuleViolation("Choose two different patients to merge.")
    with ctx.write("merge patients") as session:
        survivor = get_patient(session, survivor_id)
        duplicate = get_patient(session, duplicate_id)
        for p in (survivor, duplicate):
            if p.merged_into_id:
                raise RuleViolation(
                    f"{p.first_name} {p.last_name} was already merged into another card."
                )
        moved: dict[str, list[str]] = {}
        for model in MOVABLE:
            rows = session.scalars(select(model).where(model.patient_id == duplicate_id)).all()
            for row in rows:
                row.patient_id = survivor_id
            if rows:
                moved[model.__tablename__] = [r.id for r in rows]
        before: dict[str, Any] = {}
        for key in sorted(EDITABLE - _NOT_FILLED):
            mine, theirs = getattr(survivor, key), getattr(duplicate, key)
            if (mine is None or mine == "") and theirs not in (None, ""):
                before[key] = to_json_value(mine)
                setattr(survivor, key, theirs)
        if duplicate.admin_notes.strip():
            before["admin_notes"] = survivor.admin_notes
            note = f"From merged card {duplicate.patient_number}: {duplicate.admin_notes.strip()}"
            survivor.admin_notes = (survivor.admin_notes.rstrip() + "\n\n" + note).strip()
        if survivor.last_seen_at is None or (
            duplicate.last_seen_at is not None and duplicate.last_seen_at > survivor.last_seen_at
        ):
            before["last_seen_at"] = to_json_value(survivor.last_seen_at)
            survivor.last_seen_at = duplicate.last_seen_at
        now = ctx.clock.now()
        duplicate.merged_into_id = survivor_id
        before["__duplicate_archived_at"] = to_json_value(duplicate.archived_at)
        duplicate.archived_at = duplicate.archived_at or now
        _resolve_flags(session, survivor_id, duplicate_id, ctx, "merged")
        merge = PatientMerge(
            survivor_id=survivor_id, merged_id=duplicate_id, merged_at=now,
            merged_by_id=ctx.actor.staff_user_id, moved_json=json.dumps(moved),
            survivor_before_json=json.dumps(before),
        )  # fmt: skip
        session.add(merge)
        session.flush()
        record_event(
            session, "merge patients", entity="patient_merges", entity_id=merge.id,
            patient_id=survivor_id,
            summary=f"Merged {duplicate.patient_number} into {survivor.patient_number}; "
            + ", ".join(f"{len(v)} {k}" for k, v in moved.items()),
        )  # fmt: skip
        return merge.id


def _resolve_flags(
    session: Session, a: str, b: str, ctx: ServiceContext, resolution: str | None
) -> None:
    flags = session.scalars(
        select(PatientDuplicate).where(
            ((PatientDuplicate.patient_id == a) & (PatientDuplicate.other_patient_id == b))
            | ((PatientDuplicate.patient_id == b) & (PatientDuplicate.other_patient_id == a))
        )
    ).all()
    for flag in flags:
        flag.resolved_at = ctx.clock.now() if resolution else None
        flag.resolved_by_id = ctx.actor.staff_user_id if resolution else None
        flag.resolution = resolution


def undo_merge(ctx: ServiceContext, merge_id: str) -> None:
    """Put back what a merge moved and un-archive the duplicate. Rows added to the survivor
    after the merge stay with the survivor."""
    require(ctx.actor, Action.UNDO_MERGE)
    with ctx.write("undo a patient merge") as session:
        merge = session.get(PatientMerge, merge_id)
        if merge is None:
            raise NotFound("That merge is not on record.")
        if merge.undone_at is not None:
            raise RuleViolation("This merge was already undone.")
        survivor = get_patient(session, merge.survivor_id)
        duplicate = get_patient(session, merge.merged_id)
        by_table = {m.__tablename__: m for m in MOVABLE}
        for table, ids in json.loads(merge.moved_json).items():
            model = by_table[table]
            for row in session.scalars(select(model).where(model.id.in_(ids))):
                if row.patient_id == merge.survivor_id:
                    row.patient_id = merge.merged_id
        before: dict[str, Any] = json.loads(merge.survivor_before_json)
        archived = before.pop("__duplicate_archived_at", None)
        columns: Any = Patient.__table__.c
        for key, value in before.items():
            setattr(survivor, key, from_json_value(columns[key], value))
        duplicate.merged_into_id = None
        duplicate.archived_at = from_json_value(columns["archived_at"], archived)
        _resolve_flags(session, merge.survivor_id, merge.merged_id, ctx, None)
        merge.undone_at = ctx.clock.now()
        merge.undone_by_id = ctx.actor.staff_user_id
        record_event(
            session, "undo a patient merge", entity="patient_merges", entity_id=merge.id,
            patient_id=merge.survivor_id,
            summary=f"Separated {duplicate.patient_number} from {survivor.patient_number} again",
        )  # fmt: skip
