"""Fault injection for the crash tests: ``FRONTDESK_PAUSE_AT=point:n`` makes a process stop the
n-th time it reaches ``checkpoint(point)``, create the file named by ``FRONTDESK_PAUSE_FILE``
and wait there to be killed (or, once the test removes that file, go on), so a test can kill -9
it, or act while it waits, at an exact place instead of guessing with timers. Unset (always,
outside tests) a checkpoint costs one dictionary lookup.

Points: ``desk.push.answered`` (the server answered a push, the desk has not recorded it),
``desk.pull.received`` (a pulled batch has arrived, not yet applied: a slow link),
``desk.pull.applied`` (a pulled batch is committed), ``desk.snapshot.written`` (a transaction
of snapshot pages is committed), ``server.push.chunk`` (the server committed
part of a push and is about to start the next part), ``server.check.counts`` (the server has
read its change-log position for a desk's check, not yet the table counts).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_counts: dict[str, int] = {}
_lock = threading.Lock()


def checkpoint(point: str) -> None:
    wanted = os.environ.get("FRONTDESK_PAUSE_AT")
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    with _lock:
        _counts[point] = _counts.get(point, 0) + 1
        reached = _counts[point] == int(nth or "1")
    if not reached:
        return
    marker = os.environ.get("FRONTDESK_PAUSE_FILE")
    if marker:
        Path(marker).write_text(point, encoding="utf-8")
    # Wait here until the test kills this process, or removes the file to let it go on.
    while not marker or Path(marker).exists():
        time.sleep(0.05)
