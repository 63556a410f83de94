"""A serving app (``create_app(serving=True)``: ``frontdesk-server run`` and each of its
``--workers`` processes) keeps what it built at start-up out of the garbage collector's passes
(``gc_tuning.settle_server_heap``); an app made in a test, which comes and goes with many
others in one process, leaves the collector as it is."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from frontdesk.gc_tuning import OLDER_THRESHOLD, YOUNG_THRESHOLD
from frontdesk.server.app import create_app


def _started(tmp_path: Path, serving: bool) -> tuple[int, tuple[int, int, int]]:
    """The frozen objects' count and the thresholds once the app has started (put back
    after)."""
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        app = create_app(str(tmp_path / "server.sqlite3"), serving=serving)
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
            for thread in threading.enumerate():  # the phone index's build settles again
                if thread.name == "phone-index":
                    thread.join(timeout=30)
            return gc.get_freeze_count(), gc.get_threshold()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_serving_app_freezes_what_it_built(tmp_path: Path) -> None:
    frozen, threshold = _started(tmp_path, serving=True)
    assert frozen > 10_000  # the modules, the app, the pools
    assert threshold == (YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)


def test_an_app_in_a_test_leaves_the_collector_alone(tmp_path: Path) -> None:
    gc.set_threshold(700, 10, 10)
    try:
        frozen, threshold = _started(tmp_path, serving=False)
    finally:
        gc.set_threshold(700, 10, 10)
    assert frozen == 0
    assert threshold == (700, 10, 10)
