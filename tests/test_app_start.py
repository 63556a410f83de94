"""Start the real application, as a user would, on an empty data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile

from frontdesk.paths import DeskPaths

# reads the real clock: scripts/clock_matrix.py reruns these at awkward moments
pytestmark = pytest.mark.dates


def _run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "frontdesk.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_app_starts_on_an_empty_folder_and_shows_the_main_window(tmp_path: Path) -> None:
    result = _run("--data-dir", str(tmp_path / "new"), "--selftest")
    assert result.returncode == 0, result.stderr
    assert "selftest ok" in result.stdout
    assert (tmp_path / "new" / "frontdesk.sqlite3").exists()


def test_second_copy_on_the_same_folder_explains_and_exits(tmp_path: Path) -> None:
    paths = DeskPaths(tmp_path / "desk")
    paths.data_dir.mkdir(parents=True)
    held = QLockFile(str(paths.lock_file))
    assert held.tryLock(0)
    try:
        result = _run("--data-dir", str(paths.data_dir), "--selftest")
    finally:
        held.unlock()
    assert result.returncode == 2
    assert "already open on this data folder" in result.stderr


def test_logs_hold_no_patient_names(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    assert _run("--data-dir", str(data), "--selftest", "--demo-if-empty").returncode == 0
    log_text = "".join(p.read_text() for p in (data / "logs").glob("*.log*"))
    assert "main window shown" in log_text
    import sqlite3

    names = (
        sqlite3.connect(data / "frontdesk.sqlite3")
        .execute("SELECT last_name FROM patients LIMIT 200")
        .fetchall()
    )
    assert not any(f" {n} " in log_text for (n,) in names)
