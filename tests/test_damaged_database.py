"""Issue 15, item 5, through the real command line: a damaged desk database (empty, cut short,
overwritten in the middle) is never opened for writing nor replaced by a new clinic; the
command says what is wrong and names the newest good backup, which ``restore`` puts back while
keeping the damaged file. A backup whose tables differ from its revision is refused."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.db.backup import materialise
from frontdesk.db.health import problem_of

# Real server and desk processes read the real clock (backups, codes, stamps).
pytestmark = pytest.mark.dates


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(data), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def _device(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT device_id FROM sync_state").fetchone()[0])
    finally:
        conn.close()


def _empty(db: Path) -> None:
    db.write_bytes(b"")


def _cut(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 100])


def _scribble(db: Path) -> None:
    data = bytearray(db.read_bytes())
    noise = random.Random(15).randbytes(64 * 1024)
    start = 4096
    data[start : start + len(noise)] = noise[: max(0, len(data) - start)]
    db.write_bytes(bytes(data[: len(db.read_bytes())]))


@pytest.mark.parametrize(
    ("damage", "said"),
    [(_empty, "is empty"), (_cut, "cut short"), (_scribble, "damaged")],
)
def test_a_damaged_database_is_kept_and_the_backup_offered(
    tmp_path: Path, damage: object, said: str
) -> None:
    desk = tmp_path / "desk"
    made = _cli(desk, "backup")
    assert made.returncode == 0, made.stderr
    db = desk / "frontdesk.sqlite3"
    device = _device(db)
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    damage(db)  # type: ignore[operator]
    before = db.read_bytes()

    refused = _cli(desk, "backup")
    assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert "frontdesk restore" in refused.stderr and "Traceback" not in refused.stderr
    assert db.read_bytes() == before  # untouched: no new clinic over it
    assert not list(desk.rglob("*.partial"))
    selftest = _cli(desk, "--selftest")
    assert selftest.returncode == 2 and said in selftest.stderr
    assert db.read_bytes() == before

    backup = next((desk / "backups").glob("manual-*.fdbackup"))  # in the store (issue 21)
    restored = _cli(desk, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    kept = list((desk / "backups").glob("damaged-*.sqlite3"))
    assert len(kept) == 1 and kept[0].read_bytes() == before
    assert _device(db) == device
    assert _cli(desk, "backup").returncode == 0


def _checkpointed(db: Path) -> None:
    """Everything in the database file itself (no -wal beside it), as after a closed app."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


def _scribble_root(db: Path) -> None:
    """Noise over the root page of the patients table (what a start reads first)."""
    conn = sqlite3.connect(db)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'patients'").fetchone()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    data = bytearray(db.read_bytes())
    data[(root[0] - 1) * page : root[0] * page] = random.Random(21).randbytes(page)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "said"),
    [(_empty, "is empty"), (_cut, "cut short"), (_scribble_root, "damaged")],
)
def test_a_start_after_a_clean_exit_still_refuses_a_damaged_file(
    tmp_path: Path, damage: object, said: str
) -> None:
    """After a clean exit the start skips SQLite's page-by-page check (seconds on a big clinic)
    but still refuses a file that is empty, cut short or damaged where it starts reading."""
    desk = tmp_path / "desk"
    assert _cli(desk, "--selftest").returncode == 0
    assert (desk / ".clean-exit").exists()
    assert _cli(desk, "--selftest").returncode == 0  # the quick structural check passes
    db = desk / "frontdesk.sqlite3"
    _checkpointed(db)
    assert problem_of(db, thorough=False) is None
    damage(db)  # type: ignore[operator]
    before = db.read_bytes()
    selftest = _cli(desk, "--selftest")
    assert selftest.returncode == 2 and said in selftest.stderr, selftest.stderr
    assert db.read_bytes() == before


def test_damage_the_quick_start_check_misses_is_refused_by_the_next_backup(
    tmp_path: Path,
) -> None:
    desk = tmp_path / "desk"
    assert _cli(desk, "--selftest").returncode == 0
    db = desk / "frontdesk.sqlite3"
    _checkpointed(db)
    _scribble(db)
    assert problem_of(db) is not None  # the full check (after a crash, before each backup)
    refused = _cli(desk, "backup")  # the daily backup runs the full check first
    assert refused.returncode == 2 and "damaged" in refused.stderr, refused.stderr
    assert not list((desk / "backups").glob("*.fdbackup"))


def test_a_backup_whose_tables_differ_is_refused(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    assert _cli(desk, "backup").returncode == 0
    backup = next((desk / "backups").glob("manual-*.fdbackup"))
    odd = tmp_path / "odd.sqlite3"
    materialise(backup, odd)  # an uncompressed backup, changed by hand
    conn = sqlite3.connect(odd)
    conn.execute("ALTER TABLE patients DROP COLUMN gp_practice")
    conn.commit()
    conn.close()
    refused = _cli(desk, "restore", str(odd))
    assert refused.returncode == 2 and "patients.gp_practice" in refused.stderr, refused.stderr
