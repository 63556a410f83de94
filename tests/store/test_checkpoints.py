"""Issue 21, booking: WAL checkpoints run on the desk's own thread once writes pause, never
inside a write (db/checkpoint.py); the WAL stays bounded (each checkpoint lets the next write
start the WAL over, and a commit past BACKSTOP_PAGES still checkpoints by itself)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

from diary_clinic import MONDAY, make_clinic

from frontdesk.db.checkpoint import BACKSTOP_PAGES, Checkpointer
from frontdesk.services import audit, diary
from frontdesk.services.diary import BookingRequest
from frontdesk.store.context import ServiceContext

FRAME = 4096 + 24


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wal_frames(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return (wal.stat().st_size - 32) // FRAME if wal.exists() else 0


def test_bookings_leave_the_main_file_alone_until_the_desk_is_idle(ctx: ServiceContext) -> None:
    clinic = make_clinic(ctx)
    assert ctx.paths is not None and ctx.checkpoints is not None
    db = ctx.paths.database
    checkpoints = ctx.checkpoints
    assert checkpoints.wait_idle()  # the clinic's setting-up writes, checkpointed
    checkpoints.idle_seconds = 3600.0  # the receptionist never pauses during this test
    main_before = _digest(db)
    frames_before = _wal_frames(db)
    start = clinic.at(MONDAY, 9)
    end = start + timedelta(minutes=30)
    for n in range(60):
        req = BookingRequest(clinic.anna, start, end, clinic.pat, notes=f"visit {n}")
        diary.book(ctx, req, allow_clash=True)
    written = _wal_frames(db) - frames_before
    # 60 bookings went to the WAL only: past SQLite's own threshold (1,000 pages), where one
    # of them would have run a checkpoint inside its commit
    assert written > 1000  # ≈ 1,200 pages here
    assert _digest(db) == main_before, "a write copied WAL pages into the main file"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # a plain one
    with ctx.engine.connect() as conn:  # the desk's own connections: the backstop
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_PAGES

    checkpoints.idle_seconds = 0.0  # the desk goes idle
    checkpoints.wrote()
    assert checkpoints.wait_idle()
    assert checkpoints.last is not None
    busy, in_wal, copied = checkpoints.last
    assert busy == 0 and in_wal >= written and copied == in_wal  # everything copied over
    assert _digest(db) != main_before
    size = Path(f"{db}-wal").stat().st_size
    checkpoints.idle_seconds = 3600.0
    diary.book(ctx, BookingRequest(clinic.anna, start, start + timedelta(minutes=30),
                                   clinic.pat), allow_clash=True)  # fmt: skip
    # the next write started the WAL over: it did not grow the file
    assert Path(f"{db}-wal").stat().st_size == size
    with sqlite3.connect(db) as conn:  # the WAL's first frames are the new booking's now
        (count,) = conn.execute("SELECT count(*) FROM appointments").fetchone()
    assert count == 61
    report = audit.verify_chain(ctx)
    assert report.intact, report.message


def test_a_checkpoint_never_creates_a_missing_file(tmp_path: Path) -> None:
    """A restore may have moved the file aside: the thread must not make an empty one."""
    gone = tmp_path / "moved-aside.sqlite3"
    assert Checkpointer(gone).checkpoint() is None
    assert not gone.exists()


def test_a_checkpoint_after_the_desk_closed_makes_no_log_and_keeps_files_private(
    ctx: ServiceContext,
) -> None:
    """Every connection closed (the app quit): SQLite checkpointed and removed the WAL, and a
    checkpoint due then neither makes a new one nor leaves the files readable by others."""
    make_clinic(ctx)
    assert ctx.paths is not None and ctx.checkpoints is not None
    db = ctx.paths.database
    assert ctx.checkpoints.wait_idle()
    ctx.engine.dispose()
    assert not Path(f"{db}-wal").exists()
    assert ctx.checkpoints.checkpoint() is None
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    with sqlite3.connect(db) as conn:  # someone else opens it: the WAL is back
        conn.execute("SELECT count(*) FROM appointments").fetchone()
        db.chmod(0o644)
        assert ctx.checkpoints.checkpoint() is not None
        for part in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert part.stat().st_mode & 0o077 == 0, part
