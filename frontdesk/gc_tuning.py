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
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


def settle_heap() -> None:
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)


def settle_server_heap() -> None:
    """What the server holds for good out of the collector's passes: garbage collected first
    (the server has no frame to keep; a start-up pass costs nothing to a caller), then the
    rest frozen."""
    gc.collect()
    settle_heap()
