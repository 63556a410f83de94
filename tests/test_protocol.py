"""The desk–server contract: every endpoint spelled once, bodies that survive a round trip and
ignore what a newer peer adds, and the server refusing a body outside its limits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest

from frontdesk.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    Endpoint,
    EnrolRequest,
    Mutation,
    PushRequest,
    StatsRequest,
    schema_version,
)
from frontdesk.server.app import create_app


def test_endpoints_and_bodies() -> None:
    assert Endpoint.SNAPSHOT_TABLE.path(table="patients") == "/v1/snapshot/patients"
    assert len({e.value for e in Endpoint}) == len(Endpoint)
    request = EnrolRequest("ABCD-1234", "01900000-0000-7000-8000-000000000001", "Front")
    assert EnrolRequest.from_json({**request.as_json(), "from_a_newer_desk": 1}) == request
    change = Mutation("m1", 3, "patients", "p1", "update", 2, "stamp", {"first_name": "Ada"})
    assert Mutation.from_json(change.as_json()) == change
    assert "cursor" not in change.as_json()  # left out when unknown, as older desks send it
    assert Mutation.from_json({**change.as_json(), "cursor": 7}).cursor == 7
    # built field by field (no deep copy): the same JSON as the dataclass gives, every field
    fields = {"lines": [{"a": 1}], "name": "X"}
    proof = {"by": "s", "sig": "ab"}
    signed = Mutation("m2", 4, "settings", "c1", "update", 1, "t", fields, cursor=9, proof=proof)
    assert signed.as_json() == dataclasses.asdict(signed)
    assert {**change.as_json(), "cursor": None, "proof": None} == dataclasses.asdict(change)
    push = PushRequest([signed.as_json(), change.as_json()], cursor=12)
    assert push.as_json() == dataclasses.asdict(push)
    assert PushRequest.from_json(json.loads(json.dumps(push.as_json()))) == push
    stats = {"tables": ["patients"], "rows": {}}
    assert StatsRequest(["patients"]).as_json() == {**stats, "heads": False}
    assert StatsRequest.from_json(stats) == StatsRequest(["patients"])  # an older desk's


def test_the_server_refuses_a_body_outside_its_limits(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'server.sqlite3'}")
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: schema_version()}

    async def post(body: dict[str, object]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(Endpoint.ENROL.value, json=body, headers=headers)

    import asyncio

    short = asyncio.run(post({"code": "ab", "device_id": "01900000-0000-7000-8000-0000000001"}))
    assert short.status_code == 422 and "code" in short.json()["message"]
    unknown = asyncio.run(post(EnrolRequest("ABCD-1234", "0190000000000001").as_json()))
    assert unknown.status_code in (400, 401, 403, 404) and unknown.json()["message"]


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_every_endpoint_is_served(tmp_path: Path, endpoint: Endpoint) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'server.sqlite3'}")
    assert endpoint.value in app.openapi()["paths"]
