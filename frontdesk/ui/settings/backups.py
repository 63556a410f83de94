"""Settings → Backups: the backups folder, "Back up now" and "Restore…"; and the automatic
daily backup, which runs off the GUI thread at start and then every hour it is due."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.services import backups
from frontdesk.services.permissions import Action, allowed
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.settings.gate import Gated
from frontdesk.ui.table_helpers import fill_rows, read_only_table
from frontdesk.ui.workers import run_in_background

log = logging.getLogger("frontdesk.backups")
KIND_LABELS = {
    "daily": "Automatic",
    "manual": "Back up now",
    "before-restore": "Before a restore",
    "before-upgrade": "Before an upgrade",
}


def start_daily_backups(
    ctx: ServiceContext, parent: QWidget, *, first_after_ms: int = 5_000
) -> QTimer | None:
    """Check at start (a few seconds in, once the window is up) and then hourly, so a desk left
    running overnight still backs up each day."""
    paths = ctx.paths
    if paths is None:
        return None

    def run() -> None:
        tz = ctx.tz  # read on the GUI thread; the copy itself runs on a worker
        run_in_background(
            lambda: backups.daily_backup_if_due(paths, ctx.clock, tz),
            lambda made: log.info("daily backup %s", "written" if made else "not due"),
            failed,
        )

    def failed(exc: BaseException) -> None:
        log.warning("daily backup failed: %s", type(exc).__name__)
        window = parent.window()
        if isinstance(window, QMainWindow):  # said where reception sees it, until the next
            words = getattr(exc, "user_message", None) or "see the log for why"
            window.statusBar().showMessage(f"Today's backup was not made: {words}")

    timer = QTimer(parent)
    timer.timeout.connect(run)
    timer.start(60 * 60 * 1000)
    QTimer.singleShot(first_after_ms, parent, run)
    return timer


class _Progress(QObject):
    """Carries a backup's progress from the worker thread to the GUI thread (queued)."""

    changed = Signal(str, float)


class BackupsPanel(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        assert ctx.paths is not None
        self.paths = ctx.paths
        intro = QLabel(
            f"frontdesk backs up this desk's database every day it runs, into {self.paths.backups}"
            " — compressed, checked, and each part of the file kept once, so a backup adds "
            "only what changed since the one before: 7 daily, 4 weekly and 12 monthly within "
            "three times the database's size. Copy the whole backups folder to a USB drive or "
            "another computer now and then: a backup on the same disk does not survive the disk."
        )
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        # Own: what only this backup holds (what deleting it would free); shared: what it has
        # in common with other backups in the folder.
        self.table = read_only_table(("Made", "Kind", "Own", "Shared"), "backupsTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._found: list[backups.BackupFile] = []
        self.backup_button = QPushButton("Back up now")
        self.backup_button.setProperty("primary", True)
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_selected_button = QPushButton("Restore this backup…")
        self.restore_selected_button.setObjectName("restoreSelected")
        self.restore_selected_button.clicked.connect(self.restore_selected)
        self.restore_selected_button.setEnabled(False)  # until a backup is picked
        self.restore_button = QPushButton("Restore from a file…")
        self.restore_button.clicked.connect(self.choose_restore)
        self.message = QLabel("")
        self.message.setObjectName("backupMessage")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("backupProgress")
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        self._progress = _Progress(self)
        self._progress.changed.connect(self._show_progress)
        row = QHBoxLayout()
        row.addWidget(self.backup_button)
        row.addWidget(self.restore_selected_button)
        row.addWidget(self.restore_button)
        row.addWidget(self.progress)
        row.addWidget(self.message, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(intro)
        col.addWidget(self.table, 1)
        col.addLayout(row)
        self.reload()

    def reload(self) -> None:
        may_restore = allowed(self.ctx.actor.role, Action.RESTORE)
        self.restore_button.setEnabled(may_restore)
        self.restore_button.setToolTip(
            "" if may_restore else f"Only the owner can {Action.RESTORE.value}."
        )
        # Reading the manifests of a ten-year clinic (≈ 38,000 chunks each; 0.7 s for five,
        # measured) is for the background: the rows are filled when it is done.
        folder = self.paths.backups
        run_in_background(
            lambda: (backups.list_backups(folder), backups.store_usage(folder)),
            self._fill,
            lambda exc: log.warning("backups not listed: %s", type(exc).__name__),
        )

    def _fill(self, listing: tuple[list[backups.BackupFile], dict[Path, tuple[int, int]]]) -> None:
        found, usage = listing
        self._found = found
        tz = self.ctx.tz
        rows = []
        for b in found:
            own, shared = usage.get(b.path, (b.size, 0)) if b.in_store else (b.size, 0)
            rows.append(
                (
                    b.made_at.astimezone(tz).strftime("%a %d/%m/%Y %H:%M"),
                    KIND_LABELS.get(b.kind, b.kind),
                    _bytes(own),
                    _bytes(shared) if b.in_store else "—",
                )
            )
        fill_rows(self.table, rows)
        self._selection_changed()

    def _selection(self) -> backups.BackupFile | None:
        picked = self.table.selectionModel().selectedRows()
        return self._found[picked[0].row()] if picked else None

    def _selection_changed(self) -> None:
        may_restore = allowed(self.ctx.actor.role, Action.RESTORE)
        self.restore_selected_button.setEnabled(may_restore and self._selection() is not None)

    def restore_selected(self) -> None:
        chosen = self._selection()
        if chosen is not None:
            self.restore_from(chosen.path)

    def back_up_now(self) -> None:
        self.backup_button.setEnabled(False)
        self.message.setText("Backing up…")
        self.progress.setValue(0)
        self.progress.show()
        emit = self._progress.changed.emit  # safe from the worker thread: queued to the GUI
        run_in_background(
            lambda: backups.backup_now(self.ctx, progress=emit, thorough=False),
            self._backed_up,
            self._failed,
        )

    def _show_progress(self, what: str, fraction: float) -> None:
        self.progress.setValue(round(fraction * 100))
        self.message.setText(f"{what}…" if fraction < 1 else what)

    def _backed_up(self, made: Path) -> None:
        self.progress.hide()
        self.backup_button.setEnabled(True)
        self.message.setText(f"Backed up and checked: {made.name}")
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.backup_button.setEnabled(True)
        self.restore_button.setEnabled(True)
        self._selection_changed()
        text = exc.user_message if isinstance(exc, FrontdeskError) else "It did not work."
        self.message.setText(text)
        QMessageBox.warning(self, "Backups", text)

    def choose_restore(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            "Restore from a backup",
            str(self.paths.backups),
            "frontdesk backups (*.fdbackup *.sqlite3.zst *.sqlite3)",
        )
        if name:
            self.restore_from(Path(name))

    def restore_from(self, path: Path, *, force: bool = False, confirm: bool = True) -> None:
        found = run_op(
            lambda: backups.inspect_backup(path, self.paths.backups), in_box(self, "Restore")
        )
        if not found:
            return
        info = found.get()
        if confirm:
            answer = QMessageBox.question(
                self, "Restore",
                f"Replace everything on this desk with the backup {path.name}?\n\n"
                f"It holds “{info.clinic_name}”: {info.patients:,} patients, "
                f"{info.appointments:,} appointments, {info.staff} staff accounts.\n\n"
                "The current database is kept in the backups folder. frontdesk closes after "
                "the restore; open it again to carry on.",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.restore_button.setEnabled(False)
        self.restore_selected_button.setEnabled(False)
        self.message.setText("Restoring…")
        run_in_background(
            lambda: backups.restore(self.ctx, path, force=force),
            self._restored,
            lambda exc: self._restore_failed(exc, path),
        )

    def _restore_failed(self, exc: BaseException, path: Path) -> None:
        if isinstance(exc, RuleViolation) and "another clinic" in exc.user_message:
            self.restore_button.setEnabled(True)
            answer = QMessageBox.question(
                self, "Restore another clinic's backup?", exc.user_message.split(" To replace")[0]
                + "\n\nReplace this clinic's data with it anyway?",
            )  # fmt: skip
            if answer == QMessageBox.StandardButton.Yes:
                self.restore_from(path, force=True, confirm=False)
            else:
                self.message.setText("Nothing has been changed.")
            return
        self._failed(exc)

    def _restored(self, result: backups.RestoreResult) -> None:
        QMessageBox.information(
            self, "Restored",
            f"Restored “{result.info.clinic_name}” from {result.info.path.name}. "
            "frontdesk will close now; open it again to carry on with the restored data.",
        )  # fmt: skip
        app = QApplication.instance()
        if app is not None:
            for window in QApplication.topLevelWidgets():
                window.close()
            app.quit()


def _bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return Gated(ctx, bus, Action.BACKUP, lambda: BackupsPanel(ctx, bus), parent)
