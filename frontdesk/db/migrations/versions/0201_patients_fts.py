"""patients fts: a full-text index for search as you type

Revision ID: 0201
Revises: 0101
Create Date: 2026-11-27 10:55:00

Hand-written: an FTS5 table (unicode61, accents removed, prefix indexes for 1-3 characters)
whose content is the view ``patients_search_source``. The view computes what is indexed from
each patient row: names (also with apostrophes and hyphens joined, so O'Brien is "obrien"),
email, phone digits (also without the leading 0 or with 61 written as 0), date of birth as
YYYYMMDD, and identifiers (patient number with and without leading zeros, Medicare, DVA, NDIS).
Triggers keep the index in step with the table; existing rows are indexed by a rebuild.
The expressions are frozen here: a later change to them needs a new revision.
"""
from alembic import op


revision = '0201'
down_revision = '0101'
branch_labels = None
depends_on = None


def _squash(x: str) -> str:
    out = x
    for ch in ("''", "’", "-", ".", " "):
        out = f"replace({out}, '{ch}', '')"
    return out


def _fold(x: str) -> str:
    return f"replace(replace({x}, 'đ', 'd'), 'Đ', 'D')"


def _digits(x: str) -> str:
    out = x
    for ch in (" ", "(", ")", "-", "+", ".", "/"):
        out = f"replace({out}, '{ch}', '')"
    return out


def _phone(x: str) -> str:
    d = _digits(x)
    return (
        f"{d} || ' ' || CASE WHEN {d} LIKE '0%' THEN substr({d}, 2) "
        f"WHEN {d} LIKE '61%' THEN '0' || substr({d}, 3) ELSE '' END"
    )


def columns(p: str) -> dict[str, str]:
    """The indexed columns as SQL expressions over a patient row named ``p``."""
    names = " || ' ' || ".join(
        [_fold(f"{p}.{c}") for c in ("first_name", "middle_name", "last_name", "preferred_name")]
        + [_fold(_squash(f"{p}.{c}")) for c in ("first_name", "last_name", "preferred_name")]
    )
    phones = " || ' ' || ".join(_phone(f"{p}.{c}") for c in ("mobile_phone", "home_phone", "work_phone"))
    number_digits = f"replace({p}.patient_number, rtrim({p}.patient_number, '0123456789'), '')"
    ids = " || ' ' || ".join(
        [
            f"replace({p}.patient_number, '-', '')",
            number_digits,
            f"ltrim({number_digits}, '0')",
            _digits(f"{p}.medicare_number"),
            f"{p}.dva_number",
            _digits(f"{p}.ndis_number"),
        ]
    )
    return {
        "names": names,
        "email": f"{p}.email",
        "phones": phones,
        "dob": f"replace(coalesce({p}.date_of_birth, ''), '-', '')",
        "ids": ids,
    }


TRACKED = (
    "first_name", "middle_name", "last_name", "preferred_name", "email", "mobile_phone",
    "home_phone", "work_phone", "date_of_birth", "patient_number", "medicare_number",
    "dva_number", "ndis_number",
)


def _values(p: str) -> str:
    return ", ".join(columns(p).values())


def upgrade() -> None:
    cols = columns("p")
    select_list = ", ".join(f"{expr} AS {name}" for name, expr in cols.items())
    names = ", ".join(cols)
    op.execute(f"CREATE VIEW patients_search_source AS SELECT p.rowid AS rowid, {select_list} FROM patients p")
    op.execute(
        f"CREATE VIRTUAL TABLE patients_fts USING fts5({names}, "
        "content='patients_search_source', content_rowid='rowid', "
        "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')"
    )
    op.execute(
        f"CREATE TRIGGER patients_fts_ai AFTER INSERT ON patients BEGIN "
        f"INSERT INTO patients_fts(rowid, {names}) VALUES (new.rowid, {_values('new')}); END"
    )
    op.execute(
        f"CREATE TRIGGER patients_fts_ad AFTER DELETE ON patients BEGIN "
        f"INSERT INTO patients_fts(patients_fts, rowid, {names}) "
        f"VALUES ('delete', old.rowid, {_values('old')}); END"
    )
    op.execute(
        f"CREATE TRIGGER patients_fts_au AFTER UPDATE OF {', '.join(TRACKED)} ON patients BEGIN "
        f"INSERT INTO patients_fts(patients_fts, rowid, {names}) "
        f"VALUES ('delete', old.rowid, {_values('old')}); "
        f"INSERT INTO patients_fts(rowid, {names}) VALUES (new.rowid, {_values('new')}); END"
    )
    op.execute("INSERT INTO patients_fts(patients_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for trigger in ("patients_fts_ai", "patients_fts_ad", "patients_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS patients_fts")
    op.execute("DROP VIEW IF EXISTS patients_search_source")
