"""The window shown while a start-up upgrades the database (back up, upgrade, compact): made on
the first progress report, so a start with nothing to upgrade shows nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressDialog


class UpgradeProgress:
    """A ``progress(what, fraction)`` callable for ``open_desk``: a modal progress window that
    repaints at each report (the upgrade runs before the main window exists)."""

    def __init__(self) -> None:
        self.dialog: QProgressDialog | None = None
        self.seen: list[str] = []

    def __call__(self, what: str, fraction: float) -> None:
        if self.dialog is None:
            self.dialog = QProgressDialog("", "", 0, 1000)
            self.dialog.setObjectName("upgradeProgress")
            self.dialog.setWindowTitle("Upgrading the clinic's data")
            self.dialog.setCancelButton(None)  # stopping half-way would leave nothing gained
            self.dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
            self.dialog.setMinimumDuration(0)
            self.dialog.setMinimumWidth(420)
            self.dialog.setAutoReset(False)  # stays at 100% until the app closes it
            self.dialog.setAutoClose(False)
            self.dialog.show()
        if not self.seen or self.seen[-1] != what:
            self.seen.append(what)
        self.dialog.setLabelText(
            f"{what}…\nfrontdesk keeps a copy of the data from before the upgrade."
        )
        self.dialog.setValue(round(1000 * max(0.0, min(fraction, 1.0))))
        QApplication.processEvents()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
