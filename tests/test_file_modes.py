"""Issue 15, item 11, through the real command lines: the desk database, its backups and logs,
and the server's database are readable by their user only (files 0600, folders 0700)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="POSIX file modes"),
    pytest.mark.dates,  # the real commands read the real clock (backup names)
]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(*args: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_desk_files_are_private(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    _run("-m", "frontdesk.app", "--data-dir", str(desk), "backup")
    files = [desk / "frontdesk.sqlite3", *(desk / "backups").glob("*.fdbackup"),
             *(desk / "backups" / "chunks").glob("*/*.zst"),
             *(desk / "logs").glob("*.log")]  # fmt: skip
    assert len(files) >= 4, list(desk.rglob("*"))
    assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    chunk_folders = [p for p in (desk / "backups" / "chunks").iterdir() if p.is_dir()]
    for folder in (desk, desk / "backups", desk / "logs", desk / "backups" / "chunks",
                   *chunk_folders):  # fmt: skip
        assert _mode(folder) == 0o700, folder
    assert not list(desk.rglob("*.partial"))


def test_server_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "server"
    _run("-m", "frontdesk.server.cli", "--data-dir", str(data), "init")
    _run("-m", "frontdesk.server.cli", "--data-dir", str(data), "enrol", "--name", "x")
    assert _mode(data) == 0o700
    db = data / "server.sqlite3"
    assert _mode(db) == 0o600
    for f in data.iterdir():
        assert _mode(f) & 0o077 == 0, f
