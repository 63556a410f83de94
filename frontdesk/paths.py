"""Where this desk keeps its files: platformdirs folders, or ``--data-dir`` for everything."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from frontdesk import APP_NAME
from frontdesk.services.desk import DeskPaths


def desk_paths(data_dir: str | Path | None) -> DeskPaths:
    if data_dir:
        return DeskPaths(Path(data_dir).expanduser().resolve())
    return DeskPaths(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def log_dir(data_dir: str | Path | None) -> Path:
    if data_dir:
        return Path(data_dir).expanduser().resolve() / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
