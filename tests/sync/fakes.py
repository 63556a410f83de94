"""Fakes for sync tests: an in-memory keychain, an in-process server, and a transport that can
drop a request, drop the answer after the server committed, duplicate, and delay (reorder)."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import keyring
from keyring.backend import KeyringBackend

from frontdesk.sync.transport import Reply, Transport, Unreachable, desk_headers, to_reply


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def install_memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


class ServerCrash(Exception):
    """Raised inside the server by tests to simulate the process dying mid-request."""


class ClientTransport:
    """Sends through a Starlette TestClient (the server app in this process)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.online = True
        self.headers_override: dict[str, str] = {}

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Reply:
        if not self.online:
            raise Unreachable("The clinic server cannot be reached (test: offline).")
        headers = {**desk_headers(token), **self.headers_override}
        try:
            response = self.client.request(method, path, json=json, params=params, headers=headers)
        except ServerCrash as exc:  # the server died mid-request: the desk sees a lost connection
            raise Unreachable("The clinic server went away (test).") from exc
        return to_reply(response)


@dataclass
class Faults:
    drop_request: float = 0.0
    drop_response: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0


@dataclass
class FaultyTransport:
    """Wraps a transport with random faults (seeded). Delayed requests are sent later, before
    some future request: that is how reordering happens."""

    inner: Transport
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    delayed: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def send(self, method: str, path: str, **kw: Any) -> Reply:
        if self.delayed and self.rng.random() < 0.5:
            m, p, k = self.delayed.pop(0)
            self._count("reordered")
            with contextlib.suppress(Unreachable):
                self.inner.send(m, p, **k)
        roll = self.rng.random()
        f = self.faults
        if roll < f.drop_request:
            self._count("drop_request")
            raise Unreachable("dropped request (test)")
        roll -= f.drop_request
        if roll < f.delay:
            self._count("delay")
            self.delayed.append((method, path, kw))
            raise Unreachable("delayed request (test)")
        roll -= f.delay
        reply = self.inner.send(method, path, **kw)
        if roll < f.drop_response:
            self._count("drop_response")
            raise Unreachable("dropped response (test)")
        roll -= f.drop_response
        if roll < f.duplicate:
            self._count("duplicate")
            return self.inner.send(method, path, **kw)
        return reply

    def flush(self) -> None:
        while self.delayed:
            m, p, k = self.delayed.pop(0)
            self.inner.send(m, p, **k)
