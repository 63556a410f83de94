"""Background work comes back to the GUI thread once, and nothing is deleted under a worker."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QThreadPool

from frontdesk.ui import workers


def test_many_quick_tasks_deliver_once_and_let_go(qtbot, capfd: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """Quick tasks race their own callbacks: each result or error arrives exactly once, no
    worker meets a deleted signal source, and every task is let go afterwards (a task is kept
    until both its run() returned and its callback ran; tests/test_app_start.py has the exit
    this once caused)."""
    pool = QThreadPool()
    pool.setMaxThreadCount(4)
    results: list[int] = []
    errors: list[BaseException] = []
    hooked: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda a: hooked.append(a.exc_value)  # type: ignore[assignment,arg-type]
    try:
        n = 400
        for i in range(n):
            if i % 7 == 0:
                workers.run_in_background(
                    lambda i=i: (_ for _ in ()).throw(ValueError(i)), results.append,
                    errors.append, pool,
                )  # fmt: skip
            else:
                workers.run_in_background(lambda i=i: i, results.append, errors.append, pool)
        qtbot.waitUntil(lambda: len(results) + len(errors) == n, timeout=20_000)
        pool.waitForDone()
        qtbot.wait(50)
        workers.run_in_background(lambda: -1, results.append, errors.append, pool)
        qtbot.waitUntil(lambda: -1 in results, timeout=5_000)
        pool.waitForDone()
        workers._sweep()
    finally:
        threading.excepthook = old_hook
    assert sorted(results) == [-1] + [i for i in range(n) if i % 7]
    assert sorted(int(str(e)) for e in errors) == [i for i in range(n) if i % 7 == 0]
    assert not hooked
    assert "Signal source has been deleted" not in capfd.readouterr().err
    assert not workers._keep


def test_a_page_closed_while_its_work_runs_is_not_called_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A settings page deleted while its load was still running (the area closed, a test
    ending) must not be handed the result or the error: its labels are gone."""
    from PySide6.QtWidgets import QLabel

    from frontdesk.ui.workers import run_in_background

    release = threading.Event()
    calls: list[str] = []

    class Page(QLabel):
        def show_result(self, result: object) -> None:
            calls.append("done")
            self.setText(str(result))  # would raise on a deleted label

    def slow() -> str:
        release.wait(5)
        return "loaded"

    page = Page()
    run_in_background(slow, page.show_result, lambda exc: calls.append("failed"))
    kept = Page()
    run_in_background(lambda: "kept", kept.show_result, lambda exc: calls.append("failed"))
    qtbot.waitUntil(lambda: kept.text() == "kept")
    shiboken6.delete(page)  # the page is closed and gone while its work still runs
    release.set()
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(50)  # the queued result reaches the GUI thread
    assert calls == ["done"]  # only the page still open was called back
