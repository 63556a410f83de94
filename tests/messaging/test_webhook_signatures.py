"""Hostile clients at the SMS webhooks of a real clinic server (uvicorn on 127.0.0.1): a Twilio
callback with no X-Twilio-Signature, a forged one, one signed with another account's token, one
whose body was changed after signing, or one arriving while the server has no Auth Token — each
403 and nothing kept; the genuine one (signed over the public URL Twilio called) is kept.
ClickSend signs nothing: without the secret key in the address it is refused the same way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from frontdesk.server import schema as s
from frontdesk.server.app import create_app
from frontdesk.server.store import ServerStore
from frontdesk.server.webhooks import set_public_url, webhook_key
from frontdesk.services.messaging.providers import twilio_signature
from frontdesk.services.messaging.secrets import save_secret
from tests.messaging.local_providers import TWILIO_TOKEN
from tests.sync.fakes import MemoryKeyring

INBOUND = "/webhooks/sms/twilio/inbound"
FORM = {"MessageSid": "SMhostile1", "From": "+61412345678", "To": "+61400999999", "Body": "C"}


class Served:
    def __init__(self, tmp: Path) -> None:
        self.app = create_app(str(tmp / "server.sqlite3"))
        self.store: ServerStore = self.app.state.store
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.store.dispose()

    def kept(self) -> int:
        with self.store.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(s.sms_events)).scalar_one())


@pytest.fixture
def served(tmp_path: Path, keychain: MemoryKeyring) -> Iterator[Served]:
    srv = Served(tmp_path).start()
    yield srv
    srv.stop()


def _post(
    srv: Served, path: str, key: str, form: dict[str, str], signature: str | None
) -> httpx.Response:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return httpx.post(f"{srv.url}{path}", params={"key": key}, data=form, headers=headers)


def test_twilio_callbacks_need_a_valid_signature(served: Served) -> None:
    key = webhook_key(served.store)
    url = f"{served.url}{INBOUND}?key={key}"
    # no Auth Token on this machine yet: even a "signed" callback cannot be checked
    refused = _post(served, INBOUND, key, FORM, twilio_signature(TWILIO_TOKEN, url, FORM))
    assert refused.status_code == 403 and "keychain" in refused.json()["message"]
    save_secret("twilio", TWILIO_TOKEN)
    missing = _post(served, INBOUND, key, FORM, None)
    assert missing.status_code == 403 and "no X-Twilio-Signature" in missing.json()["message"]
    assert _post(served, INBOUND, key, FORM, "bm90IGEgc2lnbmF0dXJl").status_code == 403
    other = twilio_signature("another-accounts-token", url, FORM)
    assert _post(served, INBOUND, key, FORM, other).status_code == 403
    genuine = twilio_signature(TWILIO_TOKEN, url, FORM)
    changed = dict(FORM, Body="Y")  # signed for "C", body swapped on the way
    assert _post(served, INBOUND, key, changed, genuine).status_code == 403
    wrong_url = twilio_signature(TWILIO_TOKEN, f"{served.url}{INBOUND}", FORM)  # query left out
    assert _post(served, INBOUND, key, FORM, wrong_url).status_code == 403
    assert served.kept() == 0
    ok = _post(served, INBOUND, key, FORM, genuine)
    assert ok.status_code == 200 and ok.text == "<Response/>"
    assert served.kept() == 1


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(served: Served) -> None:
    save_secret("twilio", TWILIO_TOKEN)
    key = webhook_key(served.store)
    set_public_url(served.store, "https://clinic.example.com/")
    public = f"https://clinic.example.com{INBOUND}?key={key}"
    local = f"{served.url}{INBOUND}?key={key}"
    assert (
        _post(served, INBOUND, key, FORM, twilio_signature(TWILIO_TOKEN, local, FORM)).status_code
        == 403
    )
    assert served.kept() == 0
    assert (
        _post(served, INBOUND, key, FORM, twilio_signature(TWILIO_TOKEN, public, FORM)).status_code
        == 200
    )
    assert served.kept() == 1


def test_clicksend_without_the_secret_key_is_refused(served: Served) -> None:
    key = webhook_key(served.store)
    form = {"message_id": "CS1", "from": "+61412345678", "body": "C"}
    path = "/webhooks/sms/clicksend/inbound"
    for wrong in ("", "guess", key[:-1]):
        assert (
            httpx.post(f"{served.url}{path}", params={"key": wrong}, data=form).status_code == 403
        )
    assert httpx.post(f"{served.url}{path}", data=form).status_code == 403
    assert served.kept() == 0
    assert httpx.post(f"{served.url}{path}", params={"key": key}, data=form).status_code == 200
    assert served.kept() == 1
