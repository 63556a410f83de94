"""Where this desk keeps its files: platformdirs folders, or ``--data-dir`` for everything.

``DeskPaths`` names every file of a desk's data folder (the database, backups, the lock and the
per-machine ``desk.ini``); the service context carries it, so nothing else spells these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from frontdesk import APP_NAME

DB_NAME = "frontdesk.sqlite3"
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
