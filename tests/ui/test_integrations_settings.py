"""Settings → Integrations, driven like a person would, against a real ``frontdesk-server run``
on loopback with this desk enrolled over HTTP: the owner (signed in with their password)
makes a key — bad input first — sees it once and copies it, the key works, its calls show in
the log, and revoking it stops it at once. A desk's token alone cannot make a key: unsigned,
forged and replayed requests are refused and nothing is made. Reception sees no keys."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QMessageBox

from frontdesk.domain import signing
from frontdesk.domain.vocab import Role
from frontdesk.protocol import Endpoint
from frontdesk.services import signin, staff
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.store.context import Actor
from frontdesk.sync import integrations as svc
from frontdesk.sync.setup import engine_for, enrol
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.integrations import IntegrationsPage
from tests.server.live import LiveServer, start_server
from tests.sync.fakes import install_memory_keyring
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def _keychain() -> None:
    install_memory_keyring()  # the desk keeps its server token here (a fake: no desktop)


@pytest.fixture
def live(tmp_path: Path) -> Any:
    server = start_server(tmp_path / "srv", str(tmp_path / "server.sqlite3"))
    try:
        ctx = open_desk(DeskPaths(tmp_path / "desk"))
        staff.create_first_owner(ctx, "owner", "Olive Owner", "correct horse")
        signin.sign_in(ctx, "owner", "correct horse")
        enrol(ctx, server.base, server.code("Front desk"), device_name="Front desk")
        engine_for(ctx).sync()  # the owner's account and public key reach the server
        yield server, ctx
    finally:
        server.stop()


def _error(dialog: Any, field: str) -> str:
    label = dialog.findChild(QLabel, f"error_{field}")
    assert label is not None
    return str(label.text()) if label.isVisible() else ""


def _api_keys(server: LiveServer, token: str) -> list[dict[str, Any]]:
    """The keys as the server lists them to this desk."""
    return list(server.call("GET", Endpoint.INTEGRATION_KEYS.path(), token).json()["keys"])


def test_the_owner_makes_copies_uses_and_revokes_a_key(
    qtbot: Any, live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ctx = live
    engine = engine_for(ctx)
    page = IntegrationsPage(ctx, ChangeBus())
    qtbot.addWidget(page)
    page.resize(1100, 750)
    page.show()
    qtbot.waitUntil(lambda: page.loaded >= 1, timeout=20_000)
    assert page.key_table.rowCount() == 0 and page.message.text() == ""
    made: list[str] = []
    errors: list[BaseException] = []

    def act(d: Any) -> None:
        qtbot.mouseClick(button(d, "Create key"), LEFT)  # nothing typed
        assert _error(d, "name") == "Give the key a name: who or what uses it."
        type_into(qtbot, d.name, "Phone receptionist")
        qtbot.mouseClick(button(d, "Create key"), LEFT)  # nothing ticked
        assert _error(d, "scopes") == "Tick at least one thing the key may do."
        for scope in ("availability:read", "appointments:write"):
            box = d.findChild(QCheckBox, f"scope_{scope}")
            box.click()
        type_into(qtbot, d.expires, "31/13/2027")
        qtbot.mouseClick(button(d, "Create key"), LEFT)
        assert "Type the expiry as a date" in _error(d, "expires")
        assert _api_keys(server, engine.token) == []  # nothing made by any refusal
        type_into(qtbot, d.expires, "30/06/2030")
        qtbot.mouseClick(button(d, "Create key"), LEFT)
        assert d.token.isVisible() and d.token.text().startswith("fdk_")
        assert "only time the key is shown" in d.shown_once.text()
        qtbot.mouseClick(d.copy, LEFT)
        assert QApplication.clipboard().text() == d.token.text()
        made.append(d.token.text())
        if shots := os.environ.get("FRONTDESK_SHOTS"):
            d.grab().save(str(Path(shots) / "integrations-new-key.png"))
        qtbot.mouseClick(button(d, "Done"), LEFT)

    in_dialog(act, errors)
    qtbot.mouseClick(page.new_button, LEFT)
    assert not errors, errors
    qtbot.waitUntil(lambda: page.key_table.rowCount() == 1, timeout=20_000)
    row = [page.key_table.item(0, j).text() for j in range(5)]
    assert row[0] == "Phone receptionist"
    assert row[1] == "appointments:write, availability:read"
    assert row[2].startswith("30 Jun 2030") and row[3] == "not yet" and row[4] == "Active"
    # the key works; its call shows in the log once the page refreshes
    key = made[0]
    answer = httpx.get(server.base + "/api/v1/practitioners",
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text

    def logged() -> bool:
        qtbot.mouseClick(page.refresh_button, LEFT)
        qtbot.wait(300)
        return page.log_table.rowCount() >= 1 and page.key_table.item(0, 3).text() != "not yet"

    qtbot.waitUntil(logged, timeout=20_000)
    assert page.log_table.item(0, 1).text() == "Phone receptionist"
    assert page.log_table.item(0, 3).text() == "200"
    if shots := os.environ.get("FRONTDESK_SHOTS"):
        page.grab().save(str(Path(shots) / "integrations-page.png"))
    # revoke: asked first, then the key stops working at once
    page.key_table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.revoke_button, LEFT)
    qtbot.waitUntil(lambda: page.key_table.item(0, 4).text() == "Revoked", timeout=20_000)
    gone = httpx.get(server.base + "/api/v1/practitioners",
                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert gone.status_code == 401
    # the server's audit chain names who made and revoked it
    engine.sync()
    from sqlalchemy import select

    from frontdesk.models import AuditEvent

    with ctx.read() as session:
        acts = session.execute(
            select(AuditEvent.action, AuditEvent.staff_name).where(AuditEvent.entity == "api_keys")
        ).all()
    assert set(acts) == {("created an API key", "Olive Owner"),
                         ("revoked an API key", "Olive Owner")}  # fmt: skip


def test_a_desk_token_alone_cannot_make_a_key(live: Any) -> None:
    server, ctx = live
    engine = engine_for(ctx)
    details = {"name": "Stolen", "scopes": ["patients:read"], "expires_at": None,
               "rate_per_minute": 600}  # fmt: skip
    path = Endpoint.INTEGRATION_KEYS.path()
    unsigned = server.call("POST", path, engine.token, json=details)
    assert unsigned.status_code == 422  # no authority at all: not even looked at
    # signed by a key that is not the owner's, in the owner's name
    forged_key = signing.new_private_key()
    at = ctx.clock.now().isoformat()
    statement = signing.authority_statement("create api key", ctx.device_id, details, at, "n" * 32)
    forged = {**details, "authority": {"by": ctx.actor.staff_user_id, "at": at, "nonce": "n" * 32,
                                       "sig": signing.sign(forged_key, statement)}}  # fmt: skip
    answer = server.call("POST", path, engine.token, json=forged)
    assert answer.status_code == 403 and "does not check out" in answer.json()["message"]
    # a good signature replayed: the second is refused
    good = {**details, "authority": svc._authority(engine, "create api key", details)}
    assert server.call("POST", path, engine.token, json=good).status_code == 200
    again = server.call("POST", path, engine.token, json=good)
    assert again.status_code == 409 and "used already" in again.json()["message"]
    # the owner's signature over one act does not cover another
    other = {**good, "name": "Something else"}
    assert server.call("POST", path, engine.token, json=other).status_code == 403
    assert [k["name"] for k in _api_keys(server, engine.token)] == ["Stolen"]
    # a PIN-only sign-in has no signature to give: said plainly, nothing sent
    ctx.actor = replace(ctx.actor, signing_key=None)
    with pytest.raises(svc.RuleViolation, match="Sign in with your password"):
        svc.create_key(engine, "Booking page", ["availability:read"])


def test_reception_sees_no_keys(qtbot: Any, live: Any) -> None:
    _server, ctx = live
    ctx.actor = Actor("x", "Rae Reception", Role.RECEPTION)
    page = IntegrationsPage(ctx, ChangeBus())
    qtbot.addWidget(page)
    assert not page.allowed
    assert "Only an owner or a practice manager" in page.message.text()
    assert page.findChild(object, "api_keys") is None
