"""One application-wide signal for change notices, delivered on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from frontdesk.store.changes import ChangeNotice


class ChangeBus(QObject):
    """Bridges ServiceContext listeners (any thread) to a Qt signal (GUI thread)."""

    changed = Signal(object)
    # ("area key", payload dict): ask the main window to show an area and hand it the payload,
    # e.g. ("diary", {"book_for_patient": id}) or ("patients", {"open_patient": id}).
    navigate = Signal(str, object)
    # A screen asks for a sync now; the sync worker (wired by app.py) answers with ``synced``.
    sync_requested = Signal()
    synced = Signal(object)  # SyncSummary
    _relay = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        # Queued: a notice raised on a worker thread is delivered in the GUI thread's loop;
        # one raised on the GUI thread arrives after the current slot returns.
        self._relay.connect(self.changed.emit, Qt.ConnectionType.QueuedConnection)

    def publish(self, notice: ChangeNotice) -> None:
        self._relay.emit(notice)
