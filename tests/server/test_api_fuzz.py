"""A bounded schemathesis run against the OpenAPI the real server publishes: every /api/v1
operation, with generated (often hostile) input and a valid key, answers without a 5xx; the
answers it documents are problem+json or its typed models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.server.live import LiveServer
from tests.server.test_api_live import _cli_key, _live
from tests.sync.fakes import install_memory_keyring


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    """A real ``frontdesk-server run`` on SQLite and, in a second run, on PostgreSQL."""
    install_memory_keyring()
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = str(tmp / "server.sqlite3")
    else:
        url = str(request.getfixturevalue("pg_cluster").new_database())
    server, _world = _live(tmp, url)
    try:
        token = _cli_key(
            server,
            "availability:read",
            "appointments:write",
            "patients:read",
            "patients:write",
            rate="100000",
        )
        yield server, token
    finally:
        server.stop()


def test_no_server_errors(live_api: tuple[LiveServer, str]) -> None:
    """Each operation of the published schema, a bounded number of generated cases (driven
    through Hypothesis directly: schemathesis's pytest plugin does not load under this pytest)."""
    server, token = live_api
    schema = schemathesis.openapi.from_url(server.base + "/openapi.json").include(
        path_regex="^/api/v1/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen: dict[str, set[int]] = {}

    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url=server.base, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(response, checks=[not_a_server_error])
            assert "Traceback" not in response.text
            label = f"{case.method} {case.path}"
            seen.setdefault(label, set()).add(response.status_code)

        check()
    assert len(seen) == len(operations)
    assert "Traceback" not in server.log()
