"""How the desk talks to the clinic server: one ``send`` that returns status and JSON body.

``HttpTransport`` uses httpx against a real address; tests put a fault-injecting transport in
front of an in-process server. A network failure raises ``Unreachable``; an answer the desk must
act on (426 upgrade, 401 revoked, 410 re-sync) is returned as a ``Reply`` for the engine.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # httpx is imported when a desk first talks to a server (start-up cost)
    import httpx


from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    SERVER_TIME_HEADER,
)


class Unreachable(EnvironmentProblem):
    """The clinic server could not be reached (network down, server stopped, timeout)."""


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    # The server's clock when it answered (pull and long-poll answers carry it), if it said.
    server_time: datetime | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message") or f"the clinic server answered {self.status}")


class Transport(Protocol):
    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Reply: ...


def desk_headers(token: str | None) -> dict[str, str]:
    from frontdesk.protocol import schema_version

    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: schema_version()}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _certificate_refused(exc: BaseException) -> bool:
    """Did TLS verification (not the network) stop this request?"""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def to_reply(response: httpx.Response) -> Reply:
    try:
        body = response.json()
    except ValueError:
        body = {"message": f"the clinic server answered {response.status_code}"}
    server_time: datetime | None = None
    stamp = response.headers.get(SERVER_TIME_HEADER)
    if stamp:
        try:
            server_time = datetime.fromisoformat(stamp)
        except ValueError:
            server_time = None
        if server_time is not None and server_time.tzinfo is None:
            server_time = None  # a time without its zone says nothing
    return Reply(
        response.status_code, body if isinstance(body, dict) else {"data": body}, server_time
    )


# seconds an idle pooled connection is kept (frontdesk-server keeps one 30 s)
CLIENT_KEEP_ALIVE_S = 4.0


class HttpTransport:
    """A real connection to ``base_url`` (``http://host:port`` or ``https://…``).

    For https the server must present either a certificate the system's authorities vouch
    for or, when ``pinned_pem`` is given, exactly that certificate. A certificate that fails
    raises ``CertificateProblem`` (sync stops with a message); there is no unverified fallback.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        verify: ssl.SSLContext | str | bool | None = None,
        pinned_pem: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        import httpx

        from frontdesk.sync.pinning import context_for

        self.base_url = base_url.rstrip("/")
        self.pinned_pem = pinned_pem
        if verify is None:
            verify = context_for(self.base_url, pinned_pem)
        # A pooled connection is let go well before the server closes an idle one (uvicorn:
        # after KEEP_ALIVE_S): at equal times a request could go out on a connection the server
        # was closing, and fail with "connection reset" (seen with 50 desks, bench_group).
        limits = httpx.Limits(keepalive_expiry=CLIENT_KEEP_ALIVE_S)
        self.client = client or httpx.Client(
            base_url=self.base_url, verify=verify, timeout=timeout, limits=limits
        )

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
        import httpx

        try:
            response = self.client.request(
                method,
                path,
                json=json,
                params=params,
                headers=desk_headers(token),
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            if _certificate_refused(exc):
                raise self._certificate_problem() from exc
            raise Unreachable(
                f"The clinic server at {self.base_url} cannot be reached. This desk keeps "
                "working and will sync when it can.",
                detail=type(exc).__name__,
            ) from exc
        return to_reply(response)

    def _certificate_problem(self) -> EnvironmentProblem:
        from frontdesk.sync.pinning import (
            CertificateProblem,
            changed_message,
            fetch_certificate,
            untrusted_message,
        )

        if not self.pinned_pem:
            return CertificateProblem(untrusted_message(self.base_url), detail="untrusted")
        try:  # only to name the certificate the server now shows; it is not trusted
            presented: str | None = fetch_certificate(self.base_url)
        except EnvironmentProblem:
            presented = None
        return CertificateProblem(
            changed_message(self.base_url, self.pinned_pem, presented), detail="pin mismatch"
        )

    def close(self) -> None:
        self.client.close()
