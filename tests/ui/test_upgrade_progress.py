"""A start that upgrades an existing desk (issue 21) shows a progress window through the backup,
the upgrade and the compacting of the file, and closes it before the app goes on; a start with
nothing to upgrade shows none."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from frontdesk import app
from frontdesk.db import migrate
from frontdesk.db.engine import make_engine
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk
from frontdesk.ui.upgrade_progress import UpgradeProgress


def _old_desk(folder: Path) -> DeskPaths:
    """A desk at the revision before 0370_dbsize, with free pages left by a dropped table."""
    paths = DeskPaths(folder)
    open_desk(paths).engine.dispose()
    engine = make_engine(paths.database)
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0360_perf")
    engine.dispose()
    raw = sqlite3.connect(paths.database, isolation_level=None)
    raw.execute("CREATE TABLE scratch AS SELECT zeroblob(4000) AS b FROM "
                "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) "
                "SELECT i FROM n)")  # fmt: skip
    raw.execute("DROP TABLE scratch")
    raw.close()
    return paths


def test_an_upgrading_start_shows_its_progress_then_closes_it(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    paths = _old_desk(tmp_path / "desk")
    monkeypatch.setattr(migrate, "COMPACT_MIN_BYTES", 1 << 20)  # this small desk's scale
    shown: list[tuple[str, int, bool]] = []
    windows: list[UpgradeProgress] = []
    original = UpgradeProgress.__call__

    def watched(self: UpgradeProgress, what: str, fraction: float) -> None:
        original(self, what, fraction)
        assert self.dialog is not None
        windows.append(self)
        shown.append((self.dialog.labelText(), self.dialog.value(), self.dialog.isVisible()))
        folder = os.environ.get("FRONTDESK_SCREENSHOTS")
        if folder and what == "Compacting the database" and fraction < 1:
            self.dialog.grab().save(str(Path(folder) / "upgrade-progress.png"))

    monkeypatch.setattr(UpgradeProgress, "__call__", watched)
    ctx = app._open_context(paths, demo=False)
    ctx.engine.dispose()

    labels = [label.split("…")[0] for label, _v, _shown in shown]
    assert labels[0] == "Copying the database" and labels[-1] == "Upgraded"
    assert "Upgrading the database" in labels and "Compacting the database" in labels
    assert all(visible for _l, _v, visible in shown)
    values = [v for _l, v, _s in shown]
    assert values == sorted(values) and values[-1] == 1000
    assert windows[-1].dialog is None, "closed before the app goes on"
    assert migrate.free_bytes(paths.database)[0] == 0, "compacted"


def test_a_start_with_nothing_to_upgrade_shows_no_window(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    paths = DeskPaths(tmp_path / "desk")
    open_desk(paths).engine.dispose()
    calls: list[str] = []
    monkeypatch.setattr(UpgradeProgress, "__call__", lambda _self, what, _f: calls.append(what))
    app._open_context(paths, demo=False).engine.dispose()
    assert calls == []
