"""Moves the clock of every Python process started with this folder on PYTHONPATH (the test run
and each desk, server or command it starts) by CLOCK_MATRIX_OFFSET seconds, with time-machine:
wall-clock time and dates move, the clock keeps running, monotonic clocks and sleeps are left
alone. Used only by scripts/clock_matrix.py; nothing in frontdesk knows about it."""

import os

_offset = os.environ.get("CLOCK_MATRIX_OFFSET")
if _offset:
    import time

    import time_machine

    _traveller = time_machine.travel(time.time() + float(_offset), tick=True)
    _traveller.start()
