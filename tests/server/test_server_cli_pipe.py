"""``frontdesk-server enrol --name X | head -1`` (as the README does) prints no traceback when the
reader stops early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# reads the real clock: scripts/clock_matrix.py reruns these at awkward moments
pytestmark = pytest.mark.dates


def _closed_early(*args: str) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the command prints anything
    _out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err)


def test_server_command_into_a_closed_pipe(tmp_path: Path) -> None:
    db = str(tmp_path / "server.sqlite3")
    done = _closed_early("-m", "frontdesk.server.cli", "--database", db, "enrol", "--name", "X")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()


def test_desk_command_into_a_closed_pipe(tmp_path: Path) -> None:
    done = _closed_early("-m", "frontdesk.app", "--data-dir", str(tmp_path / "d"), "backup")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
