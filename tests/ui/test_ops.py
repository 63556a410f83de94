"""run_op: a refused service call shows its message where the screen asks and the screen
refreshes either way; a bug is not swallowed."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.ui.ops import in_label, run_op


def test_a_refusal_is_shown_and_the_screen_refreshes(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel()
    qtbot.addWidget(label)
    refreshed: list[int] = []

    def refuse() -> int:
        raise RuleViolation("That slot is taken.")

    done = run_op(refuse, in_label(label), refresh=lambda: refreshed.append(1))
    assert not done and done.value is None
    assert label.text() == "That slot is taken." and refreshed == [1]

    shown: list[FrontdeskError] = []
    ok = run_op(lambda: 42, shown.append, refresh=lambda: refreshed.append(2))
    assert ok and ok.get() == 42 and shown == [] and refreshed == [1, 2]


def test_a_bug_goes_on_to_the_crash_handler() -> None:
    refreshed: list[int] = []
    with pytest.raises(ZeroDivisionError):
        run_op(lambda: 1 // 0, lambda _exc: None, refresh=lambda: refreshed.append(1))
    assert refreshed == [1]
