"""Patient cards: create and edit with validation, consents, alerts, funding memberships,
archive and unarchive (never delete), and possible duplicates flagged on creation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from frontdesk.db.types import UUIDKey
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.patient_rules import clean_fields
from frontdesk.domain.patient_text import digits, fold, tokens
from frontdesk.domain.vocab import FunderKind, SeriesKind
from frontdesk.models import FundingMembership, Patient, PatientAlert, PatientDuplicate
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number

EDITABLE = frozenset(
    c.key
    for c in Patient.__table__.columns
    if c.key
    not in {
        "id", "version", "created_at", "updated_at", "deleted_at", "patient_number",
        "archived_at", "merged_into_id", "last_seen_at", "sms_consent_at", "email_consent_at",
        "privacy_consent_at",
    }
)  # fmt: skip


@dataclass(frozen=True)
class DuplicateCandidate:
    patient_id: str
    patient_number: str
    name: str
    reason: str


@dataclass(frozen=True)
class Created:
    patient_id: str
    patient_number: str
    duplicates: list[DuplicateCandidate]


def today(ctx: ServiceContext) -> date:
    return ctx.clock.now().astimezone(ctx.tz).date()


def _unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE - {"sms_consent", "email_consent"}
    if unknown:
        raise ValueError(f"not patient card fields: {sorted(unknown)}")


def get_patient(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.deleted_at is not None:
        raise NotFound("That patient no longer exists.")
    return patient


def _stamp_consents(patient: Patient, fields: dict[str, Any], now: datetime) -> None:
    for kind in ("sms", "email"):
        key = f"{kind}_consent"
        if key in fields and bool(fields[key]) != bool(getattr(patient, key)):
            setattr(patient, f"{key}_at", now)


def create_patient(ctx: ServiceContext, fields: dict[str, Any]) -> Created:
    """Add a patient with the next patient number; returns possible duplicates (also listed
    for review). Bad input raises ValidationFailed and adds nothing."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    _unknown(fields)
    clean = clean_fields(fields, today(ctx), creating=True)
    with ctx.write("add a patient") as session:
        _series, number = next_number(session, SeriesKind.PATIENT)
        patient = Patient(patient_number=number, first_name="", last_name="")
        for key, value in clean.items():
            setattr(patient, key, value)
        now = ctx.clock.now()
        if clean.get("sms_consent"):
            patient.sms_consent_at = now
        if clean.get("email_consent"):
            patient.email_consent_at = now
        session.add(patient)
        session.flush()
        found = find_duplicates(session, patient)
        for cand in found:
            session.add(
                PatientDuplicate(
                    patient_id=patient.id, other_patient_id=cand.patient_id, reason=cand.reason
                )
            )
        return Created(patient.id, number, found)


# The id of a card not saved yet (it must still be a key: queries exclude it by id).
NOT_SAVED = "00000000-0000-0000-0000-000000000000"


def possible_duplicates(ctx: ServiceContext, fields: dict[str, Any]) -> list[DuplicateCandidate]:
    """Who a new card with these fields might duplicate, asked before creating it (bad input
    raises ``FieldProblems``, as creating would)."""
    require(ctx.actor, Action.VIEW_PATIENTS)
    _unknown(fields)
    clean = clean_fields(fields, today(ctx), creating=True)
    candidate = Patient(id=NOT_SAVED, patient_number="", first_name="", last_name="",
                        mobile_phone="", home_phone="", email="")  # fmt: skip
    for key, value in clean.items():
        setattr(candidate, key, value)
    with ctx.read() as session:
        return find_duplicates(session, candidate)


def update_patient(ctx: ServiceContext, patient_id: str, changes: dict[str, Any]) -> None:
    """Edit fields of a card. Bad input raises ValidationFailed and changes nothing."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    _unknown(changes)
    clean = clean_fields(changes, today(ctx), creating=False)
    with ctx.write("edit a patient card") as session:
        patient = get_patient(session, patient_id)
        if patient.merged_into_id:
            raise RuleViolation("This card was merged into another; edit the other card.")
        _stamp_consents(patient, clean, ctx.clock.now())
        for key, value in clean.items():
            setattr(patient, key, value)


def record_privacy_consent(ctx: ServiceContext, patient_id: str, given: bool = True) -> None:
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write("record privacy consent") as session:
        get_patient(session, patient_id).privacy_consent_at = ctx.clock.now() if given else None


def archive_patient(ctx: ServiceContext, patient_id: str) -> None:
    """Hide a patient from search and lists; the card and its history stay."""
    require(ctx.actor, Action.ARCHIVE_PATIENT)
    with ctx.write("archive a patient") as session:
        patient = get_patient(session, patient_id)
        if patient.archived_at is None:
            patient.archived_at = ctx.clock.now()


def unarchive_patient(ctx: ServiceContext, patient_id: str) -> None:
    require(ctx.actor, Action.ARCHIVE_PATIENT)
    with ctx.write("unarchive a patient") as session:
        patient = get_patient(session, patient_id)
        if patient.merged_into_id:
            raise RuleViolation("This card was merged into another; undo the merge instead.")
        patient.archived_at = None


# -- alerts and funding ---------------------------------------------------------------------------
def add_alert(ctx: ServiceContext, patient_id: str, text: str, severity: str = "warning") -> str:
    require(ctx.actor, Action.EDIT_PATIENTS)
    text = text.strip()
    if not text:
        raise ValidationFailed("Type what the alert says.", field="alert")
    if len(text) > 500:
        raise ValidationFailed("An alert is limited to 500 characters.", field="alert")
    if severity not in ("info", "warning", "danger"):
        raise ValidationFailed("Alert severity is info, warning or danger.", field="severity")
    with ctx.write("add a patient alert") as session:
        get_patient(session, patient_id)
        alert = PatientAlert(patient_id=patient_id, text=text, severity=severity)
        session.add(alert)
        session.flush()
        return alert.id


def _archive_row(
    ctx: ServiceContext, model: type[PatientAlert] | type[FundingMembership], row_id: str,
    action: str, missing: str,
) -> None:  # fmt: skip
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write(action) as session:
        row: Any = session.get(model, row_id)
        if row is None:
            raise NotFound(missing)
        row.archived_at = ctx.clock.now()


def archive_alert(ctx: ServiceContext, alert_id: str) -> None:
    _archive_row(ctx, PatientAlert, alert_id, "remove a patient alert",
                 "That alert no longer exists.")  # fmt: skip


def save_membership(
    ctx: ServiceContext, patient_id: str, fields: dict[str, Any], membership_id: str | None = None
) -> str:
    """Add or edit a funding membership (health fund, DVA, NDIS plan, workers' comp claim…)."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    kind = fields.get("kind")
    if kind is not None and kind not in {k.value for k in FunderKind}:
        raise ValidationFailed("Choose what kind of funding this is.", field="kind")
    if membership_id is None and not kind:
        raise ValidationFailed("Choose what kind of funding this is.", field="kind")
    if "member_number" in fields and not str(fields["member_number"]).strip():
        raise ValidationFailed("The member, card or claim number is needed.", field="member_number")
    allowed = {"funder_id", "kind", "member_number", "reference", "claim_number",
               "plan_manager_name", "valid_from", "valid_until", "notes"}  # fmt: skip
    if set(fields) - allowed:
        raise ValueError(f"not membership fields: {sorted(set(fields) - allowed)}")
    starts, ends = fields.get("valid_from"), fields.get("valid_until")
    if starts and ends and ends < starts:
        raise ValidationFailed("The membership ends before it starts.", field="valid_until")
    with ctx.write("save a funding membership") as session:
        get_patient(session, patient_id)
        if membership_id is None:
            member = FundingMembership(patient_id=patient_id, kind=kind, member_number="")
            session.add(member)
        else:
            found = session.get(FundingMembership, membership_id)
            if found is None or found.patient_id != patient_id:
                raise NotFound("That funding membership no longer exists.")
            member = found
        for key, value in fields.items():
            setattr(member, key, value.strip() if isinstance(value, str) else value)
        session.flush()
        return member.id


def archive_membership(ctx: ServiceContext, membership_id: str) -> None:
    _archive_row(ctx, FundingMembership, membership_id, "remove a funding membership",
                 "That funding membership no longer exists.")  # fmt: skip


# -- duplicates -----------------------------------------------------------------------------------
def _name(p: Patient) -> str:
    return f"{p.first_name} {p.last_name}"


def find_duplicates(session: Session, patient: Patient) -> list[DuplicateCandidate]:
    """Other live patients with the same name and date of birth, the same phone, or the same
    email. Uses the date-of-birth index and the search index, never a table scan."""
    reasons: dict[str, list[str]] = {}
    base = select(Patient).where(
        Patient.id != patient.id, Patient.merged_into_id.is_(None), Patient.deleted_at.is_(None)
    )
    if patient.date_of_birth is not None:
        me = (fold(patient.first_name), fold(patient.last_name))
        for twin in session.scalars(base.where(Patient.date_of_birth == patient.date_of_birth)):
            if (fold(twin.first_name), fold(twin.last_name)) == me:
                reasons.setdefault(twin.id, []).append("same name and date of birth")
    for field in ("mobile_phone", "home_phone"):
        number = digits(getattr(patient, field))
        if len(number) >= 8:
            for pid in _fts_ids(session, f'phones : "{number}"', patient.id):
                reasons.setdefault(pid, []).append("same phone number")
    if patient.email:
        words = tokens(patient.email.replace("@", " ").replace(".", " "))
        phrase = " ".join(words)
        if phrase:
            for pid in _fts_ids(session, f'email : "{phrase}"', patient.id):
                same = session.get(Patient, pid)
                if same is not None and same.email.casefold() == patient.email.casefold():
                    reasons.setdefault(pid, []).append("same email")
    out: list[DuplicateCandidate] = []
    for pid, why in reasons.items():
        other = session.get(Patient, pid)
        if other is None or other.merged_into_id or other.deleted_at:
            continue
        out.append(
            DuplicateCandidate(
                pid, other.patient_number, _name(other), ", ".join(dict.fromkeys(why))
            )
        )
    return out


def _fts_ids(session: Session, match: str, exclude: str) -> list[str]:
    rows = session.execute(
        sql_text(
            "SELECT p.id FROM patients_fts f JOIN patients p ON p.rowid = f.rowid "
            "WHERE patients_fts MATCH :q AND p.id != :me LIMIT 20"
        )
        .bindparams(bindparam("me", type_=UUIDKey()))
        .columns(id=UUIDKey()),
        {"q": match, "me": exclude},
    ).all()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class DuplicatePair:
    flag_id: str
    patient_id: str
    patient_name: str
    patient_number: str
    other_id: str
    other_name: str
    other_number: str
    reason: str


def duplicates_to_review(ctx: ServiceContext) -> list[DuplicatePair]:
    require(ctx.actor, Action.VIEW_PATIENTS)
    other = Patient.__table__.alias("o")
    stmt = (
        select(
            PatientDuplicate.id,
            Patient.id,
            Patient.first_name,
            Patient.last_name,
            Patient.patient_number,
            other.c.id,
            other.c.first_name,
            other.c.last_name,
            other.c.patient_number,
            PatientDuplicate.reason,
        )
        .join(Patient, Patient.id == PatientDuplicate.patient_id)
        .join(other, other.c.id == PatientDuplicate.other_patient_id)
        .where(
            PatientDuplicate.resolved_at.is_(None),
            PatientDuplicate.deleted_at.is_(None),
            Patient.merged_into_id.is_(None),
            other.c.merged_into_id.is_(None),
        )
        .order_by(PatientDuplicate.created_at.desc())
    )
    with ctx.read() as session:
        return [
            DuplicatePair(r[0], r[1], f"{r[2]} {r[3]}", r[4], r[5], f"{r[6]} {r[7]}", r[8], r[9])
            for r in session.execute(stmt)
        ]


def dismiss_duplicate(ctx: ServiceContext, flag_id: str) -> None:
    """A person looked: these two are different people."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    with ctx.write("mark patients as not duplicates") as session:
        flag = session.get(PatientDuplicate, flag_id)
        if flag is None:
            raise NotFound("That possible duplicate is no longer listed.")
        flag.resolved_at = ctx.clock.now()
        flag.resolved_by_id = ctx.actor.staff_user_id
        flag.resolution = "not a duplicate"


def patient_name(ctx: ServiceContext, patient_id: str) -> str:
    """ "First Last" of a patient, or "" when there is no such patient."""
    with ctx.read() as session:
        p = session.get(Patient, patient_id)
        return f"{p.first_name} {p.last_name}" if p else ""


def count_active(ctx: ServiceContext) -> int:
    with ctx.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Patient).where(Patient.archived_at.is_(None))
            )
            or 0
        )


def alerts_for(ctx: ServiceContext, patient_ids: list[str]) -> dict[str, list[str]]:
    """Live alert texts per patient, for showing on appointments (the diary asks for a day's
    patients at once)."""
    if not patient_ids:
        return {}
    out: dict[str, list[str]] = {}
    with ctx.read() as session:
        rows = session.execute(
            select(PatientAlert.patient_id, PatientAlert.text)
            .where(PatientAlert.patient_id.in_(set(patient_ids)),
                   PatientAlert.archived_at.is_(None), PatientAlert.deleted_at.is_(None))
            .order_by(PatientAlert.created_at)
        )  # fmt: skip
        for pid, text in rows:
            out.setdefault(pid, []).append(text)
    return out
