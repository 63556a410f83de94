"""Issue 15, item 10, through a real server process and its command line: a revoked desk (or
one that lost its token) enrols again with a fresh code and keeps its number series; codes
expire, can be listed and cancelled; wrong codes are throttled; a stored push answer is only
ever given to the desk it belongs to."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.ids import uuid7
from frontdesk.protocol import Endpoint
from frontdesk.server.store import ServerProblem, ServerStore
from tests.server.live import LiveServer, server_command, start_server
from tests.server.test_server_limits import _template
from tests.sync.clinic import START

# Real server and desk processes read the real clock (backups, codes, stamps).
pytestmark = pytest.mark.dates


@pytest.fixture
def live(tmp_path: Path, server_url: str) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "srv", server_url)
    yield server
    server.stop()


def _cli(live: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_command(live.data_dir, live.database, *args),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_revoked_desk_enrols_again_with_a_fresh_code(live: LiveServer) -> None:
    desk = "01900000-0000-7000-8000-0000000000c1"
    token = live.enrol(desk, "Front desk")
    first = live.call("GET", Endpoint.DEVICE, token).json()
    assert _cli(live, "revoke", "Front desk").returncode == 0
    assert live.call("GET", Endpoint.DEVICE, token).status_code == 401
    again = live.enrol(desk, "Front desk")
    assert live.call("GET", Endpoint.DEVICE, token).status_code == 401  # the old token is gone
    second = live.call("GET", Endpoint.DEVICE, again).json()
    assert second["series_prefix"] == first["series_prefix"] and second["device_id"] == desk
    # A desk that lost its keychain entry (not revoked) does the same.
    third = live.enrol(desk, "Front desk")
    assert live.call("GET", Endpoint.DEVICE, again).status_code == 401
    assert live.call("GET", Endpoint.DEVICE, third).status_code == 200
    devices = _cli(live, "devices").stdout
    assert devices.count(desk) == 1 and "active" in devices


def test_codes_are_listed_cancelled_and_throttled(live: LiveServer) -> None:
    code = live.code("Back office")
    listed = _cli(live, "codes").stdout
    assert "Back office" in listed and code not in listed  # only its hash is kept
    code_id = listed.split()[0]
    assert _cli(live, "cancel-code", code_id).returncode == 0
    body = {"code": code, "device_id": "01900000-0000-7000-8000-0000000000c2"}
    refused = live.call("POST", Endpoint.ENROL, json=body)
    assert refused.status_code == 403 and "not valid" in refused.json()["message"]
    good = live.code("Reception")
    for _ in range(9):
        body["code"] = "AAAAAA-BBBBBB-CCCCCC"
        assert live.call("POST", Endpoint.ENROL, json=body).status_code == 403
    body["code"] = good
    slowed = live.call("POST", Endpoint.ENROL, json=body)
    assert slowed.status_code == 429 and "Wait a minute" in slowed.json()["message"]


def test_a_stored_answer_goes_only_to_its_own_desk(live: LiveServer) -> None:
    one = live.enrol("01900000-0000-7000-8000-0000000000c3", "one")
    two = live.enrol("01900000-0000-7000-8000-0000000000c4", "two")
    change = _template(1, body="desk one's reminder")
    answer = live.call("POST", Endpoint.PUSH, one, json={"mutations": [change]}).json()
    assert answer["results"][0]["status"] == "applied"
    copy = {**_template(1), "mutation_id": change["mutation_id"]}
    reply = live.call("POST", Endpoint.PUSH, two, json={"mutations": [copy]}).json()
    assert reply["results"][0]["status"] == "rejected"
    assert "another desk" in reply["results"][0]["reason"]
    assert reply["stopped"] is None and reply["last_seq"] == 1
    # Desk one's replay still gets its own answer.
    again = live.call("POST", Endpoint.PUSH, one, json={"mutations": [change]}).json()
    assert again["results"] == answer["results"]


def test_codes_expire_after_seven_days(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = ServerStore(str(tmp_path / "server.sqlite3"), clock)
    store.init()
    code = store.create_enrolment_code("Desk")
    clock.advance(timedelta(days=7, minutes=1))
    assert store.list_codes()[0]["expired"]
    with pytest.raises(ServerProblem) as err:
        store.enrol(code, uuid7(), "Desk")
    assert "expired" in err.value.user_message
    store.dispose()
