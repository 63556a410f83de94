"""Logging to a rotating file in the platform's log folder.

Policy: log ids, counts, timings and errors, never names, phone numbers, notes or any other
patient detail. User-facing messages that may quote input are not logged verbatim.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "frontdesk.log"


def setup_logging(log_dir: Path, *, level: int = logging.INFO) -> Path:
    # Logs hold no patient data, but staff names and record ids: this user's only.
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / LOG_NAME
    with contextlib.suppress(OSError):
        log_dir.chmod(0o700)
        path.touch(mode=0o600)
        path.chmod(0o600)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    root.addHandler(handler)
    root.setLevel(level)
    return path
