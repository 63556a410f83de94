"""Importing patients from a CSV export of another system, all or nothing per file, and
exporting patients to CSV.

``check_import`` is the dry run: every row it would reject and why, and the possible duplicates
(within the file and against the patients already here). ``import_patients`` refuses a file with
any rejected row, then writes every patient in one transaction with bulk inserts: each patient
gets a patient number, a sync outbox row (as the flush hook would write) and a search-index
entry (trigger); the import as a whole is one audit event. Cancel rolls everything back.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import RuleViolation
from frontdesk.domain.ids import uuid7
from frontdesk.domain.patient_csv import (
    EXPORT_HEADERS,
    CsvTable,
    ImportCancelled,
    check_mapping,
    convert_rows,
)
from frontdesk.domain.patient_text import digits, fold
from frontdesk.domain.spreadsheet import safe_row
from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import Base, Patient, PatientDuplicate
from frontdesk.models.codec import to_json_value
from frontdesk.services.permissions import Action, require
from frontdesk.store import outbox
from frontdesk.store.bulk import BulkWriter, raw_connection, scalar_defaults
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import reserve_numbers
from frontdesk.store.tracking import TRACKING_KEY, Tracking, record_event

Progress = Callable[[int, int], None]  # rows done, rows in all
Cancelled = Callable[[], bool]
CHUNK = 2000
BULK_INDEX_ROWS = 500


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int
    accepted: int
    rejected: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)  # left out on purpose, not an error
    imported: int = 0
    first_number: str = ""
    last_number: str = ""

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass
class _Prepared:
    report: ImportReport
    rows: list[dict[str, Any]]
    duplicate_of: dict[int, list[tuple[str, str]]]  # row index → (existing patient id, reason)


class _Known:
    """Name+DOB, phone and email keys of patients, to find duplicates without a query a row."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, Any], str] = {}

    def keys(self, fields: dict[str, Any]) -> list[tuple[tuple[str, Any], str]]:
        out: list[tuple[tuple[str, Any], str]] = []
        if fields.get("date_of_birth"):
            name = f"{fold(fields.get('first_name', ''))}|{fold(fields.get('last_name', ''))}"
            out.append((("name", (name, fields["date_of_birth"])), "same name and date of birth"))
        for f in ("mobile_phone", "home_phone"):
            number = digits(fields.get(f) or "")
            if len(number) >= 8:
                out.append((("phone", number), "same phone number"))
        if fields.get("email"):
            out.append((("email", str(fields["email"]).casefold()), "same email"))
        return out

    def load(self, session: Session) -> None:
        rows = session.execute(
            select(Patient.id, Patient.first_name, Patient.last_name, Patient.date_of_birth,
                   Patient.mobile_phone, Patient.home_phone, Patient.email)
            .where(Patient.merged_into_id.is_(None), Patient.deleted_at.is_(None))
        )  # fmt: skip
        for pid, first, last, dob, mobile, home, email in rows:
            fields = {"first_name": first, "last_name": last, "date_of_birth": dob,
                      "mobile_phone": mobile, "home_phone": home, "email": email}  # fmt: skip
            for key, _why in self.keys(fields):
                self.by_key.setdefault(key, pid)


def _prepare(
    ctx: ServiceContext,
    table: CsvTable,
    mapping: dict[str, int],
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> _Prepared:
    check_mapping(mapping)
    today = ctx.clock.now().astimezone(ctx.tz).date()
    known = _Known()
    with ctx.read() as session:
        known.load(session)
    in_file: dict[tuple[str, Any], int] = {}  # key → line
    report = ImportReport(rows=len(table.rows), accepted=0)
    rows: list[dict[str, Any]] = []
    duplicate_of: dict[int, list[tuple[str, str]]] = {}
    total = len(table.rows)
    for i, result in convert_rows(table, mapping, today):
        if cancelled is not None and i % 500 == 0 and cancelled():
            raise ImportCancelled("Import cancelled: nothing was imported.")
        if progress is not None and i % CHUNK == 0:
            progress(i, total)
        if result.problem is not None:
            report.rejected.append(RowProblem(result.line, result.problem))
            continue
        index = len(rows)
        rows.append(result.fields)
        for key, why in known.keys(result.fields):
            if key in known.by_key:
                duplicate_of.setdefault(index, []).append((known.by_key[key], why))
                report.duplicates.append(
                    RowProblem(result.line, f"possible duplicate of a patient already here ({why})")
                )
            elif key in in_file:
                report.duplicates.append(
                    RowProblem(result.line, f"possible duplicate of line {in_file[key]} ({why})")
                )
            else:
                in_file[key] = result.line
    report.accepted = len(rows)
    if progress is not None:
        progress(total, total)
    return _Prepared(report, rows, duplicate_of)


def check_import(
    ctx: ServiceContext,
    table: CsvTable,
    mapping: dict[str, int],
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ImportReport:
    """The dry run: what would be imported, every row rejected and why, possible duplicates."""
    require(ctx.actor, Action.IMPORT_PATIENTS)
    return _prepare(ctx, table, mapping, progress, cancelled).report


def import_patients(
    ctx: ServiceContext,
    table: CsvTable,
    mapping: dict[str, int],
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ImportReport:
    """Import every row or none. Raises RuleViolation (listing the first problems) when any row
    would be rejected, ImportCancelled when cancelled; in both cases nothing is written."""
    require(ctx.actor, Action.IMPORT_PATIENTS)
    prepared = _prepare(ctx, table, mapping, None, cancelled)
    report = prepared.report
    if report.rejected:
        first = "; ".join(f"line {p.line}: {p.reason}" for p in report.rejected[:3])
        raise RuleViolation(
            f"{len(report.rejected)} of {report.rows} rows cannot be imported, so nothing was "
            f"imported. Fix them in the file (or leave them out) and try again. {first}"
        )
    if not prepared.rows:
        raise RuleViolation(f"“{table.name}” has no patients to import.")
    total = len(prepared.rows)
    with ctx.write(f"import patients from {table.name}") as session:
        tracking: Tracking = session.info[TRACKING_KEY]
        numbers = reserve_numbers(session, SeriesKind.PATIENT, total)
        ids: list[str] = []
        with _index_afterwards(session, bulk=total >= BULK_INDEX_ROWS):
            for start in range(0, total, CHUNK):
                if cancelled is not None and cancelled():
                    raise ImportCancelled("Import cancelled: nothing was imported.")
                chunk = prepared.rows[start : start + CHUNK]
                ids.extend(_insert_chunk(session, tracking, chunk, numbers[start : start + CHUNK]))
                if progress is not None:
                    progress(start + len(chunk), total)
        for index, found in prepared.duplicate_of.items():
            for other_id, why in dict(found).items():
                session.add(PatientDuplicate(patient_id=ids[index], other_patient_id=other_id,
                                             reason=why))  # fmt: skip
        record_event(
            session, "import patients", entity="patients",
            summary=f"Imported {total} patients ({numbers[0]} to {numbers[-1]}) from {table.name}",
        )  # fmt: skip
    report.imported = total
    report.first_number, report.last_number = numbers[0], numbers[-1]
    return report


@contextmanager
def _index_afterwards(session: Session, *, bulk: bool) -> Iterator[None]:
    """For a large import, index the new patients for search in one statement after they are
    inserted instead of by the per-row trigger (a third faster). The trigger is dropped and
    re-created inside the import's transaction, so a failed or cancelled import rolls back to
    the trigger in place."""
    conn = session.connection()
    trigger = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'patients_fts_ai'"
    ).scalar()
    if not bulk or not trigger:
        yield
        return
    last = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM patients").scalar()
    conn.exec_driver_sql("DROP TRIGGER patients_fts_ai")
    yield
    conn.exec_driver_sql(
        "INSERT INTO patients_fts (rowid, names, email, phones, dob, ids) "
        "SELECT rowid, names, email, phones, dob, ids FROM patients_search_source "
        "WHERE rowid > ?",
        (last,),
    )
    conn.exec_driver_sql(str(trigger))


_PATIENTS: Table = Base.metadata.tables["patients"]


def _insert_chunk(
    session: Session, tracking: Tracking, chunk: list[dict[str, Any]], numbers: list[str]
) -> list[str]:
    """Insert patients and their outbox rows with the bulk writer on the session's own
    connection (same transaction): 100,000 rows must import in well under 30 seconds."""
    now = tracking.now
    conn = raw_connection(session)
    patients = BulkWriter(conn, _PATIENTS, now=now)
    seq = outbox.next_seq(session.connection())
    base = dict(scalar_defaults(_PATIENTS), created_at=now, updated_at=now)
    base_json = {k: to_json_value(v) for k, v in base.items() if k != "version"}
    changes: list[dict[str, Any]] = []
    ids: list[str] = []
    for fields, number in zip(chunk, numbers, strict=True):
        own = dict(fields, id=uuid7(), patient_number=number)
        if fields.get("sms_consent"):
            own["sms_consent_at"] = now
        if fields.get("email_consent"):
            own["email_consent_at"] = now
        patients.add(**own)
        payload = dict(base_json)
        payload.update((k, to_json_value(v)) for k, v in own.items())
        change = outbox.outbox_row(
            seq, entity="patients", row_id=own["id"], op="insert", fields=payload,
            base_version=0, hlc=tracking.hlc.tick().encode(), now=now,
        )  # fmt: skip
        changes.append(change)
        seq += 1
        ids.append(own["id"])
        tracking.collector.add("patients", own["id"])
    patients.flush()
    outbox.bulk_append(conn, changes)
    return ids


# -- export ---------------------------------------------------------------------------------------
def export_patients(
    ctx: ServiceContext,
    path: Path,
    *,
    include_archived: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write patients to a UTF-8 CSV (with BOM, so Excel reads accents); returns the count."""
    require(ctx.actor, Action.EXPORT_PATIENTS)
    fields = list(EXPORT_HEADERS)
    cols = [Patient.__table__.c[f] for f in fields]
    stmt = select(*cols).where(Patient.merged_into_id.is_(None), Patient.deleted_at.is_(None))
    if not include_archived:
        stmt = stmt.where(Patient.archived_at.is_(None))
    stmt = stmt.order_by(Patient.last_name, Patient.first_name)
    count = 0
    with ctx.read() as session:
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([EXPORT_HEADERS[f] for f in fields])
            for row in session.execute(stmt.execution_options(yield_per=5000)):
                writer.writerow(safe_row([_cell(v) for v in row]))
                count += 1
                if progress is not None and count % 5000 == 0:
                    progress(count, total)
        tmp.replace(path)
    with ctx.write("export patients") as session:
        record_event(session, "export patients", summary=f"Exported {count} patients")
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
