"""Reading the live database file never drops this process's SQLite locks on it (a closed
handle would, on Linux and macOS: another program then deletes the write-ahead log under the
running app and its later writes are lost), and SQLite's lock bytes read as zeros."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.db import backup_store, health
from frontdesk.db.live_file import LOCK_BYTES, PENDING_BYTE, LiveReader, read_at

OTHER_PROGRAM = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); {}; c.close()"


def _other(db: Path, statement: str) -> str:
    code = OTHER_PROGRAM.format(f"print(c.execute({statement!r}).fetchone()[0])")
    run = [sys.executable, "-c", code, str(db)]
    done = subprocess.run(run, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(os.name == "nt", reason="POSIX lock semantics")
def test_a_backup_and_a_check_in_the_app_leave_its_log_to_it(tmp_path: Path) -> None:
    db = tmp_path / "frontdesk.sqlite3"
    app = sqlite3.connect(db, isolation_level=None)  # the running app's connection
    app.execute("PRAGMA journal_mode=WAL")
    app.execute("CREATE TABLE t(x)")
    app.execute("INSERT INTO t VALUES (1)")
    app.execute("SELECT count(*) FROM t").fetchone()  # holds its shared lock from here

    store = tmp_path / "backups"
    store.mkdir()
    backup_store.write_backup(db, store / "one.fdbackup")  # what Back up now does in the app
    assert health.problem_of(db, thorough=False) is None  # and the check before it

    assert _other(db, "SELECT count(*) FROM t") == "1"  # the command line comes and goes
    assert Path(f"{db}-wal").exists()  # it saw the app, so it left the log alone
    app.execute("INSERT INTO t VALUES (2)")
    app.execute("INSERT INTO t VALUES (3)")
    assert _other(db, "SELECT count(*) FROM t") == "3"  # the app's later writes are not lost
    app.close()


def test_the_lock_bytes_read_as_zeros_and_the_rest_as_written(tmp_path: Path) -> None:
    big = tmp_path / "big.sqlite3"
    with big.open("wb") as fh:  # sparse: 1 GiB + 8 KiB, bytes written around the lock page
        fh.seek(PENDING_BYTE - 4)
        fh.write(b"ABCD" + b"\xff" * LOCK_BYTES + b"EFGH")
        fh.truncate(PENDING_BYTE + 8192)
    got = read_at(big, PENDING_BYTE - 4, LOCK_BYTES + 8)
    assert got == b"ABCD" + bytes(LOCK_BYTES) + b"EFGH"
    reader = LiveReader(big)
    reader.seek(PENDING_BYTE - 2)
    assert reader.read(4) == b"CD\x00\x00" and reader.tell() == PENDING_BYTE + 2
    reader.seek(-4, os.SEEK_END)
    assert reader.read() == bytes(4) and reader.read(10) == b""  # the end of the file
    assert read_at(big, 0, 10) == bytes(10)
