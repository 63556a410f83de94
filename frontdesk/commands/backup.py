"""``frontdesk backup [--out FILE]`` and ``frontdesk restore FILE [--force]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from frontdesk.domain.clock import SystemClock
from frontdesk.domain.errors import AlreadyRunning
from frontdesk.paths import desk_paths, private_dir
from frontdesk.services import backups
from frontdesk.services.desk import open_desk
from frontdesk.store.context import Actor

COMMAND_LINE = Actor(name="command line")


def register(sub: Any) -> None:
    b: argparse.ArgumentParser = sub.add_parser("backup", help="back up this desk's database")
    b.add_argument("--out", type=Path, help="where to write the backup (default: backups folder)")
    b.set_defaults(run=run_backup)
    r: argparse.ArgumentParser = sub.add_parser(
        "restore", help="replace this desk's database with a backup (frontdesk must be closed)"
    )
    r.add_argument("file", type=Path, help="the backup file")
    r.add_argument("--force", action="store_true", help="restore even a backup of another clinic")
    r.set_defaults(run=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    ctx = open_desk(desk_paths(args.data_dir))
    ctx.actor = COMMAND_LINE
    try:
        made = backups.backup_now(ctx, args.out.expanduser().resolve() if args.out else None)
    finally:
        ctx.engine.dispose()
    print(f"Backed up to {made} ({backups.describe(made)}).")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QLockFile  # the same lock the app takes (app.py)

    paths = desk_paths(args.data_dir)
    private_dir(paths.data_dir)
    lock = QLockFile(str(paths.lock_file))
    lock.setStaleLockTime(0)
    if not lock.tryLock(200):
        raise AlreadyRunning(
            "frontdesk is open on this data folder. Close it on this computer first, then "
            "restore again. Nothing has been changed."
        )
    try:
        clock = SystemClock()
        result = backups.restore_database(
            paths, args.file.expanduser().resolve(), now=clock.now(), force=args.force
        )
        backups.note_restore(paths, clock, COMMAND_LINE, result)
    finally:
        lock.unlock()
    info = result.info
    print(
        f"Restored “{info.clinic_name}” from {info.path.name}: {info.patients:,} patients, "
        f"{info.appointments:,} appointments."
    )
    if result.set_aside:
        print(f"The database it replaced is kept at {result.set_aside}.")
    return 0
