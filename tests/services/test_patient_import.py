"""Importing patients from CSV: Cliniko and generic files, broken rows, wrong encoding, extra
columns, duplicates; all or nothing; export and import round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.patient_csv import ImportCancelled, guess_mapping, read_table
from frontdesk.models import Patient, PatientDuplicate, SyncOutbox
from frontdesk.services.patients import create_patient
from frontdesk.services.patients.importing import check_import, export_patients, import_patients
from frontdesk.services.patients.search import search
from frontdesk.store.context import ServiceContext

CLINIKO = (
    "ID,Title,First Name,Last Name,Preferred First Name,Date of Birth,Sex,Email,Mobile,"
    "Address 1,Address 2,Address 3,City,State,Post Code,Country,Medicare,"
    "Medicare Reference Number,DVA Card Number,Notes,Occupation\n"
    "101,Ms,Siobhán,O'Brien,Shiv,1985-07-03,Female,shiv@example.com,0412 345 678,"
    '"1 King St, Unit 2",,,Newtown,NSW,2042,Australia,2123456701,1,,"Likes mornings",Nurse\n'
    "102,Mr,Nguyễn,Văn An,,03/07/1979,Male,,+61 413 111 222,,,,Marrickville,NSW,2204,"
    "Australia,,,,,Chef\n"
)


def count(ctx: ServiceContext, model: type = Patient) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_cliniko_export_imports(ctx: ServiceContext) -> None:
    table = read_table("cliniko.csv", CLINIKO.encode())
    mapping = guess_mapping(table.headers)
    assert {"first_name", "last_name", "preferred_name", "medicare_irn", "suburb"} <= set(mapping)
    dry = check_import(ctx, table, mapping)
    assert (dry.rows, dry.accepted, dry.rejected) == (2, 2, [])
    assert count(ctx) == 0  # the dry run writes nothing
    seen: list[tuple[int, int]] = []
    report = import_patients(ctx, table, mapping, progress=lambda d, t: seen.append((d, t)))
    assert report.imported == 2 and seen[-1] == (2, 2)
    assert (report.first_number, report.last_number) == ("P-000001", "P-000002")
    hit = search(ctx, "obrien")[0]
    assert hit.display_name == "Siobhán (Shiv) O'Brien" and hit.mobile_phone == "0412 345 678"
    assert search(ctx, "nguyen van")[0].mobile_phone == "0413 111 222"
    with ctx.read() as s:
        p = s.scalars(select(Patient).where(Patient.last_name == "O'Brien")).one()
        assert (p.medicare_number, p.medicare_irn) == ("2123456701", "1")
        assert p.address_line1 == "1 King St, Unit 2"
        outbox = s.scalars(select(SyncOutbox).where(SyncOutbox.entity == "patients")).all()
        assert {o.row_id for o in outbox} >= {p.id}
    assert create_patient(ctx, {"first_name": "A", "last_name": "B"}).patient_number == "P-000003"


def test_broken_rows_reject_the_whole_file(ctx: ServiceContext) -> None:
    data = (
        b"First name;Surname;DOB;Mobile;Email;Favourite colour\n"
        b"Ann;Lee;3/7/85;0412 345 678;ann@example.com;blue\n"
        b";Nobody;;;;\n"
        b"Bo;Wu;31/02/1990;;;\n"
        b"Cy;Ng;1/1/2090;;;\n"
        b"Di;Ko;;12;;\n"
        b"Ed;Li;;;ed@;\n"
        b"Fay;Ma;;;;red;extra;values\n"
    )
    table = read_table("mess.csv", data)
    mapping = guess_mapping(table.headers)
    report = check_import(ctx, table, mapping)
    assert report.accepted == 1
    reasons = {p.line: p.reason for p in report.rejected}
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "First name is empty" in reasons[3]
    assert "not a date" in reasons[4]
    assert "future" in reasons[5]
    assert "phone number" in reasons[6]
    assert "email" in reasons[7].lower()
    assert "8 values" in reasons[8]
    with pytest.raises(RuleViolation, match="6 of 7 rows cannot be imported, so nothing"):
        import_patients(ctx, table, mapping)
    assert count(ctx) == 0


def test_wrong_encoding_is_explained(ctx: ServiceContext) -> None:
    data = "First name,Last name\nJosé,García\n".encode("cp1252")
    with pytest.raises(ValidationFailed, match="line 2") as err:
        read_table("excel.csv", data)
    assert "Windows" in err.value.user_message and "Nothing was imported" in err.value.user_message
    table = read_table("excel.csv", data, encoding="cp1252")
    import_patients(ctx, table, guess_mapping(table.headers))
    assert search(ctx, "garcia")[0].display_name == "José García"


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\x00\x01PK\x00", "not a CSV"), (b"Name\nAnn\n", "First name and Last")],
)
def test_unusable_files(ctx: ServiceContext, data: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        table = read_table("x.csv", data)
        check_import(ctx, table, guess_mapping(table.headers))


def test_duplicates_are_reported_and_flagged(ctx: ServiceContext) -> None:
    create_patient(ctx, {"first_name": "Ann", "last_name": "Lee", "mobile_phone": "0412 345 678"})
    data = (
        b"First name,Last name,Date of birth,Mobile\n"
        b"Ann,Lee,,0412345678\n"
        b"Bo,Wu,2/2/1990,\n"
        b"bo,WU,02/02/1990,\n"
    )
    table = read_table("d.csv", data)
    report = check_import(ctx, table, guess_mapping(table.headers))
    assert [(p.line, p.reason) for p in report.duplicates] == [
        (2, "possible duplicate of a patient already here (same phone number)"),
        (4, "possible duplicate of line 3 (same name and date of birth)"),
    ]
    import_patients(ctx, table, guess_mapping(table.headers))
    assert count(ctx, PatientDuplicate) == 1 and count(ctx) == 4


def test_cancel_leaves_nothing(ctx: ServiceContext) -> None:
    rows = "".join(f"P{i},Q{i}\n" for i in range(5000))
    table = read_table("big.csv", f"First name,Last name\n{rows}".encode())
    calls = iter(range(100))
    outbox = count(ctx, SyncOutbox)
    with pytest.raises(ImportCancelled):
        import_patients(
            ctx, table, guess_mapping(table.headers), cancelled=lambda: next(calls) > 11
        )
    assert count(ctx) == 0 and count(ctx, SyncOutbox) == outbox
    trigger = "SELECT count(*) FROM sqlite_master WHERE name = 'patients_fts_ai'"
    with ctx.read() as s:  # the search trigger a bulk import drops is back after the rollback
        assert s.execute(text(trigger)).scalar() == 1


def test_bulk_import_is_searchable_and_trigger_restored(ctx: ServiceContext) -> None:
    create_patient(ctx, {"first_name": "Early", "last_name": "Bird"})
    rows = "".join(f"Name{i},Surname{i},0412 {i:06d}\n" for i in range(600))
    table = read_table("bulk.csv", f"First name,Last name,Mobile\n{rows}".encode())
    import_patients(ctx, table, guess_mapping(table.headers))
    assert [h.display_name for h in search(ctx, "surname599")] == ["Name599 Surname599"]
    assert [h.display_name for h in search(ctx, "0412 000 042")] == ["Name42 Surname42"]
    assert [h.display_name for h in search(ctx, "early")] == ["Early Bird"]
    created = create_patient(ctx, {"first_name": "Late", "last_name": "Comer"})
    assert [h.id for h in search(ctx, "comer")] == [created.patient_id]


def test_export_round_trip(ctx: ServiceContext, tmp_path: Path) -> None:
    table = read_table("cliniko.csv", CLINIKO.encode())
    import_patients(ctx, table, guess_mapping(table.headers))
    out = tmp_path / "patients.csv"
    assert export_patients(ctx, out) == 2
    again = read_table("patients.csv", out.read_bytes())
    mapping = guess_mapping(again.headers)
    assert len(mapping) == len(again.headers)  # our own headers all map back
    report = check_import(ctx, again, mapping)
    assert report.accepted == 2 and not report.rejected
    assert len(report.duplicates) >= 2
