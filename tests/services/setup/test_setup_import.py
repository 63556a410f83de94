"""Importing a clinic from Cliniko's CSV exports (columns named as its API names them) or a
spreadsheet mapped by hand: practitioners, appointment types, future appointments. The dry run
lists every rejected row by line; the import brings in every row or none, through the same rules
as the set-up screens and the diary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from frontdesk.domain.clinic_csv import ClinicImport, guess_mapping, parse_minutes
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.patient_csv import read_table
from frontdesk.models import Appointment, AuditEvent
from frontdesk.services import patients
from frontdesk.services.setup import appointment_types, practitioners
from frontdesk.services.setup.importing import check_clinic_import, import_clinic
from tests.services.setup.conftest import Clinic

SYDNEY = ZoneInfo("Australia/Sydney")
PRACTITIONERS = """id,title,first_name,last_name,designation,email,color,provider_number
101,Dr,Tom,Ng,Chiropractor,tom@example.com,#F59E0B,2428841A
102,,Mia,Lee,Dietitian,mia@example.com,,
"""
TYPES = """id,name,duration_in_minutes,color,category,max_attendees,show_in_online_bookings,price
1,Initial consult,45,#3b82f6,Physiotherapy,1,true,115.00
2,Pilates class,60,#0ea5e9,Physiotherapy,6,false,35
"""
APPOINTMENTS = (
    "id,appointment_start,appointment_end,practitioner_name,appointment_type_name,patient_name,"
    "notes,cancelled_at\n"
) + (
    "9001,2026-11-30T22:00:00Z,2026-11-30T22:45:00Z,Priya Shah,Initial consult,Ana Silva,"
    "first visit,\n"
    "9002,2026-12-01 10:00,2026-12-01 10:30,Priya Shah,,Ana Silva,,\n"
)


def _table(kind: ClinicImport, name: str, text: str) -> tuple:  # type: ignore[type-arg]
    table = read_table(name, text.encode())
    return table, guess_mapping(kind, table.headers)


def _audits(clinic: Clinic) -> int:
    with clinic.ctx.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_cliniko_practitioners_and_types_import(clinic: Clinic) -> None:
    ctx = clinic.ctx
    table, mapping = _table(ClinicImport.PRACTITIONERS, "practitioners.csv", PRACTITIONERS)
    assert mapping == {"title": 1, "first_name": 2, "last_name": 3, "profession": 4,
                       "email": 5, "colour": 6, "provider_number": 7}  # fmt: skip
    before = _audits(clinic)
    report = check_clinic_import(ctx, ClinicImport.PRACTITIONERS, table, mapping)
    assert (report.rows, report.accepted, report.rejected) == (2, 2, [])
    assert _audits(clinic) == before  # the dry run wrote nothing
    assert len(practitioners.list_practitioners(ctx)) == 1
    report = import_clinic(ctx, ClinicImport.PRACTITIONERS, table, mapping)
    assert report.imported == 2
    rows = {p.display_name: p for p in practitioners.list_practitioners(ctx)}
    assert set(rows) == {"Priya Shah", "Dr Tom Ng", "Mia Lee"}
    assert rows["Dr Tom Ng"].profession == "Chiropractor" and rows["Dr Tom Ng"].colour == "#f59e0b"
    tom = practitioners.load_practitioner(ctx, rows["Dr Tom Ng"].id)
    assert [n.number for n in tom.provider_numbers] == ["2428841A"]

    table, mapping = _table(ClinicImport.TYPES, "appointment_types.csv", TYPES)
    import_clinic(ctx, ClinicImport.TYPES, table, mapping)
    kinds = {t.name: t for t in appointment_types.list_types(ctx)}
    assert kinds["Initial consult"].duration_minutes == 45
    first = kinds["Initial consult"]
    assert first.price_cents == 11500 and first.online_bookable
    assert kinds["Pilates class"].capacity == 6 and kinds["Pilates class"].price_cents == 3500


def test_one_bad_row_rejects_the_file_naming_each_line(clinic: Clinic) -> None:
    ctx = clinic.ctx
    text = TYPES + "3,Zero,0,,,,,\n4,Odd,17,,,,,\n5,Initial consult,30,,,,,\n6,Pricey,30,,,,,abc\n"
    table, mapping = _table(ClinicImport.TYPES, "types.csv", text)
    report = check_clinic_import(ctx, ClinicImport.TYPES, table, mapping)
    assert report.accepted == 2
    assert [(p.line, p.reason) for p in report.rejected] == [
        (4, "An appointment type needs a length of at least 5 minutes"),
        (5, "Lengths go in steps of 5 minutes"),
        (6, "There is already an appointment type called Initial consult"),  # within the file
        (7, "“abc” is not a price"),
    ]
    with pytest.raises(RuleViolation, match="4 of 6 rows cannot be imported, so nothing was"):
        import_clinic(ctx, ClinicImport.TYPES, table, mapping)
    assert appointment_types.list_types(ctx) == []  # all or nothing


def test_future_appointments_import_through_the_diarys_rules(clinic: Clinic) -> None:
    ctx = clinic.ctx
    patients.create_patient(ctx, {"first_name": "Ana", "last_name": "Silva"})
    table, mapping = _table(ClinicImport.TYPES, "appointment_types.csv", TYPES)
    import_clinic(ctx, ClinicImport.TYPES, table, mapping)
    bad = (
        "9003,2026-11-20 10:00,2026-11-20 10:30,Priya Shah,,Ana Silva,,\n"  # past
        "9004,2026-12-01 19:00,2026-12-01 19:30,Priya Shah,,Ana Silva,,\n"  # after hours
        "9005,2026-12-01 10:15,2026-12-01 10:45,Priya Shah,,Ana Silva,,\n"  # clashes 9002
        "9006,2026-12-02 10:00,2026-12-02 10:30,Nobody Here,,Ana Silva,,\n"
        "9007,2026-12-02 11:00,2026-12-02 11:30,Priya Shah,,Bea Unknown,,\n"
        "9008,2026-12-02 12:00,2026-12-02 12:30,Priya Shah,,Ana Silva,,2026-11-25\n"
        "9009,next tuesday,,Priya Shah,,Ana Silva,,\n"
    )
    table, mapping = _table(ClinicImport.APPOINTMENTS, "appointments.csv", APPOINTMENTS + bad)
    report = check_clinic_import(ctx, ClinicImport.APPOINTMENTS, table, mapping)
    reasons = {p.line: p.reason for p in report.rejected}
    assert report.accepted == 2 and sorted(reasons) == [5, 6, 7, 8, 10]
    assert [(p.line, p.reason) for p in report.skipped] == [(4, "in the past"), (9, "cancelled")]
    assert "outside" in reasons[5].lower() or "hours" in reasons[5].lower(), reasons[5]
    assert "already has an appointment at 10:00" in reasons[6]  # the row above it
    assert "No practitioner is called “Nobody Here”" in reasons[7]
    assert "No patient is called “Bea Unknown”" in reasons[8]
    assert "not a date and time" in reasons[10]
    with pytest.raises(RuleViolation):
        import_clinic(ctx, ClinicImport.APPOINTMENTS, table, mapping)
    with ctx.read() as s:
        assert s.scalars(select(Appointment)).all() == []

    table, mapping = _table(ClinicImport.APPOINTMENTS, "appointments.csv", APPOINTMENTS)
    assert import_clinic(ctx, ClinicImport.APPOINTMENTS, table, mapping).imported == 2
    with ctx.read() as s:
        booked = s.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        when = [(a.starts_at.astimezone(SYDNEY), a.ends_at.astimezone(SYDNEY)) for a in booked]
        assert booked[0].notes == "first visit" and booked[0].room_id == clinic.room1
    assert when == [  # Cliniko's UTC instants and a local time both land at 9:00 / 10:00 Sydney
        (datetime(2026, 12, 1, 9, 0, tzinfo=SYDNEY), datetime(2026, 12, 1, 9, 45, tzinfo=SYDNEY)),
        (datetime(2026, 12, 1, 10, tzinfo=SYDNEY), datetime(2026, 12, 1, 10, 30, tzinfo=SYDNEY)),
    ]


def test_a_generic_mapping_and_a_mapping_missing_a_column(clinic: Clinic) -> None:
    text = "Clinician,Client,Date,Time,Length\nPriya Shah,Ana Silva,01/12/2026,2:30 pm,30 min\n"
    patients.create_patient(clinic.ctx, {"first_name": "Ana", "last_name": "Silva"})
    table = read_table("paper.csv", text.encode())
    mapping = {"practitioner": 0, "patient": 1, "date": 2, "starts": 3, "duration": 4}
    assert import_clinic(clinic.ctx, ClinicImport.APPOINTMENTS, table, mapping).imported == 1
    with clinic.ctx.read() as s:
        (appt,) = s.scalars(select(Appointment)).all()
        assert appt.starts_at.astimezone(SYDNEY).strftime("%d/%m %H:%M") == "01/12 14:30"
    with pytest.raises(ValidationFailed, match="Practitioner"):
        check_clinic_import(
            clinic.ctx, ClinicImport.APPOINTMENTS, table, {"patient": 1, "starts": 3}
        )
    assert [parse_minutes(t) for t in ("45", "0:45", "1h 15m", "30 min")] == [45, 45, 75, 30]
