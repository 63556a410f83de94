"""Importing a clinic from another system: practitioners, appointment types and future
appointments from CSV exports (Cliniko's, or any file with a mapping chosen by hand), with the
rules the patient import has: a dry run listing every rejected row (by line) and why, and an
import that brings in every row or none. Past and cancelled rows of an appointments export are
left out (and listed), not rejected: the export holds the clinic's history too.

Each row goes through the same rules as the set-up screens and the diary (the practitioner and
type checks of services/setup, ``check_time`` for a booking: rosters, leave, closures, clashes),
each in a savepoint of one transaction. The dry run is that same transaction rolled back, so it
finds exactly what the import would, clashes between rows of the file included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_csv import ClinicImport, NameKey, check_mapping, convert_rows
from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.domain.patient_csv import CsvTable
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import Appointment, AppointmentType, Patient, Practitioner
from frontdesk.services.diary.appointments import check_time
from frontdesk.services.patients.importing import ImportReport, RowProblem
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup import appointment_types as types
from frontdesk.services.setup import practitioners as people
from frontdesk.store.context import ServiceContext

Cancelled = Callable[[], bool]


class _DryRun(Exception):
    """Rolls the dry run's transaction back, carrying its report."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


@dataclass
class _Lookups:
    """Practitioners, types and patients by folded name, read once per file."""

    practitioners: dict[NameKey, list[Practitioner]]
    types: dict[NameKey, list[AppointmentType]]
    patients: dict[NameKey, list[Patient]]
    numbers: dict[str, Patient]

    @staticmethod
    def load(session: Session) -> _Lookups:
        prac: dict[NameKey, list[Practitioner]] = {}
        for p in session.scalars(select(Practitioner).where(Practitioner.deleted_at.is_(None))):
            for name in {p.display_name, f"{p.first_name} {p.last_name}"}:
                prac.setdefault(NameKey.of(name), []).append(p)
        kinds: dict[NameKey, list[AppointmentType]] = {}
        for t in session.scalars(
            select(AppointmentType).where(
                AppointmentType.deleted_at.is_(None), AppointmentType.archived_at.is_(None)
            )
        ):
            kinds.setdefault(NameKey.of(t.name), []).append(t)
        patients: dict[NameKey, list[Patient]] = {}
        numbers: dict[str, Patient] = {}
        for pt in session.scalars(
            select(Patient).where(Patient.deleted_at.is_(None), Patient.merged_into_id.is_(None))
        ):
            for name in {f"{pt.first_name} {pt.last_name}",
                         f"{pt.preferred_name or pt.first_name} {pt.last_name}"}:  # fmt: skip
                patients.setdefault(NameKey.of(name), []).append(pt)
            if pt.patient_number:
                numbers[pt.patient_number.casefold()] = pt
        return _Lookups(prac, kinds, patients, numbers)


def check_clinic_import(
    ctx: ServiceContext, kind: ClinicImport, table: CsvTable, mapping: dict[str, int],
    cancelled: Cancelled | None = None,
) -> ImportReport:  # fmt: skip
    """The dry run: how many rows would be imported and every rejected row with its reason."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    try:
        _run(ctx, kind, table, mapping, cancelled, dry=True)
    except _DryRun as done:
        return done.report
    raise AssertionError("the dry run always rolls back")  # pragma: no cover


def import_clinic(
    ctx: ServiceContext, kind: ClinicImport, table: CsvTable, mapping: dict[str, int],
    cancelled: Cancelled | None = None,
) -> ImportReport:  # fmt: skip
    """Import every row or none: RuleViolation (naming the first rejected lines) when any row
    is rejected, and nothing is written."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    return _run(ctx, kind, table, mapping, cancelled, dry=False)


def _run(
    ctx: ServiceContext, kind: ClinicImport, table: CsvTable, mapping: dict[str, int],
    cancelled: Cancelled | None, *, dry: bool,
) -> ImportReport:  # fmt: skip
    check_mapping(kind, mapping)
    results = convert_rows(kind, table, mapping, ctx.tz)
    report = ImportReport(rows=len(results), accepted=0)
    with ctx.write(f"import {kind.value} from CSV") as session:
        known = _Lookups.load(session)
        for i, result in enumerate(results):
            if cancelled is not None and i % 100 == 0 and cancelled():
                raise RuleViolation("Import cancelled: nothing was imported.")
            if result.problem is not None:
                report.rejected.append(RowProblem(result.line, result.problem))
                continue
            left_out = _left_out(ctx, kind, result.fields)
            if left_out:
                report.skipped.append(RowProblem(result.line, left_out))
                continue
            try:
                with session.begin_nested():
                    _add(ctx, session, kind, result.fields, known)
            except FrontdeskError as exc:
                report.rejected.append(RowProblem(result.line, exc.user_message.rstrip(".")))
                continue
            report.accepted += 1
        if dry:
            raise _DryRun(report)
        if report.rejected:
            first = "; ".join(f"line {p.line}: {p.reason}" for p in report.rejected[:3])
            raise RuleViolation(
                f"{len(report.rejected)} of {report.rows} rows cannot be imported, so nothing "
                f"was imported. Fix them in the file (or leave them out) and try again. {first}"
            )
        if not report.accepted:
            raise RuleViolation(f"“{table.name}” has no {kind.label.lower()} to import.")
        report.imported = report.accepted
    return report


def _left_out(ctx: ServiceContext, kind: ClinicImport, f: dict[str, Any]) -> str:
    """Why a row of an appointments export is left out on purpose ("" when it is not): an
    export holds the clinic's history too, and only what is still to come is brought in."""
    if kind is not ClinicImport.APPOINTMENTS:
        return ""
    if f["cancelled"]:
        return "cancelled"
    if f["starts_at"] < ctx.clock.now():
        return "in the past"
    return ""


def _add(
    ctx: ServiceContext, session: Session, kind: ClinicImport, f: dict[str, Any], known: _Lookups
) -> None:
    if kind is ClinicImport.PRACTITIONERS:
        _add_practitioner(ctx, session, f, known)
    elif kind is ClinicImport.TYPES:
        _add_type(session, f, known)
    else:
        _add_appointment(ctx, session, f, known)


def _add_practitioner(
    ctx: ServiceContext, session: Session, f: dict[str, Any], known: _Lookups
) -> None:
    numbers = (people.ProviderNumberEntry(f["provider_number"]),) if f["provider_number"] else ()
    entry = people.PractitionerEntry(
        f["first_name"], f["last_name"], f["profession"] or "Practitioner", title=f["title"],
        colour=f.get("colour") or "#4f86c6", email=f["email"], phone=f["phone"],
        registration_number=f["registration_number"], provider_numbers=numbers,
    )  # fmt: skip
    key = NameKey.of(f"{f['first_name']} {f['last_name']}")
    if known.practitioners.get(key):
        raise RuleViolation(f"There is already a practitioner called {f['first_name']} "
                            f"{f['last_name']}")  # fmt: skip
    count = len({p.id for ps in known.practitioners.values() for p in ps})
    p = Practitioner(sort_order=count)
    people._apply(session, p, entry, ctx.clock.now())
    known.practitioners.setdefault(key, []).append(p)


def _add_type(session: Session, f: dict[str, Any], known: _Lookups) -> None:
    entry = types.TypeEntry(
        f["name"], f["duration"], f.get("colour") or "#7fb2e5", profession=f["profession"],
        capacity=f["capacity"], online_bookable=f["online_bookable"], price_cents=f["price_cents"],
    )  # fmt: skip
    name = types._check(entry)
    if known.types.get(NameKey.of(name)):
        raise RuleViolation(f"There is already an appointment type called {name}")
    t = AppointmentType()
    types._apply(session, t, entry, name)
    session.add(t)
    session.flush()
    known.types.setdefault(NameKey.of(name), []).append(t)


def _one(found: list[Any] | None, what: str, name: str, hint: str = "") -> Any:
    if not found:
        raise RuleViolation(f"No {what} is called “{name}”{hint}")
    unique = {x.id: x for x in found}
    if len(unique) > 1:
        raise RuleViolation(f"{len(unique)} {what}s are called “{name}”{hint}")
    return next(iter(unique.values()))


def _add_appointment(
    ctx: ServiceContext, session: Session, f: dict[str, Any], known: _Lookups
) -> None:
    prac = _one(known.practitioners.get(NameKey.of(f["practitioner"])), "practitioner",
                f["practitioner"], ": add them first (import practitioners)")  # fmt: skip
    if prac.archived_at is not None:
        raise RuleViolation(f"{prac.display_name} is archived")
    kind = None
    if f["type"]:
        kind = _one(known.types.get(NameKey.of(f["type"])), "appointment type", f["type"],
                    ": add it first (import appointment types)")  # fmt: skip
    patient = _patient(f, known)
    ends = f.get("ends_at")
    if ends is None:
        if kind is None:
            raise RuleViolation("has no end, length or appointment type to take its length from")
        ends = f["starts_at"] + timedelta(minutes=kind.duration_minutes)
    room = prac.default_room_id
    check = check_time(session, ctx, prac.id, room, f["starts_at"], ends, check_past=True)
    if check.refusals or check.warnings:  # a clash is refused here: no one to ask per row
        raise RuleViolation(check.summary() if check.warnings and not check.refusals
                            else " ".join(p.message for p in check.refusals))  # fmt: skip
    session.add(
        Appointment(
            practitioner_id=prac.id, patient_id=patient.id,
            appointment_type_id=kind.id if kind else None, room_id=room,
            location_id=prac.default_location_id, starts_at=f["starts_at"], ends_at=ends,
            status=AppointmentStatus.BOOKED, notes=f["notes"][:2000],
        )
    )  # fmt: skip
    session.flush()


def _patient(f: dict[str, Any], known: _Lookups) -> Patient:
    if f["patient_number"]:
        found = known.numbers.get(f["patient_number"].casefold())
        if found is None:
            raise RuleViolation(f"No patient has the number {f['patient_number']}")
        return found
    hint = ": import patients first"
    matches = known.patients.get(NameKey.of(f["patient"])) or []
    if f["date_of_birth"] is not None and len({p.id for p in matches}) > 1:
        matches = [p for p in matches if p.date_of_birth == f["date_of_birth"]]
    elif len({p.id for p in matches}) > 1:
        hint = ": add a column with the patient's number or date of birth to tell them apart"
    return _one(matches, "patient", f["patient"], hint)  # type: ignore[no-any-return]
