"""What the desk app imports before its first paint (docs/performance.md, cold start).

The real app is started as a person starts it (``python -m frontdesk.app``, here with
``--selftest``: no sign-in dialog), on an empty clinic and on the demo clinic, each a second
time (the file at head, after a clean exit: the start a receptionist has every morning; the
diary then paints before SQLAlchemy is imported, from a plain sqlite3 read). With
``FRONTDESK_STARTUP_PROBE`` set, the app prints the modules it had imported when the diary
painted. None of the modules below is needed for that paint; each cost tens of milliseconds
of every start when it was imported eagerly. An eager import added back fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# reads the real clock: scripts/clock_matrix.py reruns these at awkward moments
pytestmark = pytest.mark.dates

NOT_BEFORE_THE_PAINT = (
    # the diary paints from a plain sqlite3 read of a file at head (services/early.py); the
    # desk opens after the paint
    "sqlalchemy",
    "frontdesk.models",
    "frontdesk.store.context",
    "frontdesk.services.desk",
    "frontdesk.services.diary.view",
    "alembic",  # only when the file is not at head
    "reportlab",  # documents, printing
    "phonenumbers",  # a phone number not of the quick Australian shape
    "keyring",  # messaging's and sync's secrets
    "httpx",  # sync, messaging
    "pydantic",  # the clinic server's API
    "zstandard",  # backups
    "argon2",  # passwords: the sign-in dialog, not the diary
    "sqlalchemy.dialects.postgresql",  # the clinic server's database
    "frontdesk.server",
    "frontdesk.sync",  # the sync worker starts after the paint
    "frontdesk.ui.sync_worker",
    "frontdesk.services.messaging",  # queueing and sending start after the paint
    "frontdesk.ui.messaging",
    "frontdesk.services.billing",
    "frontdesk.services.claims",
    "frontdesk.services.diary.appointments",  # the booking functions: on the first booking
    "frontdesk.services.backups",
    "frontdesk.services.documents",
    "frontdesk.services.reports",
    "frontdesk.demo",
    "frontdesk.ui.setup_wizard",
)


def _modules_at_paint(data_dir: Path, *extra: str) -> set[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FRONTDESK_STARTUP_PROBE="1")
    done = subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(data_dir), "--selftest", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("FRONTDESK_STARTUP_PROBE_"))
    return set(line.split()[1:])


def _too_early(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        for heavy in NOT_BEFORE_THE_PAINT
        if m == heavy or m.startswith(heavy + ".")
    )


@pytest.mark.parametrize("demo", [False, True], ids=["empty clinic", "demo clinic"])
def test_the_first_paint_imports_none_of_the_heavy_modules(tmp_path: Path, demo: bool) -> None:
    data = tmp_path / "desk"
    first = _modules_at_paint(data, *(["--demo-if-empty"] if demo else []))
    assert "alembic" in first  # the new file was made by the migrations: the probe sees imports
    again = _modules_at_paint(data)
    # the diary was built before the paint (so the list is the first screen's, not less)
    assert {"frontdesk.ui.diary.page", "frontdesk.ui.main_window", "frontdesk.services.early",
            "frontdesk.store.first_day"} <= again  # fmt: skip
    assert _too_early(again) == []


def test_after_a_crash_the_start_goes_the_usual_way(tmp_path: Path) -> None:
    """No clean-exit marker: SQLite reads every page first, and the desk's modules import
    meanwhile (the diary is not painted from a plain read before that check ends)."""
    data = tmp_path / "desk"
    _modules_at_paint(data)
    (data / ".clean-exit").unlink()
    after_crash = _modules_at_paint(data)
    assert {"sqlalchemy", "frontdesk.models", "frontdesk.ui.diary.page"} <= after_crash
    assert _too_early(_modules_at_paint(data)) == []  # that start exited cleanly


def test_the_check_names_an_eager_import() -> None:
    """The filter the test relies on: a module or any of its submodules counts."""
    assert _too_early({"reportlab", "httpx._client", "frontdesk.sync.engine", "frontdesk.ui"}) == [
        "frontdesk.sync.engine",
        "httpx._client",
        "reportlab",
    ]


def test_the_models_declare_their_annotations_unstringified() -> None:
    """``from __future__ import annotations`` in a model module turns each ``Mapped[...]`` into
    a string that SQLAlchemy evaluates while declaring the class (frontdesk/models/base.py)."""
    import frontdesk.models

    folder = Path(frontdesk.models.__file__).parent
    declaring = [p for p in folder.glob("*.py") if "Mapped[" in p.read_text(encoding="utf-8")]
    assert len(declaring) >= 8
    future = "from __future__ import annotations"
    stringified = [p.name for p in declaring if future in p.read_text("utf-8").splitlines()]
    assert stringified == []


def _person_starts(data_dir: Path, account: str | None) -> dict[str, list[str]]:
    """``python -m frontdesk.app`` as a person starts it (no --selftest): the probe's lines."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FRONTDESK_STARTUP_PROBE="1")
    env.pop("FRONTDESK_STARTUP_PROBE_ACCOUNT", None)
    if account is not None:
        env["FRONTDESK_STARTUP_PROBE_ACCOUNT"] = account
    done = subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {x.split()[0]: x.split()[1:] for x in done.stdout.splitlines() if x.strip()}


def test_a_persons_start_paints_the_sign_in_dialog_before_sqlalchemy(tmp_path: Path) -> None:
    """A clinic with staff, closed cleanly: the sign-in dialog paints from a plain sqlite3 read;
    the probe's test account signs in (pressed before the desk is open: it runs once it is,
    once), and the diary paints after."""
    from sqlalchemy import func, select

    from frontdesk.models import AuditEvent
    from frontdesk.paths import desk_paths
    from frontdesk.services import signin, staff
    from frontdesk.services.desk import open_desk

    data = tmp_path / "desk"
    _modules_at_paint(data)  # made, and closed cleanly
    ctx = open_desk(desk_paths(data))
    staff.create_first_owner(ctx, "owner", "Olive Owner", "correct horse")
    signin.sign_in(ctx, "owner", "correct horse")

    def sign_ins() -> int:
        with ctx.read() as s:
            return int(s.scalar(select(func.count()).where(AuditEvent.action == "sign in")) or 0)

    before = sign_ins()
    lines = _person_starts(data, "owner correct horse")
    at_signin = set(lines["FRONTDESK_STARTUP_PROBE_SIGNIN_MODULES"])
    assert {"frontdesk.ui.signin", "frontdesk.services.early", "PySide6.QtWidgets"} <= at_signin
    assert not {"sqlalchemy", "frontdesk.models", "frontdesk.store.context",
                "frontdesk.services.desk"} & at_signin  # fmt: skip
    # signed in, once; then the diary painted (the desk's modules loaded by then)
    assert "frontdesk.ui.diary.page" in lines["FRONTDESK_STARTUP_PROBE_MODULES"]
    assert float(lines["FRONTDESK_STARTUP_PROBE"][0]) >= float(
        lines["FRONTDESK_STARTUP_PROBE_SIGNIN"][0]
    )
    assert "FRONTDESK_STARTUP_PROBE_READY" in lines
    assert sign_ins() == before + 1
    # without an account the probe closes the dialog: no sign-in, no diary
    lines = _person_starts(data, None)
    assert "FRONTDESK_STARTUP_PROBE_SIGNIN" in lines and "FRONTDESK_STARTUP_PROBE" not in lines
    assert sign_ins() == before + 1
    # closing the dialog is a clean exit: the next start paints the dialog first again
    assert (data / ".clean-exit").exists()
    assert "FRONTDESK_STARTUP_PROBE_SIGNIN" in _person_starts(data, None)
    ctx.engine.dispose()
