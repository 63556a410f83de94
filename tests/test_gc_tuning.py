"""The collector during the start-up (frontdesk/gc_tuning.py): off until the first paint, on
while a first start builds the demo clinic, and on again whatever ends the start."""

from __future__ import annotations

import gc

import pytest

from frontdesk.gc_tuning import collecting, paused_collector, settle_heap


@pytest.fixture(autouse=True)
def _restore_collector():  # type: ignore[no-untyped-def]
    thresholds, was_on = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.enable() if was_on else gc.disable()


def test_paused_until_the_heap_is_settled() -> None:
    gc.enable()
    with paused_collector():
        assert not gc.isenabled()
        with collecting():  # the demo's build
            assert gc.isenabled()
        assert not gc.isenabled()
        settle_heap()  # after the first paint
        assert gc.isenabled() and gc.get_freeze_count() > 0
    assert gc.isenabled()


def test_a_start_that_fails_turns_the_collector_back_on() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_collector():
        raise RuntimeError("the desk was refused")
    assert gc.isenabled()
