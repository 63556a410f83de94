"""Crash handling: an unexpected exception is logged with its traceback and shown in a dialog.

Committed changes are already on disk (every unit of work commits before returning), so a
crash never loses them; the dialog says so and lets the user carry on or quit.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from frontdesk.domain.errors import FrontdeskError

log = logging.getLogger("frontdesk.crash")


def install_crash_handler(log_folder: Path, *, interactive: bool = True) -> None:
    """``interactive=False`` (self-test, CI): print and exit non-zero instead of a dialog."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not interactive:
            traceback.print_exception(kind, exc, tb)
            log.error("unexpected %s during a non-interactive run", kind.__name__)
            os._exit(70)
        if isinstance(exc, FrontdeskError):
            QMessageBox.warning(QApplication.activeWindow(), "frontdesk", exc.user_message)
            return
        # The traceback names code, not patient data; exception text may quote input, so the
        # log keeps only the exception type and the frames.
        frames = "".join(traceback.format_tb(tb))
        log.error("unexpected %s\n%s", kind.__name__, frames)
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(
            "frontdesk hit an unexpected problem. Everything you had saved is safe.\n\n"
            "You can keep working; if it happens again, quit and reopen frontdesk."
        )
        box.setInformativeText(f"Details were written to the log in {log_folder}.")
        box.setDetailedText(f"{kind.__name__}\n{frames}")
        box.exec()

    sys.excepthook = hook
