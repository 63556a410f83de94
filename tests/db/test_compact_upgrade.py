"""Desk revision 0370_dbsize on a populated desk: the four mostly-empty key columns get
filled-only (partial) indexes that the lookups still use, the upgrade backs up first, shows its
progress and compacts the file, and every table's rows are exactly as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import time_machine
from alembic import command
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex

from frontdesk.db import migrate
from frontdesk.db.backup import materialise
from frontdesk.db.digest import table_digests
from frontdesk.db.engine import make_engine
from frontdesk.db.partial_indexes import FILLED_ONLY
from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.models import Base
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk

OLD = "0360_perf"


@pytest.fixture(scope="module")
def old_desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo clinic at 0360_perf (built at head, then taken down one revision), with
    free pages in it as a dropped index leaves them."""
    folder = tmp_path_factory.mktemp("old-desk")
    with time_machine.travel("2026-11-27 20:00:00+00:00", tick=False):
        ctx = open_desk(DeskPaths(folder))
        build_demo(ctx, DemoSpec(practitioners=4, weeks_past=10, weeks_future=2, patients=400))
    db = DeskPaths(folder).database
    ctx.engine.dispose()
    engine = make_engine(db)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, OLD)
    engine.dispose()
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("CREATE TABLE scratch AS SELECT * FROM appointments")  # 2+ MB of pages ...
    raw.execute("CREATE INDEX ix_scratch ON scratch (patient_id, starts_at)")
    raw.execute("DROP TABLE scratch")  # ... left free, as 0360_perf's dropped indexes were
    raw.close()
    return folder


def _copy(old_desk: Path, to: Path) -> DeskPaths:
    paths = DeskPaths(to)
    to.mkdir()
    (to / paths.database.name).write_bytes((old_desk / paths.database.name).read_bytes())
    return paths


def _rows(db: Path) -> dict[str, tuple[int, str]]:
    digests = table_digests(db)
    del digests["alembic_version"]  # the one row an upgrade changes
    digests.pop("sync_table_totals", None)  # figures a later revision (0380) adds, counted
    return digests


def _plan(db: Path, sql: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",)))
    finally:
        conn.close()


def test_upgrade_indexes_filled_rows_only_compacts_and_keeps_every_row(
    old_desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _copy(old_desk, tmp_path / "desk")
    db = paths.database
    before = _rows(db)
    free_before, size_before = migrate.free_bytes(db)
    assert before["appointments"][0] > 1000 and before["payments"][0] > 100
    monkeypatch.setattr(migrate, "COMPACT_MIN_BYTES", 1 << 20)  # the small clinic's scale
    seen: list[tuple[str, float]] = []

    ctx = open_desk(paths, progress=lambda what, f: seen.append((what, f)))
    ctx.engine.dispose()

    assert migrate.current_revision(make_engine(db)) == migrate.EXPECTED_HEAD
    assert _rows(db) == before, "every table's rows as they were"
    free_after, size_after = migrate.free_bytes(db)
    assert free_after == 0 and size_after <= size_before - free_before
    steps = [what for what, _f in seen]
    assert steps[0] == "Copying the database" and steps[-1] == "Upgraded"
    assert "Upgrading the database" in steps and "Compacting the database" in steps
    fractions = [f for _w, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    (backup,) = paths.backups.glob(f"before-upgrade-{OLD}-*.sqlite3.zst")
    materialise(backup, tmp_path / "as-it-was.sqlite3")
    assert _rows(tmp_path / "as-it-was.sqlite3") == before

    conn = sqlite3.connect(db)
    made = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    conn.close()
    for name, table, columns in FILLED_ONLY:
        assert made[name].endswith(f"WHERE {columns[0]} IS NOT NULL"), made[name]
        # the same index as the models make (a first sync's bulk load builds them from those)
        (model,) = (i for i in Base.metadata.tables[table].indexes if i.name == name)
        assert made[name] == str(CreateIndex(model).compile(dialect=sqlite.dialect()))
    # the lookups by value still use them
    assert "ix_appointments_room_start" in _plan(
        db, "SELECT id FROM appointments WHERE room_id = ? AND starts_at < '2027'"
    )
    assert "ix_appointments_series_id" in _plan(
        db, "SELECT id FROM appointments WHERE series_id = ? AND deleted_at IS NULL"
    )
    assert "ix_invoices_payer" in _plan(db, "SELECT id FROM invoices WHERE payer_funder_id = ?")
    assert "ix_payments_payer" in _plan(db, "SELECT id FROM payments WHERE payer_funder_id = ?")


def test_downgrade_gives_the_full_indexes_back(old_desk: Path, tmp_path: Path) -> None:
    paths = _copy(old_desk, tmp_path / "desk")
    engine = make_engine(paths.database)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, OLD)
    engine.dispose()
    conn = sqlite3.connect(paths.database)
    made = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    conn.close()
    for name, _table, _columns in FILLED_ONLY:
        assert "WHERE" not in made[name]


def test_little_free_space_is_not_worth_a_rewrite(old_desk: Path, tmp_path: Path) -> None:
    paths = _copy(old_desk, tmp_path / "desk")
    free, size = migrate.free_bytes(paths.database)
    assert free > 0
    assert migrate.compact(paths.database, min_bytes=free + 1) == 0
    assert migrate.free_bytes(paths.database) == (free, size), "left as it was"


def test_a_compaction_that_cannot_run_leaves_the_file_as_it_was(
    old_desk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another connection in the middle of a write (or a full disk) stops VACUUM: the upgrade
    has already been committed, so the file stays upgraded and uncompacted, with a note."""
    paths = _copy(old_desk, tmp_path / "desk")
    before = table_digests(paths.database)
    free, size = migrate.free_bytes(paths.database)
    writer = sqlite3.connect(paths.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert migrate.compact(paths.database, min_bytes=1) == 0
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert "not compacted" in caplog.text
    assert migrate.free_bytes(paths.database) == (free, size)
    assert table_digests(paths.database) == before


def test_a_disk_without_room_for_the_rebuilt_copy_is_not_compacted(
    old_desk: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    paths = _copy(old_desk, tmp_path / "desk")
    free, size = migrate.free_bytes(paths.database)
    real = migrate.shutil.disk_usage

    def nearly_full(path: object) -> object:
        usage = real(path)  # type: ignore[arg-type]
        return usage._replace(free=size)  # less than twice what VACUUM rewrites

    monkeypatch.setattr(migrate.shutil, "disk_usage", nearly_full)
    assert migrate.compact(paths.database, min_bytes=1) == 0
    assert "not compacted" in caplog.text
    assert migrate.free_bytes(paths.database) == (free, size)
