"""Backups and restores: the full drill, retention, the CLI, and every bad file in issue 7."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QLockFile
from sqlalchemy import select

from frontdesk.app import main
from frontdesk.db import backup_store
from frontdesk.db.backup import backup_file, is_compressed, materialise, timestamped_name
from frontdesk.domain.backup_retention import backups_to_keep
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import (
    DatabaseTooNew,
    EnvironmentProblem,
    FrontdeskError,
    RuleViolation,
)
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, NumberSeries, Patient, SyncState
from frontdesk.paths import DeskPaths
from frontdesk.services import backups, staff
from frontdesk.services.desk import open_desk
from frontdesk.store.context import ServiceContext

# reads the real clock: scripts/clock_matrix.py reruns these at awkward moments
pytestmark = pytest.mark.dates

SYDNEY = ZoneInfo("Australia/Sydney")
_BOOKKEEPING = {"audit_events", "sync_outbox", "alembic_version", "sqlite_sequence"}


def dump(database: Path) -> dict[str, str]:
    """A digest per table of everything a clinic would miss if it were lost (of a compressed
    backup or one in the store: of the database it restores to)."""
    if is_compressed(database) or backup_store.is_manifest(database):
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / "restored.sqlite3"
            materialise(database, plain)
            return dump(plain)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
            # The search index (FTS5 and its shadow tables) is derived from patients.
            if r[0] not in _BOOKKEEPING and not r[0].startswith("patients_fts")
        ]
        out = {}
        for t in tables:
            digest = hashlib.sha256()
            # in a fixed order whatever the table's key (the report summaries have no rowid)
            for row in sorted(repr(r) for r in conn.execute(f"SELECT * FROM {t}")):
                digest.update(row.encode())
            out[t] = digest.hexdigest()
        return out
    finally:
        conn.close()


def refused_and_unchanged(ctx: ServiceContext, backup: Path) -> None:
    """Restoring ``backup`` is refused as damaged, saying so, and the database is as it was."""
    database = _paths(ctx).database
    before = dump(database)
    with pytest.raises(EnvironmentProblem) as err:
        backups.restore(ctx, backup)
    assert "damaged" in err.value.user_message
    assert "Nothing has been changed" in err.value.user_message
    assert dump(database) == before


def _paths(ctx: ServiceContext) -> DeskPaths:
    assert ctx.data_dir is not None
    return DeskPaths(ctx.data_dir)


def test_full_restore_drill(demo_ctx: ServiceContext) -> None:
    ctx = demo_ctx
    paths = _paths(ctx)
    made = backups.backup_now(ctx)
    snapshot = dump(paths.database)
    with ctx.write("rename a patient") as s:
        p = s.scalars(select(Patient).limit(1)).one()
        p.last_name = "Changed-after-backup"
    staff.create_staff(ctx, staff.NewStaff("late", "Late Hire", Role.RECEPTION, "joined later"))
    changed = dump(paths.database)
    assert changed != snapshot

    result = backups.restore(ctx, made)
    assert result.info.clinic_name == "Harbourside Health & Movement"
    assert result.set_aside is not None and result.set_aside.exists()
    # The restored data equals the backup, except what the restore itself starts afresh.
    renewed = {"number_series", "sync_state"}
    restored = dump(paths.database)
    assert {k: v for k, v in restored.items() if k not in renewed} == {
        k: v for k, v in snapshot.items() if k not in renewed
    }
    assert dump(result.set_aside) == changed  # the replaced data is kept, not lost
    again = open_desk(paths)
    try:
        with again.read() as s:
            assert not s.scalars(
                select(Patient).where(Patient.last_name == "Changed-after-backup")
            ).first()
            assert s.scalars(
                select(AuditEvent).where(AuditEvent.action == "database restored")
            ).one()
            # Numbers handed out after the backup may be on paper: numbering carries on from
            # a fresh series, and the desk's audit entries from a new chain.
            series = s.scalars(
                select(NumberSeries).where(NumberSeries.kind == "invoice", NumberSeries.active)
            ).one()
            assert re.fullmatch(r"INV\.[0-9A-Z]{3}", series.prefix), series.prefix
            state = s.get(SyncState, 1)
            assert state is not None and state.restored_at is not None
            assert state.audit_chain_id not in (None, state.device_id)
            assert again.audit_chain == state.audit_chain_id
    finally:
        again.engine.dispose()


def _corrupt_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64 * 1024] = b"\xff" * 64 * 1024
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _newer(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()


def _not_frontdesk(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("spoil", "error", "words"),
    [
        (_truncate, EnvironmentProblem, "damaged"),
        (_corrupt_middle, EnvironmentProblem, "damaged"),
        (
            lambda p: p.write_bytes(b"PK\x03\x04 not a database at all" * 100),
            EnvironmentProblem,
            "damaged",
        ),
        (_not_frontdesk, EnvironmentProblem, "not a frontdesk backup"),
        (_newer, DatabaseTooNew, "newer version"),
        (lambda p: p.unlink(), EnvironmentProblem, "no backup file"),
    ],
    ids=["truncated", "corrupt", "garbage", "other-sqlite", "newer-version", "missing"],
)
def test_bad_backup_files_are_refused_and_change_nothing(
    demo_ctx: ServiceContext, spoil, error: type[FrontdeskError], words: str
) -> None:
    paths = _paths(demo_ctx)
    bad = paths.data_dir.parent / "bad.sqlite3"
    backup_file(paths.database, bad)
    spoil(bad)
    before = dump(paths.database)
    with pytest.raises(error) as err:
        backups.restore(demo_ctx, bad)
    assert words in err.value.user_message
    assert "Nothing has been changed" in err.value.user_message
    assert dump(paths.database) == before
    assert not [b for b in backups.list_backups(paths.backups) if b.kind == "before-restore"]
    assert not list(paths.backups.glob(".*")), "no work files are left behind"
    assert sorted(
        p.name for p in bad.parent.iterdir() if p.name.startswith(("bad", ".inspect"))
    ) == (["bad.sqlite3"] if bad.exists() else [])


def test_backup_of_another_clinic_is_refused_unless_forced(
    demo_ctx: ServiceContext, tmp_path: Path, clock: FakeClock
) -> None:
    other = open_desk(DeskPaths(tmp_path / "other"), clock=clock)
    other_backup = backups.backup_now(other)
    other.engine.dispose()
    paths = _paths(demo_ctx)
    before = dump(paths.database)
    with pytest.raises(RuleViolation, match="another clinic") as err:
        backups.restore(demo_ctx, other_backup)
    assert "--force" in err.value.user_message
    assert dump(paths.database) == before
    result = backups.restore(demo_ctx, other_backup, force=True)
    assert result.info.clinic_name == "My clinic"


def test_a_new_desk_takes_any_clinics_backup(demo_ctx: ServiceContext, tmp_path: Path) -> None:
    made = backups.backup_now(demo_ctx)
    fresh = DeskPaths(tmp_path / "new-pc")
    result = backups.restore_database(fresh, made, now=datetime.now(UTC))
    assert result.set_aside is None
    assert dump(fresh.database)["patients"] == dump(_paths(demo_ctx).database)["patients"]


def test_daily_backup_once_a_day_and_retention(ctx: ServiceContext, clock: FakeClock) -> None:
    paths = _paths(ctx)
    assert backups.daily_backup_if_due(paths, clock, SYDNEY) is not None
    assert backups.daily_backup_if_due(paths, clock, SYDNEY) is None
    for _ in range(40):
        clock.advance(timedelta(days=1))
        backups.daily_backup_if_due(paths, clock, SYDNEY)
    daily = [b for b in backups.list_backups(paths.backups) if b.kind == "daily"]
    days = sorted(b.made_at.astimezone(SYDNEY).date() for b in daily)
    assert len(days) == len(set(days))
    assert days[-7:] == [
        clock.now().astimezone(SYDNEY).date() - timedelta(days=i) for i in range(6, -1, -1)
    ]
    assert len(daily) <= 7 + 4 + 12


def test_retention_rule_keeps_7_daily_4_weekly_12_monthly() -> None:
    start = datetime(2025, 1, 1, 1, tzinfo=UTC)
    stamps = [start + timedelta(days=i) for i in range(730)]
    keep = backups_to_keep(stamps, SYDNEY)
    newest = sorted(stamps)[-7:]
    assert set(newest) <= keep
    months = {(s.astimezone(SYDNEY).year, s.astimezone(SYDNEY).month) for s in keep}
    assert len(months) == 12
    assert len(keep) <= 23


def test_cli_backup_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "desk"
    out = tmp_path / "copy.sqlite3"
    assert main(["--data-dir", str(data), "backup", "--out", str(out)]) == 0
    assert "MB, checked" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "backup"]) == 0  # into the store
    said = capsys.readouterr().out
    assert ".fdbackup" in said and "shared with other backups" in said
    assert out.exists() and not list(tmp_path.glob("copy.sqlite3-*"))
    assert main(["--data-dir", str(data), "backup", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "restore", str(out)]) == 0
    assert "Restored “My clinic”" in capsys.readouterr().out


def test_cli_restore_refuses_while_the_app_is_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "desk"
    out = tmp_path / "copy.sqlite3"
    assert main(["--data-dir", str(data), "backup", "--out", str(out)]) == 0
    before = dump(data / "frontdesk.sqlite3")
    held = QLockFile(str(data / "frontdesk.lock"))
    assert held.tryLock(0)
    try:
        assert main(["--data-dir", str(data), "restore", str(out)]) == 2
    finally:
        held.unlock()
    assert "Close it" in capsys.readouterr().err
    assert dump(data / "frontdesk.sqlite3") == before


def test_backup_copy_is_one_self_contained_file(ctx: ServiceContext) -> None:
    made = backups.backup_now(ctx)
    assert [p.name for p in made.parent.iterdir() if p.name.startswith(made.name)] == [made.name]
    assert shutil.disk_usage(made.parent).free > 0


def test_backup_files_are_named_by_the_clinics_date(ctx: ServiceContext, clock: FakeClock) -> None:
    """Issue 14: at 09:00 on Friday 27 Nov in Sydney the file said 26 Nov (the UTC date)."""
    paths = _paths(ctx)
    made = backups.daily_backup_if_due(paths, clock, SYDNEY)
    assert made is not None and made.name == "daily-20261127-090000+1100.fdbackup"
    (listed,) = backups.list_backups(paths.backups)
    assert listed.made_at == clock.now()
    old_style = paths.backups / "daily-20261120-220000.sqlite3"  # written by earlier versions
    materialise(made, old_style)
    assert [b.made_at for b in backups.list_backups(paths.backups)][-1] == datetime(
        2026, 11, 20, 22, 0, tzinfo=UTC
    )


# -- compressed backups (issue 21) --------------------------------------------------------------
def test_backups_are_compressed_checked_and_restore_like_before(demo_ctx: ServiceContext) -> None:
    paths = _paths(demo_ctx)
    seen: list[tuple[str, float]] = []
    out = paths.data_dir / "off-site.sqlite3.zst"  # one file to take away (--out)
    made = backups.backup_now(demo_ctx, out, progress=lambda what, f: seen.append((what, f)))
    assert is_compressed(made)
    assert made.stat().st_size * 3 < paths.database.stat().st_size
    fractions = [f for _w, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"Copying the database", "Compressing", "Checking the backup"} <= {w for w, _ in seen}
    assert dump(made) == dump(paths.database)
    assert not [p for p in paths.data_dir.glob("off-site*") if p != made]


def test_an_old_uncompressed_backup_still_restores(demo_ctx: ServiceContext) -> None:
    paths = _paths(demo_ctx)
    old = paths.backups / "manual-20251001-090000+1000.sqlite3"  # as earlier versions wrote
    backup_file(paths.database, old)
    assert not is_compressed(old)
    expected = dump(paths.database)["patients"]
    with demo_ctx.write("rename a patient") as s:
        s.scalars(select(Patient).limit(1)).one().last_name = "After"
    assert old in [b.path for b in backups.list_backups(paths.backups)]
    backups.restore(demo_ctx, old)
    assert dump(paths.database)["patients"] == expected


@pytest.mark.parametrize("spoil", [_truncate, _corrupt_middle], ids=["truncated", "corrupt"])
def test_a_damaged_compressed_backup_is_refused_and_changes_nothing(
    demo_ctx: ServiceContext, spoil
) -> None:  # type: ignore[no-untyped-def]
    paths = _paths(demo_ctx)
    made = backups.backup_now(demo_ctx, paths.backups / "manual-20261207-090000.sqlite3.zst")
    spoil(made)
    refused_and_unchanged(demo_ctx, made)
    assert not list(paths.backups.glob(".*")), "no work files are left behind"


def test_a_backup_stopped_half_way_leaves_no_partial_file(ctx: ServiceContext) -> None:
    paths = _paths(ctx)

    def disk_full(what: str, _fraction: float) -> None:
        if what == "Compressing":
            raise OSError(28, "No space left on device")

    with pytest.raises(EnvironmentProblem, match="free disk space"):
        backups.backup_now(ctx, paths.backups / "manual-20261207-090000.sqlite3.zst", disk_full)
    assert list(paths.backups.iterdir()) == []


@pytest.mark.parametrize("check", ["stream", "restore"])
@pytest.mark.parametrize("spoil", [_truncate, _corrupt_middle], ids=["truncated", "corrupt"])
def test_a_packed_file_spoilt_on_the_disk_is_caught_before_it_becomes_a_backup(
    demo_ctx: ServiceContext, tmp_path: Path, spoil, check: str
) -> None:  # type: ignore[no-untyped-def]
    paths = _paths(demo_ctx)
    target = tmp_path / "backups" / "manual-20261207-090000+1100.sqlite3.zst"
    packed = target.with_name(target.name + ".partial")

    def spoil_once_packed(what: str, _fraction: float) -> None:
        # fault injection: the packed file is damaged after Zstandard wrote it, before the check
        if what == "Checking the backup" and packed.exists():
            spoil(packed)

    with pytest.raises(EnvironmentProblem):
        backup_file(paths.database, target, spoil_once_packed, check=check)  # type: ignore[arg-type]
    assert list(target.parent.iterdir()) == [], "no backup and no work file is left"
    made = backup_file(paths.database, target, check=check)  # type: ignore[arg-type]
    assert dump(made) == dump(paths.database)


def test_pruning_keeps_the_folder_within_three_times_the_database(
    ctx: ServiceContext, clock: FakeClock
) -> None:
    paths = _paths(ctx)
    for day in range(10):  # old-style, uncompressed daily backups fill the folder
        when = clock.now() - timedelta(days=10 - day)
        backup_file(
            paths.database, paths.backups / backups.local_name("daily", when, SYDNEY, ".sqlite3")
        )
    manual = backups.backup_now(ctx)
    made = backups.daily_backup_if_due(paths, clock, SYDNEY)
    left = backups.list_backups(paths.backups)
    assert backups.folder_bytes(paths.backups) <= 3 * backups.database_bytes(paths.database)
    assert made in [b.path for b in left] and manual in [b.path for b in left]
    daily = [b for b in left if b.kind == "daily"]
    assert daily[0].path == made  # the oldest went first
    assert len(daily) >= 2


def test_copies_made_before_upgrades_are_listed_counted_and_pruned(
    ctx: ServiceContext, clock: FakeClock
) -> None:
    """An upgrade keeps the database it upgraded (db/migrate.py): those copies are listed for
    a restore, count in the folder's budget and only the last two upgrades' are kept (a
    10-year clinic's copy is ~450 MB; they piled up for ever)."""
    paths = _paths(ctx)
    made = []
    for n, rev in enumerate(("0340_x", "0350_claims", "0360_perf")):
        when = clock.now() - timedelta(days=30 - n)
        made.append(
            backup_file(
                paths.database,
                paths.backups / timestamped_name(f"before-upgrade-{rev}", when, compressed=True),
            )
        )
    listed = backups.list_backups(paths.backups)
    assert [b.kind for b in listed] == ["before-upgrade"] * 3
    assert listed[0].path == made[-1]
    backups.daily_backup_if_due(paths, clock, SYDNEY)
    left = {b.path for b in backups.list_backups(paths.backups)}
    assert made[0] not in left and made[1] in left and made[2] in left
