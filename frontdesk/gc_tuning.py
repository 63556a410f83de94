"""Garbage-collector settings for a long-running desktop session.

Once the main window is up, everything built so far lives as long as the app: freezing it keeps
it out of the collector's passes. Full (generation-2) collections of what the diary caches later
still took up to 20 ms — longer than a frame — and landed in the middle of day changes and
bookings; collecting the young generation less often and the old ones rarely removes them
(measured with a gc callback around the diary benchmark: no generation-2 pass in a whole run,
largest pause 6 ms).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


def settle_heap() -> None:
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
