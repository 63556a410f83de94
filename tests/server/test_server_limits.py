"""Issue 15, items 3, 4 and 8, through a real ``frontdesk-server run`` process: a chunked body
is capped like any other; a NUL character or a number beyond 64 bits from a desk is refused for
that change alone (on SQLite and PostgreSQL: PostgreSQL text cannot hold NUL); a protocol
header of non-ASCII digits and a cursor past 2^63 get a 4xx, never a 500; and the log of an
unexpected error names its type and traceback without the values it was handling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.domain.ids import uuid7
from frontdesk.protocol import MAX_BODY_BYTES, PROTOCOL_HEADER, Endpoint
from tests.server.live import LiveServer, start_server

WHEN = "2026-11-27T01:00:00+00:00"

# Real server and desk processes read the real clock (backups, codes, stamps).
pytestmark = pytest.mark.dates


@pytest.fixture
def live(tmp_path: Path, server_url: str) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "srv", server_url)
    yield server
    server.stop()


def _template(seq: int, **fields: Any) -> dict[str, Any]:
    row_id = uuid7()
    values = {"id": row_id, "name": "Reminder", "channel": "sms", "subject": "", "body": "Hi",
              "created_at": WHEN, "updated_at": WHEN, **fields}  # fmt: skip
    return {"mutation_id": uuid7(), "seq": seq, "entity": "message_templates", "row_id": row_id,
            "op": "insert", "base_version": 0, "hlc": "", "fields": values}  # fmt: skip


def test_bad_values_are_refused_one_change_at_a_time(live: LiveServer) -> None:
    token = live.enrol("01900000-0000-7000-8000-00000000000a")
    batch = [
        _template(1, body="before"),
        _template(2, body="a NUL \x00 in the middle"),
        _template(3, body="x" * 10, subject="\x00"),
        _template(4, version=2**70),  # ignored: the server owns versions
        _template(5, name="n", body="after"),
    ]
    batch[3]["fields"]["deleted_at"] = None
    wide = _template(6)
    wide["base_version"] = 2**70
    batch.append(wide)
    reply = live.call("POST", Endpoint.PUSH, token, json={"mutations": batch, "cursor": 0})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["status"] for r in results] == [
        "applied", "rejected", "rejected", "applied", "applied", "rejected",
    ]  # fmt: skip
    assert "NUL" in results[1]["reason"] and "NUL" in results[2]["reason"]
    assert reply.json()["stopped"] is None and reply.json()["last_seq"] == 6
    # The desk's next push goes on from there.
    reply = live.call("POST", Endpoint.PUSH, token, json={"mutations": [_template(7)]})
    assert reply.json()["results"][0]["status"] == "applied"
    pulled = live.call("GET", Endpoint.PULL, token, params={"cursor": 0}).json()
    assert len(pulled["changes"]) == 4


def test_inputs_that_once_answered_500(live: LiveServer) -> None:
    token = live.enrol("01900000-0000-7000-8000-00000000000b")
    odd = live.call("GET", Endpoint.PULL, token, headers={PROTOCOL_HEADER: "²".encode()})
    assert odd.status_code == 426
    for cursor in (2**63, 2**64 + 5):
        far = live.call("GET", Endpoint.PULL, token, params={"cursor": cursor})
        assert far.status_code == 422, far.text
    assert live.call("GET", Endpoint.PULL, token, params={"cursor": 2**63 - 1}).status_code == 200
    push = live.call("POST", Endpoint.PUSH, token, json={"mutations": [], "cursor": 2**64})
    assert push.status_code == 422
    seq = live.call("POST", Endpoint.PUSH, token, json={"mutations": [_template(2**64)]})
    assert seq.status_code == 422
    assert "Exception in ASGI application" not in live.log()
    assert live.call("GET", Endpoint.HEALTH).status_code == 200


def test_a_chunked_body_is_capped_like_any_other(live: LiveServer) -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        chunk = b"[" + b" " * (1024 * 1024 - 1)
        while sent < 8 * MAX_BODY_BYTES:
            sent += len(chunk)
            yield chunk

    try:
        reply = httpx.post(
            live.base + Endpoint.ENROL, content=endless(), headers=live.headers(), timeout=60
        )
        assert reply.status_code == 413, reply.text
    except httpx.HTTPError:
        pass  # the server answered and closed the connection while the client still wrote
    # It stopped reading near the cap, and it is still serving.
    assert sent < 4 * MAX_BODY_BYTES
    assert live.call("GET", Endpoint.HEALTH).status_code == 200


def test_an_unexpected_error_is_logged_without_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault injection: the change log read fails with a message carrying patient data."""
    from fastapi.testclient import TestClient

    from frontdesk.server.app import create_app
    from frontdesk.server.store import ServerStore

    app = create_app(str(tmp_path / "server.sqlite3"))
    store: ServerStore = app.state.store
    code = store.create_enrolment_code("desk")
    _dev, token, _has, _delivered = store.enrol(code, uuid7(), "desk")

    secret = "patient Siobhán O'Brien, DOB 1985-07-03"

    def broken(*_a: object, **_k: object) -> str:
        raise ValueError(secret)

    monkeypatch.setattr(store, "pull_json", broken)
    client = TestClient(app, raise_server_exceptions=False)
    headers = LiveServer.headers(token)  # what a desk sends
    with caplog.at_level("ERROR", logger="frontdesk.server"):
        reply = client.get(Endpoint.PULL, headers=headers)
    assert reply.status_code == 500 and reply.json()["error"] == "internal"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "Traceback" in logged and "pull" in logged
    assert "Siobhán" not in logged and "1985" not in logged
    store.dispose()
