"""Keys stored as 16-byte blobs on the desk (``db.types.UUIDKey``, desk revision 0390_blobkeys).

A raw statement that binds a key as text, or a raw writer that stores one as text, does not
fail: it silently matches nothing. So these tests look at a populated demo desk as a whole —
every key of every table is a 16-byte blob, the raw-SQL paths (the ledger summary, aged
debtors, search, reports' roster reads) return what the ORM finds — and convert a desk in place
both ways with every table's rows kept (counts and content digests on the keys' text)."""

from __future__ import annotations

import sqlite3
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import time_machine
from alembic import command
from sqlalchemy import func, select

from frontdesk.db import migrate
from frontdesk.db.digest import table_digests
from frontdesk.db.engine import make_engine
from frontdesk.db.types import NotAKeyError, is_key, key_blob, key_text
from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import InvoiceStatus
from frontdesk.models import Base, CreditNote, Invoice, Patient, PaymentAllocation, RosterEntry
from frontdesk.paths import DeskPaths
from frontdesk.services.billing import balances, ledger
from frontdesk.services.desk import open_desk
from frontdesk.services.patients import search
from frontdesk.services.report_charts import roster_rules
from frontdesk.sync import snapshot

BEFORE = "0380_checks"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("blob-desk")
    with time_machine.travel("2026-11-27 20:00:00+00:00", tick=False):
        ctx = open_desk(DeskPaths(folder))
        build_demo(ctx, DemoSpec(practitioners=3, weeks_past=8, weeks_future=2, patients=300))
    ctx.engine.dispose()
    return folder


def _copy(demo: Path, to: Path) -> DeskPaths:
    paths = DeskPaths(to)
    to.mkdir()
    paths.database.write_bytes(DeskPaths(demo).database.read_bytes())
    return paths


def _key_kinds(db: Path) -> dict[tuple[str, str], dict[str, int]]:
    """(table, key column) → how many of its values are stored as what (blob16, text, other)."""
    conn = sqlite3.connect(db)
    try:
        out = {}
        for table in Base.metadata.sorted_tables:
            for column in filter(is_key, table.columns):
                kinds = dict(
                    conn.execute(
                        f"SELECT CASE WHEN typeof({column.name}) = 'blob' AND "
                        f"length({column.name}) = 16 THEN 'blob16' ELSE typeof({column.name}) "
                        f"END, count(*) FROM {table.name} WHERE {column.name} IS NOT NULL "
                        "GROUP BY 1"
                    ).fetchall()
                )
                out[(table.name, column.name)] = kinds
        return out
    finally:
        conn.close()


def _downgrade(db: Path, to: str) -> None:
    engine = make_engine(db)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, to)
    engine.dispose()


def _rows(db: Path) -> dict[str, tuple[int, str]]:
    digests = table_digests(db)
    del digests["alembic_version"]
    return digests


def test_a_key_is_its_canonical_text_or_refused() -> None:
    for _ in range(50):
        key = uuid7()
        assert len(key_blob(key)) == 16 and key_text(key_blob(key)) == key
        assert key_blob(key) == uuid.UUID(key).bytes
    for bad in ("nope", "", "(new)", str(uuid.uuid4()).upper(), uuid.uuid4().hex,
                "{" + str(uuid.uuid4()) + "}", str(uuid.uuid4())[:35] + "g", 7, None):  # fmt: skip
        with pytest.raises(NotAKeyError, match="lower-case 36-character UUID"):
            key_blob(bad)  # type: ignore[arg-type]


def test_every_key_of_a_populated_desk_is_stored_as_16_bytes(demo: Path) -> None:
    kinds = _key_kinds(DeskPaths(demo).database)
    not_blobs = {k: v for k, v in kinds.items() if set(v) - {"blob16"}}
    assert not not_blobs, f"keys stored otherwise: {not_blobs}"
    for big in ("appointments", "invoices", "payments", "payment_allocations", "patients"):
        assert kinds[(big, "id")]["blob16"] > 100
    assert kinds[("appointments", "patient_id")]["blob16"] > 1000
    # the summaries the triggers keep copy keys from those columns: blobs too
    conn = sqlite3.connect(DeskPaths(demo).database)
    for table, column in (("ledger_summary_invoices", "invoice_id"),
                          ("ledger_summary_debtors", "debtor_id"),
                          ("report_summary_first_visits", "patient_id")):  # fmt: skip
        (kinds_here,) = conn.execute(
            f"SELECT group_concat(DISTINCT typeof({column}) || length({column})) FROM {table}"
        ).fetchone()
        assert kinds_here == "blob16", (table, kinds_here)
    conn.close()


def test_raw_sql_paths_find_what_the_orm_finds(demo: Path) -> None:
    with time_machine.travel("2026-11-27 20:00:00+00:00", tick=False):
        ctx = open_desk(DeskPaths(demo))
        try:
            with ctx.read() as s:
                # what each debtor's issued invoices still owe, by the ORM
                owing: dict[str, int] = defaultdict(int)
                for inv in s.scalars(
                    select(Invoice).where(
                        Invoice.status == InvoiceStatus.ISSUED, Invoice.deleted_at.is_(None)
                    )
                ):
                    paid = s.scalar(
                        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0)).where(
                            PaymentAllocation.invoice_id == inv.id,
                            PaymentAllocation.deleted_at.is_(None),
                        )
                    )
                    credited = s.scalar(
                        select(func.coalesce(func.sum(CreditNote.total_cents), 0)).where(
                            CreditNote.invoice_id == inv.id, CreditNote.deleted_at.is_(None)
                        )
                    )
                    left = inv.total_cents - int(paid) - int(credited)
                    if left > 0:
                        owing[inv.payer_funder_id or inv.patient_id] += left
                check = balances.check_session(s)
                some_debtor = max(owing, key=lambda d: owing[d])
                payer = s.get(Patient, some_debtor) is None
                debtor = (
                    ledger.Debtor(funder_id=some_debtor)
                    if payer
                    else ledger.Debtor(patient_id=some_debtor)
                )
                open_here = ledger.open_invoices(s, debtor)
                kept = ledger.debtor_summary(s, debtor)
                rostered = set(s.scalars(select(RosterEntry.practitioner_id).distinct()))
                patient = s.scalars(select(Patient).limit(1)).one()
            assert len(owing) > 20, "the demo has debtors"
            assert check.ok, check.differences
            assert check.invoices_checked > 20 and check.debtors_checked > 20
            aged = ledger.aged_debtors(ctx)  # the summary's raw aggregate, keys read back
            by_debtor = {
                r.debtor.funder_id or r.debtor.patient_id: r.total_cents for r in aged.rows
            }
            assert by_debtor == dict(owing)
            assert all(isinstance(k, str) and len(k) == 36 for k in by_debtor)
            assert open_here and sum(i.owing_cents for i in open_here) == owing[some_debtor]
            assert all(isinstance(i.id, str) and len(i.id) == 36 for i in open_here)
            assert kept.owing_cents == owing[some_debtor]
            assert rostered and set(roster_rules(ctx, None)) == rostered
            one = next(iter(rostered))
            assert set(roster_rules(ctx, one)) == {one}
            hit = search.patient_hit(ctx, patient.id)
            assert hit is not None and hit.id == patient.id
            found = search.search(ctx, patient.last_name, limit=50)
            assert patient.id in {h.id for h in found}
        finally:
            ctx.engine.dispose()


def test_the_upgrade_converts_every_key_and_keeps_every_row_and_the_downgrade_back(
    demo: Path, tmp_path: Path
) -> None:
    paths = _copy(demo, tmp_path / "desk")
    db = paths.database
    _downgrade(db, BEFORE)  # as a desk of the previous version holds it
    as_text = _key_kinds(db)
    assert all(set(v) <= {"text"} for v in as_text.values()), "keys as text before"
    before = _rows(db)
    assert before["appointments"][0] > 1000
    seen: list[tuple[str, float]] = []

    ctx = open_desk(paths, progress=lambda what, f: seen.append((what, f)))
    ctx.engine.dispose()

    assert migrate.current_revision(make_engine(db)) == migrate.EXPECTED_HEAD
    assert _rows(db) == before, "every table's rows as they were (keys compared as text)"
    after = _key_kinds(db)
    assert all(set(v) <= {"blob16"} for v in after.values())
    assert {k: sum(v.values()) for k, v in after.items()} == {
        k: sum(v.values()) for k, v in as_text.items()
    }
    converting = [f for what, f in seen if what == "Converting keys"]
    # reported between chunks of rows, within the revisions' share of the upgrade (0.4–0.5)
    # its half of the revisions' share (0.4 to 0.5): 0390_inttimes runs first
    assert len(converting) >= 10 and converting[0] >= 0.45 and converting[-1] == 0.5
    fractions = [f for _w, f in seen]
    assert fractions == sorted(fractions)
    # the triggers were made again: the summaries still follow every write
    ctx = open_desk(paths)
    try:
        with ctx.read() as s:
            assert balances.check_session(s).ok
    finally:
        ctx.engine.dispose()

    _downgrade(db, BEFORE)
    assert _rows(db) == before
    assert all(set(v) <= {"text"} for v in _key_kinds(db).values())


def test_a_value_that_is_not_a_key_stops_the_upgrade_with_the_file_as_it_was(
    demo: Path, tmp_path: Path
) -> None:
    paths = _copy(demo, tmp_path / "desk")
    db = paths.database
    _downgrade(db, BEFORE)
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("UPDATE rooms SET id = 'room-one' WHERE rowid = (SELECT min(rowid) FROM rooms)")
    raw.commit()
    raw.close()
    before = table_digests(db)

    with pytest.raises(NotAKeyError, match=r"rooms: 'room-one' is not a key"):
        open_desk(paths)

    assert table_digests(db) == before
    assert migrate.current_revision(make_engine(db)) == BEFORE


def test_a_snapshot_row_whose_key_is_not_a_uuid_is_refused_by_column() -> None:
    table = Base.metadata.tables["appointments"]
    convert = snapshot.converter(table.c.patient_id)
    good = uuid7()
    assert convert([good, None]) == [key_blob(good), None]
    with pytest.raises(ValueError, match="patient_id: 'P-1' is not a key"):
        convert([good, "P-1"])
