"""Issue 15, items 4 (desk side), 6 and 7: no NUL character gets into the desk's records from
any entry point; exported CSV cells a spreadsheet would run as formulas are neutralised; an
imported CSV with a quote never closed is refused with its line number, and UTF-16 files (with
a BOM) are read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.patient_csv import guess_mapping, read_table
from frontdesk.models import Patient, SyncOutbox
from frontdesk.services.patients import create_patient
from frontdesk.services.patients.importing import export_patients, import_patients
from frontdesk.store.context import ServiceContext


def _count(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_nul_character_is_refused_before_anything_is_written(ctx: ServiceContext) -> None:
    waiting = _count(ctx, SyncOutbox)
    with pytest.raises(ValidationFailed) as err:
        create_patient(ctx, {"first_name": "Ann\x00", "last_name": "Lee"})
    assert "NUL" in err.value.user_message and err.value.field == "first_name"
    assert _count(ctx, Patient) == 0 and _count(ctx, SyncOutbox) == waiting
    # A CSV with a NUL after its first 4,096 characters is refused too, naming the line.
    rows = "".join(f"P{i},Lee\n" for i in range(1000))
    data = f"First name,Last name\n{rows}Bad\x00name,Lee\n".encode()
    with pytest.raises(ValidationFailed) as err:
        read_table("people.csv", data)
    assert "line 1002" in err.value.user_message


def test_an_unclosed_quote_is_refused_with_its_line(ctx: ServiceContext) -> None:
    data = b'First name,Last name\nAnn,Lee\nBen,"Ng\nCy,Wu\nDee,Fox\n'
    with pytest.raises(ValidationFailed) as err:
        read_table("people.csv", data)
    assert "line 3" in err.value.user_message and "never closed" in err.value.user_message
    # A quoted cell over two lines, closed, is fine.
    table = read_table("ok.csv", b'First name,Last name\nAnn,"Lee\nSmith"\n')
    assert table.rows == [["Ann", "Lee\nSmith"]]


def test_utf16_files_are_read(ctx: ServiceContext) -> None:
    data = "First name\tLast name\nSiobhán\tO'Brien\n".encode("utf-16")  # Excel "Unicode text"
    table = read_table("unicode.txt", data)
    report = import_patients(ctx, table, guess_mapping(table.headers))
    assert report.imported == 1
    with ctx.read() as s:
        assert s.scalar(select(Patient.first_name)) == "Siobhán"


def test_export_neutralises_formulas(ctx: ServiceContext, tmp_path: Path) -> None:
    create_patient(ctx, {"first_name": '=HYPERLINK("http://x","y")', "last_name": "@SUM(A1)"})
    create_patient(ctx, {"first_name": "Ann", "last_name": "-Lee"})
    out = tmp_path / "patients.csv"
    assert export_patients(ctx, out) == 2
    with out.open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert '\'=HYPERLINK("http://x","y")' in cells and "'@SUM(A1)" in cells
    assert "'-Lee" in cells and "Ann" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
