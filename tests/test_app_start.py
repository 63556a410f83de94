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


def test_data_dir_may_follow_the_command() -> None:
    """``make demo ARGS="--data-dir DIR"`` runs ``frontdesk demo --data-dir DIR`` (issue 14)."""
    from frontdesk.cli import parse

    assert parse(["demo", "--data-dir", "here"]).data_dir == "here"
    assert parse(["--data-dir", "there", "demo"]).data_dir == "there"
    assert parse(["demo"]).data_dir is None


def test_selftest_on_an_enrolled_desk_without_its_keychain_entry_exits_cleanly(
    tmp_path: Path,
) -> None:
    """A desk enrolled with a clinic server whose keychain lost its access key: the sync attempt
    fails in the background while the self-test shuts down, and the process still exits 0 (it
    exited 70, "Signal source has been deleted", in 2 runs of 3)."""
    import sqlite3

    data = tmp_path / "desk"
    assert _run("--data-dir", str(data), "--selftest").returncode == 0
    with sqlite3.connect(data / "frontdesk.sqlite3") as db:
        db.execute("UPDATE sync_state SET server_url = 'https://127.0.0.1:9' WHERE id = 1")
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    for _ in range(4):
        result = _run("--data-dir", str(data), "--selftest", env_extra=env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "selftest ok" in result.stdout
        assert "Signal source has been deleted" not in result.stderr
