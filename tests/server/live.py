"""A real clinic server process for tests: ``frontdesk-server run`` on a free loopback port,
with a desk enrolled through the real command line and HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from frontdesk.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    Endpoint,
    schema_version,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(data_dir: Path, database: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "frontdesk.server.cli", "--data-dir", str(data_dir),
            "--database", database, *args]  # fmt: skip


@dataclass
class LiveServer:
    data_dir: Path
    database: str
    proc: subprocess.Popen[bytes]
    base: str
    log_path: Path

    def code(self, name: str = "desk") -> str:
        out = subprocess.run(
            server_command(self.data_dir, self.database, "enrol", "--name", name),
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
        found = re.search(r"([0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6})", out)
        assert found, out
        return found.group(1)

    @staticmethod
    def headers(token: str = "") -> dict[str, str]:
        h = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: schema_version()}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return h

    def enrol(self, device_id: str, name: str = "desk") -> str:
        body = {"code": self.code(name), "device_id": device_id, "device_name": name}
        reply = httpx.post(self.base + Endpoint.ENROL, json=body, headers=self.headers())
        assert reply.status_code == 200, reply.text
        return str(reply.json()["token"])

    def call(self, method: str, path: str, token: str = "", **kw: Any) -> httpx.Response:
        headers = {**self.headers(token), **kw.pop("headers", {})}
        return httpx.request(method, self.base + path, headers=headers, timeout=60, **kw)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(
    data_dir: Path, database: str, *extra: str, env: dict[str, str] | None = None
) -> LiveServer:
    """``extra``: more arguments to ``run``; ``env``: more environment variables."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = data_dir / "server-test.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            server_command(data_dir, database, "run", "--port", str(port), *extra),
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )  # fmt: skip
    server = LiveServer(data_dir, database, proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.base + Endpoint.HEALTH, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server stopped: {server.log()}")
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the server did not start: {server.log()}")
