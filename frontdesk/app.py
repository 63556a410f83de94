"""Composition root: builds paths, logging, the database context, the bus and the main window.

Nothing else creates those. ``main()`` is the ``frontdesk`` console script.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from frontdesk.cli import parse
from frontdesk.console import stdout_closed
from frontdesk.domain.errors import AlreadyRunning, DamagedDatabase, FrontdeskError
from frontdesk.logs import setup_logging
from frontdesk.paths import DeskPaths, desk_paths, log_dir, private_dir, private_umask

if TYPE_CHECKING:
    from PySide6.QtCore import QObject, QSettings

    from frontdesk.services.early import EarlyContext
    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.input_gate import InputGate
    from frontdesk.ui.main_window import MainWindow
    from frontdesk.ui.signin import EarlySignIn

    _FirstPaint = tuple[MainWindow, ChangeBus, QSettings, InputGate, EarlyContext]

    from frontdesk.db.health import EarlyCheck
    from frontdesk.store.context import ServiceContext
    from frontdesk.store.first_day import FirstScreen

log = logging.getLogger("frontdesk.app")
# Set in the environment: print "<name> <epoch seconds> <process CPU seconds>" once the main
# window has painted, finish starting up, and quit (benchmarks/bench_startup.py times a start
# from the process's launch with it). A person's start prints "<name>_SIGNIN ..." when the
# sign-in dialog has painted; with "<user name> <password>" of a test account in
# STARTUP_PROBE_ACCOUNT it signs in as if typed at once (the benchmark's copy of a clinic),
# without, it closes the dialog once the desk is open.
STARTUP_PROBE = "FRONTDESK_STARTUP_PROBE"
STARTUP_PROBE_ACCOUNT = "FRONTDESK_STARTUP_PROBE_ACCOUNT"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    private_umask()
    logs = log_dir(args.data_dir)
    setup_logging(logs)
    if getattr(args, "run", None):
        try:
            code: int = args.run(args)
            sys.stdout.flush()
        except FrontdeskError as exc:
            print(exc.user_message, file=sys.stderr)
            return 2
        except BrokenPipeError:
            return stdout_closed()
        return code
    return run_gui(desk_paths(args.data_dir), logs, selftest=args.selftest, demo=args.demo_if_empty)


def run_gui(paths: DeskPaths, logs: Path, *, selftest: bool = False, demo: bool = False) -> int:
    from frontdesk.gc_tuning import paused_collector

    with paused_collector():  # turned back on after the first paint (settle_heap)
        return _run_gui(paths, logs, selftest=selftest, demo=demo)


def _run_gui(paths: DeskPaths, logs: Path, *, selftest: bool, demo: bool) -> int:
    started = time.perf_counter()
    # The file's check starts now, on a thread, while Qt and the models import; the start
    # waits for its answer before anything opens the file for writing (_open_context).
    early = _begin_check(paths)
    # No sign-in (--selftest runs as the system): the diary can paint from a plain read of the
    # file before SQLAlchemy and the models are imported (services/early.py); a person's start
    # paints the sign-in dialog that way instead, and the desk opens while they type.
    paint_first = selftest
    signing: EarlySignIn | None = None
    if selftest:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLockFile, QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    from frontdesk.ui.crash import install_crash_handler
    from frontdesk.ui.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("frontdesk")
    app.setOrganizationName("frontdesk")
    apply_style(app)
    install_crash_handler(logs, interactive=not selftest)

    try:
        private_dir(paths.data_dir)
        lock = QLockFile(str(paths.lock_file))
        lock.setStaleLockTime(0)
        if not lock.tryLock(200):
            pid, host, _app = lock.getLockInfo()
            raise AlreadyRunning(
                f"frontdesk is already open on this data folder (process {pid} on {host}). "
                "Switch to that window, or close it first. Two copies on one folder could "
                "overwrite each other's work, so this one will not open."
            )
        first = _painted_first(paths, early, started) if paint_first else None
        if not selftest:
            signing = _signin_painted_first(paths, early, started)
        if first is None:
            _import_past_the_qt_hook()
            try:
                ctx = _open_context(paths, demo, early)
            except DamagedDatabase as exc:
                if signing is not None:  # the usual start's offer, then its dialog
                    signing.dialog.close()
                    signing = None
                if selftest or not _restore_offered(paths, exc):
                    raise
                ctx = _open_context(paths, demo)
    except FrontdeskError as exc:
        if signing is not None:
            signing.dialog.close()
        log.warning("start-up refused: %s", type(exc).__name__)
        if selftest:
            print(exc.user_message, file=sys.stderr)
        else:
            QMessageBox.critical(None, "frontdesk cannot open", exc.user_message)
        return 2

    if first is None:
        from frontdesk.ui.bus import ChangeBus
        from frontdesk.ui.main_window import MainWindow

        # -- staff sign-in (auth): before any patient data shows; --selftest runs as the system --
        if not selftest:
            from frontdesk.ui.signin import sign_in_at_start

            signed = signing.finish(ctx) if signing is not None else sign_in_at_start(ctx)
            if not signed:  # closed, having written nothing: the next start is a clean one's
                _clean_exit_marker(paths).write_bytes(b"")
                lock.unlock()
                return 0
            if os.environ.get(STARTUP_PROBE):  # signed in → diary painted (bench_startup.py)
                print(f"{STARTUP_PROBE}_SIGNED_IN {time.time():.6f}", flush=True)

        bus = ChangeBus()
        ctx.listeners.append(bus.publish)
        prefs = QSettings(str(paths.config_file), QSettings.Format.IniFormat)
        window = MainWindow(ctx, bus, prefs)
        # The diary paints first; what it does not draw starts after (docs/performance.md,
        # cold start). Nothing below runs before the window can take a click: the event loop
        # starts at the end of this function.
        window.show()
        app.processEvents()
        _painted(started)
    else:
        window, bus, prefs, gate, stand_in = first
        # The diary has painted from the plain read; now the desk opens (SQLAlchemy, the
        # models, the migrations' check) and the window is handed over to the services. What
        # the person pressed meanwhile was held, and is delivered now.
        try:
            _import_past_the_qt_hook()
            opened = _open_context(paths, demo, early)
        except FrontdeskError as exc:
            window.close()
            gate.release()
            log.warning("start-up refused: %s", type(exc).__name__)
            print(exc.user_message, file=sys.stderr)
            return 2
        stand_in.attach(opened)
        window.hand_over(opened)
        ctx = opened
        gate.release()
    from frontdesk.services.messaging.worker import QueueingWorker

    # confirmations and notices at booking (issue 18), queued off the GUI thread
    message_queueing = QueueingWorker(ctx)
    ctx.listeners.append(message_queueing.listen)
    guard = wizard = None
    if not selftest:  # auth: Ctrl+L switch user, idle lock, daily backups
        from frontdesk.ui.lock import install_session

        guard = install_session(ctx, bus, window)
    # -- sync with the clinic server (background worker, status bar, "Sync now") --
    from frontdesk.ui.sync_worker import SyncControls, SyncWorker

    sync_worker = SyncWorker(ctx, bus)
    sync_worker.status.connect(lambda text, problem: window.set_sync_status(text, problem=problem))
    controls = SyncControls(window, window.statusBar(), sync_worker)
    sync_worker.start()
    # -- end sync --
    # Messaging's sender (HTTP client, keychain) is imported once the window has painted.
    from PySide6.QtCore import QTimer

    QTimer.singleShot(400, window, lambda: _start_local_sender(ctx, window))
    if not selftest:  # first run: set the clinic up (issue 13)
        from frontdesk.ui.setup_wizard import offer_setup

        wizard = offer_setup(ctx, bus, window)
    app.processEvents()
    # Keep long-lived objects out of the collector's passes, and collect again (gc_tuning.py).
    from frontdesk.gc_tuning import settle_heap

    settle_heap()
    log.info("start-up finished in %.0f ms", (time.perf_counter() - started) * 1000)
    if os.environ.get(STARTUP_PROBE):  # ready for a click (the event loop starts next) ...
        print(f"{STARTUP_PROBE}_READY {time.time():.6f} {time.process_time():.6f}", flush=True)
    if os.environ.get(STARTUP_PROBE):  # ... and quit
        code = 0
        window.close()
    else:
        code = _selftest(window) if selftest else app.exec()
    del guard, controls, wizard  # kept alive while the window runs
    # The self-test shuts down like a closed window: no worker may outlive the objects it reports
    # to (a sync attempt still running at exit met a deleted signal source, and exit 70).
    sync_worker.stop()
    message_queueing.stop()  # what was booked last still gets its confirmation queued
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(5000)
    _clean_exit_marker(paths).write_bytes(b"")
    lock.unlock()
    return code


def _painted(started: float) -> None:
    log.info("main window shown in %.0f ms", (time.perf_counter() - started) * 1000)
    if os.environ.get(STARTUP_PROBE):  # benchmarks/bench_startup.py: when it painted
        # the moment, and the process's CPU time so far (a loaded machine delays the first)
        print(f"{STARTUP_PROBE} {time.time():.6f} {time.process_time():.6f}", flush=True)
        # what the first paint needed (tests/test_startup_imports.py keeps it short)
        print(f"{STARTUP_PROBE}_MODULES {' '.join(sorted(sys.modules))}", flush=True)


def _painted_first(paths: DeskPaths, early: EarlyCheck, started: float) -> _FirstPaint | None:
    """The main window with the diary painted from a plain ``sqlite3`` read of the file
    (services/early.py), before SQLAlchemy and the models are imported; None, having painted
    nothing, whenever the usual start must run instead: a start after a crash (the full check),
    the file not found sound by the early check or not at the migrations' head, no clinic yet,
    the window set to open on another area or with the diary's side panels shown, or any read
    refused."""
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from frontdesk.domain.clock import SystemClock
    from frontdesk.services.early import EarlyContext

    screen = _plain_read(paths, early)
    if screen is None:
        return None
    prefs = QSettings(str(paths.config_file), QSettings.Format.IniFormat)
    if prefs.value("window/area", "diary") != "diary" or prefs.value("diary/panels") == "true":
        return None
    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.input_gate import InputGate
    from frontdesk.ui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    ctx = EarlyContext(paths.database, screen, SystemClock())
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    gate = InputGate(app)
    window = MainWindow(cast("ServiceContext", ctx), bus, prefs)
    window.show()
    app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    _painted(started)
    return window, bus, prefs, gate, ctx


def _plain_read(paths: DeskPaths, early: EarlyCheck) -> FirstScreen | None:
    """The first screen read with plain ``sqlite3``, or None for the usual start (a start
    after a crash, the file not sound, not at the migrations' head, no clinic, a read refused)."""
    from frontdesk.db.head import EXPECTED_HEAD
    from frontdesk.store.first_day import first_screen

    if early.thorough or not early.sound():
        # after a crash SQLite reads every page first (seconds on a big file): the usual start
        # imports the desk's modules meanwhile, which waiting here to paint first would not
        return None
    return first_screen(paths.database, EXPECTED_HEAD)


def _signin_painted_first(
    paths: DeskPaths, early: EarlyCheck, started: float
) -> EarlySignIn | None:
    """A person's start: the sign-in dialog painted from a plain ``sqlite3`` read, before
    SQLAlchemy and the models are imported; the desk opens next, on this thread, while the
    person types (their keys wait in Qt's queue, and a sign-in pressed before the desk is open
    runs once it is: ``EarlySignIn``). None, having painted nothing, whenever the usual start
    must run instead: as for the diary (``_plain_read``), or a clinic with no staff yet (the
    first run's dialog)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from frontdesk.domain.clock import SystemClock
    from frontdesk.services.early import EarlyContext
    from frontdesk.store.first_day import staff_exist

    screen = _plain_read(paths, early)
    if screen is None or not staff_exist(paths.database):
        return None
    from frontdesk.ui.signin import EarlySignIn

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    stand_in = EarlyContext(paths.database, screen, SystemClock())
    signing = EarlySignIn(cast("ServiceContext", stand_in))
    signing.dialog.show()
    app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    log.info("sign-in shown in %.0f ms", (time.perf_counter() - started) * 1000)
    if os.environ.get(STARTUP_PROBE):
        print(f"{STARTUP_PROBE}_SIGNIN {time.time():.6f} {time.process_time():.6f}", flush=True)
        print(f"{STARTUP_PROBE}_SIGNIN_MODULES {' '.join(sorted(sys.modules))}", flush=True)
        _probe_signs_in(signing)
    return signing


def _probe_signs_in(signing: EarlySignIn) -> None:
    """FRONTDESK_STARTUP_PROBE: sign in with the test account as though typed while the desk
    opened (the attempt waits for it), or, with none given, close the dialog."""
    account = os.environ.get(STARTUP_PROBE_ACCOUNT, "").split(" ", 1)
    if len(account) != 2:
        signing.dialog.reject()
        return
    signing.dialog.panel.username.setText(account[0])
    signing.dialog.panel.secret.setText(account[1])
    signing.dialog.panel.attempt()


def _start_local_sender(ctx: ServiceContext, window: QObject) -> None:
    from frontdesk.ui.messaging.sender_worker import LocalSender

    LocalSender(ctx, parent=window).start()  # sends only when no server is set up
    # What the first booking and the first payment need, imported now while the person looks
    # at the diary rather than when they drop their first appointment (the first paint left
    # them out: docs/performance.md, cold start).
    import frontdesk.services.billing
    import frontdesk.services.diary.appointments  # noqa: F401


def _restore_offered(paths: DeskPaths, exc: DamagedDatabase) -> bool:
    """Offer the newest good backup of a damaged database; True once it is restored (the
    damaged file is moved beside the backups, never deleted)."""
    from PySide6.QtWidgets import QMessageBox

    from frontdesk.domain.clock import SystemClock
    from frontdesk.services import backups
    from frontdesk.store.context import Actor

    if not isinstance(exc.backup, Path):
        return False
    answer = QMessageBox.question(
        None,
        "The clinic's database is damaged",
        f"{exc.user_message}\n\nRestore {exc.backup.name} now?",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    clock = SystemClock()
    result = backups.restore_database(paths, exc.backup, now=clock.now(), force=True)
    backups.note_restore(paths, clock, Actor(name="start-up"), result)
    return True


def _clean_exit_marker(paths: DeskPaths) -> Path:
    """Written as the app closes normally, removed as it starts: while it is there the last
    session ended cleanly, so the start checks the file's structure instead of reading every
    page (SQLite's quick_check: seconds on a ten-year clinic). After a crash or power cut the
    full check runs; each backup runs it on its page-for-page copy as well."""
    return paths.data_dir / ".clean-exit"


# The plain-Python modules the first screen uses. Imported before PySide6, whose import hook
# (shiboken's "feature" check) otherwise runs on every later import: ~0.1 s of a start.
_BEFORE_QT = (
    "frontdesk.services.desk",
    "frontdesk.services.clinic_settings",
    "frontdesk.services.diary.lookup",
    "frontdesk.services.diary.groups",
    "frontdesk.services.patients.search",
)


def _import_before_qt() -> None:
    import importlib

    for name in _BEFORE_QT:
        importlib.import_module(name)


def _import_past_the_qt_hook() -> None:
    """The same modules imported after Qt (the diary painted first), with PySide6's import hook
    set aside meanwhile: it only serves modules that ``from __feature__ import`` Qt's features,
    and none of these imports Qt (layer rule 2, tests/test_layers.py); left on, it costs ≈ 0.1 s
    of CPU over the thousands of imports SQLAlchemy and the models make."""
    import builtins

    hooked = builtins.__import__
    builtins.__import__ = getattr(builtins, "__orig_import__", hooked)
    try:
        _import_before_qt()
    finally:
        builtins.__import__ = hooked


def _begin_check(paths: DeskPaths) -> EarlyCheck:
    """The start-up check of the database file, begun on a thread: the structure only after a
    clean exit, SQLite's page-by-page quick_check after a crash or power cut."""
    from frontdesk.db.health import EarlyCheck

    return EarlyCheck(paths.database, thorough=not _clean_exit_marker(paths).exists())


def _open_context(paths: DeskPaths, demo: bool, early: EarlyCheck | None = None) -> ServiceContext:
    """Open the desk (the lock is held). ``early``: the check begun as the process started,
    waited for before anything writes; without it (after a restore) the check runs here."""
    from frontdesk.services.desk import open_desk
    from frontdesk.ui.upgrade_progress import UpgradeProgress

    marker = _clean_exit_marker(paths)
    clean = marker.exists() if early is None else not early.thorough
    marker.unlink(missing_ok=True)
    upgrading = UpgradeProgress()  # shown only if the file is upgraded
    try:
        ctx = open_desk(paths, thorough_check=not clean, progress=upgrading, early_check=early)
    finally:
        upgrading.close()
    if demo:
        from frontdesk.demo.generator import DemoSpec, build_demo, is_empty
        from frontdesk.gc_tuning import collecting

        if is_empty(ctx):
            print("First start: building the demo clinic…", file=sys.stderr)
            with collecting():  # the start-up's pause of the collector is not for this
                build_demo(ctx, DemoSpec())
    return ctx


def _selftest(window: object) -> int:
    from PySide6.QtWidgets import QMainWindow

    assert isinstance(window, QMainWindow)
    pixmap = window.grab()
    if pixmap.isNull() or pixmap.width() < 100:
        print("selftest: the main window did not render", file=sys.stderr)
        return 1
    image = pixmap.toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37)
               for y in range(0, image.height(), 29)}  # fmt: skip
    if len(colours) < 4:
        print("selftest: the main window rendered blank", file=sys.stderr)
        return 1
    problem = _selftest_printing()
    if problem:
        print(f"selftest: {problem}", file=sys.stderr)
        return 1
    print(f"selftest ok: {window.windowTitle()} ({pixmap.width()}x{pixmap.height()})")
    window.close()
    return 0


def _selftest_printing() -> str | None:
    """Printing and print previews draw PDFs through QtPdf: draw a one-page PDF made by ReportLab
    onto a PDF printer, as Print… does (a bundle that left QtPdf out could not print)."""
    import io
    import tempfile

    from PySide6.QtPrintSupport import QPrinter
    from reportlab.pdfgen import canvas

    from frontdesk.ui.billing.common import paint_pdf

    made = io.BytesIO()
    page = canvas.Canvas(made)
    page.drawString(72, 720, "frontdesk self-test")
    page.save()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "printed.pdf"
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        pages = paint_pdf(made.getvalue(), printer)
        if pages != 1 or not out.exists() or out.stat().st_size < 500:
            return f"printing a PDF drew {pages} pages"
    return None


if __name__ == "__main__":
    sys.exit(main())
