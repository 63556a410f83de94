"""Real local servers that speak like the providers: an aiosmtpd SMTP server with STARTTLS and
login, and an HTTP server answering Twilio's Messages API and ClickSend's v3 SMS API. Each can
be told to fail the next requests (500, 429, or too slow: a timeout) so the sender's retries and
backoff are tested over real sockets. Also runnable as a process (``python -m
tests.messaging.local_providers``) for the kill tests and for trying the app by hand."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _MailBox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.messages.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.content or b""))
        )
        return "250 Message accepted for delivery"


@dataclass
class LocalSmtp:
    """aiosmtpd on loopback requiring STARTTLS before AUTH; user ``clinic`` / ``s3cret``."""

    tmp: Path
    user: str = "clinic"
    password: str = "s3cret"
    box: _MailBox = field(default_factory=_MailBox)

    def start(self) -> LocalSmtp:
        cert, key = self_signed(self.tmp)
        self.cafile = cert
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)

        def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode() == self.user and data.password.decode() == self.password
            )
            return AuthResult(success=ok, handled=False)

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.controller = Controller(
            self.box,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=auth,
            auth_require_tls=True,
            server_hostname="localhost",
        )
        self.controller.start()
        return self

    def client_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.box.messages


_ = SMTPServer  # the server class aiosmtpd's Controller runs


@dataclass
class SmsState:
    """What the fake providers received and how they should misbehave next."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)  # "500", "429", "slow"
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow_seconds: float = 3.0
    journal: Path | None = None

    def record(self, row: dict[str, Any]) -> None:
        self.sent.append(row)
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")


class _Handler(BaseHTTPRequestHandler):
    state: SmsState
    account = "AC" + "0" * 32
    token = "twilio-token"
    cs_user = "clinic"
    cs_key = "clicksend-key"
    # headers and body go out as separate writes: with Nagle on, the second waits for the
    # client's delayed ACK (~40 ms a request), which no real provider makes us wait
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        return user, pw

    def _answer(
        self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _misbehave(self) -> bool:
        with self.state.lock:
            self.state.requests += 1
            mode = self.state.fail_next.pop(0) if self.state.fail_next else ""
        if mode == "500":
            self._answer(500, {"message": "internal error"})
            return True
        if mode == "429":
            self._answer(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
            return True
        if mode == "slow":
            time.sleep(self.state.slow_seconds)
            self._answer(500, {"message": "too late"})
            return True
        return False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        path = urlparse(self.path).path
        if self._misbehave():
            return
        if path == f"/2010-04-01/Accounts/{self.account}/Messages.json":
            if self._auth() != (self.account, self.token):
                self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            if not form.get("To", "").startswith("+614"):
                self._answer(
                    400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
                )
                return
            sid = "SM" + uuid.uuid4().hex
            row = {
                "provider": "twilio",
                "sid": sid,
                "to": form["To"],
                "body": form["Body"],
                "from": form.get("From") or form.get("MessagingServiceSid"),
                "date_sent": datetime.now(UTC).isoformat(),
            }
            self.state.record(row)
            self._answer(
                201,
                {
                    "sid": sid,
                    "status": "queued",
                    "to": form["To"],
                    "body": form["Body"],
                    "account_sid": self.account,
                },
            )
            return
        if path == "/v3/sms/send":
            if self._auth() != (self.cs_user, self.cs_key):
                self._answer(
                    401,
                    {
                        "http_code": 401,
                        "response_code": "UNAUTHORIZED",
                        "response_msg": "Invalid credentials",
                    },
                )
                return
            messages = json.loads(raw)["messages"]
            out = []
            for m in messages:
                mid = str(uuid.uuid4()).upper()
                if not m["to"].startswith("+614"):
                    out.append({"status": "INVALID_RECIPIENT", "to": m["to"]})
                    continue
                row = {
                    "provider": "clicksend",
                    "message_id": mid,
                    "to": m["to"],
                    "body": m["body"],
                    "custom_string": m.get("custom_string", ""),
                    "date": int(time.time()),
                }
                self.state.record(row)
                out.append(
                    {
                        "message_id": mid,
                        "status": "SUCCESS",
                        "to": m["to"],
                        "custom_string": m.get("custom_string", ""),
                    }
                )
            self._answer(
                200,
                {
                    "http_code": 200,
                    "response_code": "SUCCESS",
                    "response_msg": "Messages queued for delivery.",
                    "data": {"messages": out},
                },
            )
            return
        self._answer(404, {"message": "not found"})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == f"/2010-04-01/Accounts/{self.account}/Messages.json":
            rows = [
                {"sid": r["sid"], "to": r["to"], "body": r["body"], "status": "sent"}
                for r in self.state.sent
                if r["provider"] == "twilio" and r["to"] == query.get("To")
            ]
            self._answer(200, {"messages": rows, "page": 0})
            return
        if url.path == "/v3/sms/history":
            since = int(query.get("date_from", "0"))
            rows = [
                r for r in self.state.sent if r["provider"] == "clicksend" and r["date"] >= since
            ]
            self._answer(
                200,
                {
                    "http_code": 200,
                    "response_code": "SUCCESS",
                    "data": {"total": len(rows), "data": rows},
                },
            )
            return
        self._answer(404, {"message": "not found"})


@dataclass
class LocalSms:
    """Twilio and ClickSend on one loopback HTTP server."""

    state: SmsState = field(default_factory=SmsState)

    def start(self, port: int = 0) -> LocalSms:
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


TWILIO_ACCOUNT = _Handler.account
TWILIO_TOKEN = _Handler.token
CLICKSEND_USER = _Handler.cs_user
CLICKSEND_KEY = _Handler.cs_key


if __name__ == "__main__":  # a provider process for the kill tests and hand testing
    import sys

    journal = Path(sys.argv[1])
    sms = LocalSms(SmsState(journal=journal)).start(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(sms.port, flush=True)
    while True:
        time.sleep(3600)
