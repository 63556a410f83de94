"""Issue 21, cold start: the database file's check begins on a thread as the app starts
(``health.EarlyCheck``) and is waited for before anything writes. A damaged file is still
refused before any write; without the clean-exit marker (a crash) the full page-by-page check
still runs; opening the app imports nothing of SQLAlchemy before that check has begun."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.db.health import EarlyCheck, problem_of
from frontdesk.domain.errors import DamagedDatabase
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk

pytestmark = pytest.mark.dates  # the real app process reads the real clock


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(data), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def _closed_desk(tmp_path: Path) -> Path:
    """A desk the app opened and closed cleanly, everything in the file itself."""
    desk = tmp_path / "desk"
    assert _cli(desk, "--selftest").returncode == 0
    assert (desk / ".clean-exit").exists()
    db = desk / "frontdesk.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    return db


def _scribble_leaf(db: Path) -> None:
    """Noise over the last leaf page of a table that spans many pages: what the structural
    check (root pages and the way down to the first row) does not read, and SQLite's
    quick_check does."""
    conn = sqlite3.connect(db)
    try:
        conn.executemany(
            "INSERT INTO sync_outbox (seq, mutation_id, entity, row_id, op, fields_json, "
            "base_version, hlc, created_at, state) VALUES (?, ?, 'patients', ?, 'update', ?, 0, "
            "'0', 1767225600000000, 'applied')",  # 2026-01-01 00:00 UTC, as stored
            [(10_000 + n, f"m{n}", f"r{n}", "x" * 2000) for n in range(200)],
        )
        conn.commit()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        (victim,) = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'sync_outbox' AND pagetype = 'leaf' "
            "ORDER BY path DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    data = bytearray(db.read_bytes())
    data[(victim - 1) * page : victim * page] = random.Random(15).randbytes(page)
    db.write_bytes(bytes(data))


def test_a_start_after_a_crash_still_runs_the_full_check(tmp_path: Path) -> None:
    db = _closed_desk(tmp_path)
    _scribble_leaf(db)
    assert problem_of(db, thorough=False) is None  # the structural check does not see it
    assert problem_of(db) is not None  # SQLite's quick_check does
    (db.parent / ".clean-exit").unlink()  # the app crashed: no marker
    before = db.read_bytes()
    refused = _cli(db.parent, "--selftest")
    assert refused.returncode == 2 and "damaged" in refused.stderr, refused.stderr
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()  # nothing opened it for writing


def test_an_early_check_that_finds_damage_refuses_before_anything_writes(tmp_path: Path) -> None:
    db = _closed_desk(tmp_path)
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'patients'").fetchone()
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    data[(root[0] - 1) * page : root[0] * page] = random.Random(7).randbytes(page)
    db.write_bytes(bytes(data))
    early = EarlyCheck(db, thorough=False)
    with pytest.raises(DamagedDatabase, match="damaged"):
        open_desk(DeskPaths(db.parent), thorough_check=False, early_check=early)
    assert db.read_bytes() == bytes(data)
    assert not Path(f"{db}-wal").exists()


def test_an_early_check_of_a_sound_file_opens_the_desk(tmp_path: Path) -> None:
    db = _closed_desk(tmp_path)
    early = EarlyCheck(db, thorough=True)
    ctx = open_desk(DeskPaths(db.parent), early_check=early)
    ctx.engine.dispose()


def test_opening_the_app_imports_no_sqlalchemy_before_its_check_begins() -> None:
    """The GUI start parses its arguments without the commands' modules (which import
    SQLAlchemy and the models): the file's check can begin at once."""
    code = (
        "import sys; from frontdesk.cli import parse; "
        "a = parse(['--data-dir', 'x', '--selftest']); "
        "print(a.command, a.selftest, 'sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "True", "False"]
