"""Garbage-collector settings for long-running processes: the desktop session and the clinic
server.

Once the main window is up, everything built so far lives as long as the app: freezing it keeps
it out of the collector's passes. Full (generation-2) collections of what the diary caches later
still took up to 20 ms — longer than a frame — and landed in the middle of day changes and
bookings; collecting the young generation less often and the old ones rarely removes them
(measured with a gc callback around the diary benchmark: no generation-2 pass in a whole run,
largest pause 6 ms).

The clinic server is the same case: its modules, the phone index (150,000 patients' numbers on
the 10-year clinic) and its pools live as long as the process, and every full collection walked
them — on PostgreSQL one availability call in twelve paid a 20–230 ms pass (a gc callback
around ``bench_api_pg``'s searches, docs/performance.md). ``settle_server_heap`` runs when the
server has started and again when the phone index is built.

During the start-up itself the collector does not run at all (``paused_collector``): importing
SQLAlchemy, the models and Qt's wrappers, and building the first screen, create hundreds of
thousands of objects that all live as long as the app, and the default thresholds walked them
in several full passes before the first paint (≈ 0.1 s of the start's CPU; docs/performance.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


@contextmanager
def paused_collector() -> Iterator[None]:
    """No collector passes until ``settle_heap`` (or the end of the block, whatever happens)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextmanager
def collecting() -> Iterator[None]:
    """The collector on for a block inside ``paused_collector`` that makes garbage of its own
    (building the demo clinic at a first start)."""
    was_on = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_on:
            gc.disable()


def settle_heap() -> None:
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
    gc.enable()


def settle_server_heap() -> None:
    """What the server holds for good out of the collector's passes: garbage collected first
    (the server has no frame to keep; a start-up pass costs nothing to a caller), then the
    rest frozen."""
    gc.collect()
    settle_heap()
