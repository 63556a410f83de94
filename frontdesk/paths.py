"""Where this desk keeps its files: platformdirs folders, or ``--data-dir`` for everything.

``DeskPaths`` names every file of a desk's data folder (the database, backups, the lock and the
per-machine ``desk.ini``); the service context carries it, so nothing else spells these names.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from frontdesk import APP_NAME

DB_NAME = "frontdesk.sqlite3"
# Patient data: readable by this computer account only (issue 15, item 11).
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077
CONFIG_NAME = "desk.ini"


@dataclass(frozen=True)
class DeskPaths:
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / DB_NAME

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "frontdesk.lock"

    @property
    def config_file(self) -> Path:
        return self.data_dir / CONFIG_NAME


def desk_paths(data_dir: str | Path | None) -> DeskPaths:
    if data_dir:
        return DeskPaths(Path(data_dir).expanduser().resolve())
    return DeskPaths(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def log_dir(data_dir: str | Path | None) -> Path:
    if data_dir:
        return Path(data_dir).expanduser().resolve() / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def private_dir(path: Path) -> Path:
    """Make the folder (and its parents) if needed; the folder itself is this user's only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    with contextlib.suppress(OSError):  # a folder the user does not own: leave it as it is
        path.chmod(PRIVATE_DIR)
    return path


def keep_private(*files: Path) -> None:
    """Files holding patient data (a database, its -wal and -shm, a backup): this user's only."""
    for f in files:
        with contextlib.suppress(OSError):
            if f.exists():
                f.chmod(PRIVATE_FILE)


def private_umask() -> None:
    """Everything this process makes from now on is its user's only (command entry points)."""
    os.umask(PRIVATE_UMASK)
