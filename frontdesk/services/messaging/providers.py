"""The providers that carry messages: email over SMTP (STARTTLS), and SMS through Twilio's
Messages API or ClickSend's v3 SMS API (an Australian provider), each spoken as its public
documentation describes. Secrets come from the keychain (``secrets.py``), never the database.

A provider answers a send with the provider's id for the message, or raises:
``TransientFailure`` (timed out, 429, 5xx: try again later, with backoff) or
``PermanentFailure`` (bad number, refused, bounced: a person must look). ``already_sent`` looks
a message up at the provider after a crash between sending and recording (neither SMS API takes
an idempotency key on create, so the sender asks before sending again; see docs/messaging.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

import httpx

from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.vocab import MessageChannel


class TransientFailure(FrontdeskError):
    """Try again later: ``retry_after`` seconds when the provider said (429 Retry-After)."""

    def __init__(self, user_message: str, *, retry_after: float | None = None) -> None:
        super().__init__(user_message)
        self.retry_after = retry_after


class PermanentFailure(FrontdeskError):
    """The provider refused this message for good; retrying would not help."""


@dataclass(frozen=True)
class Attachment:
    file_name: str
    media_type: str  # "application/pdf"
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Outgoing:
    """What the sender hands a provider (no database rows cross this line)."""

    message_id: str
    to: str
    subject: str
    body: str
    idempotency_key: str
    claimed_at: datetime
    attachments: tuple[Attachment, ...] = ()  # email only (an invoice PDF)


class Provider(Protocol):
    name: str
    channel: MessageChannel

    def send(self, msg: Outgoing) -> str: ...

    def already_sent(self, msg: Outgoing) -> str | None: ...


# -- email -------------------------------------------------------------------------------------


@dataclass
class SmtpEmail:
    """Email over SMTP with STARTTLS (required: no credentials ever cross in the clear)."""

    host: str
    port: int
    username: str
    password: str
    sender: str
    tls: ssl.SSLContext | None = None
    timeout: float = 20.0
    name: str = "smtp"
    channel: MessageChannel = MessageChannel.EMAIL

    def build(self, msg: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = msg.to
        mail["Subject"] = msg.subject or "A message from your clinic"
        mail["Date"] = format_datetime(msg.claimed_at)
        domain = self.sender.rpartition("@")[2] or "frontdesk.invalid"
        # the same Message-ID on every attempt lets a mail system spot a repeat
        mail["Message-ID"] = f"<{msg.idempotency_key}@{domain}>"
        mail["List-Unsubscribe"] = f"<mailto:{self.sender}?subject=unsubscribe>"
        mail.set_content(msg.body)
        for a in msg.attachments:
            maintype, _, subtype = a.media_type.partition("/")
            mail.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.file_name)
        return mail

    def send(self, msg: Outgoing) -> str:
        mail = self.build(msg)
        context = self.tls or ssl.create_default_context()
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise PermanentFailure(
                        f"The mail server {self.host} does not offer STARTTLS; frontdesk will "
                        "not send a password or a patient's details over it unencrypted."
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(
                "The mail server refused the user name or password (Settings → Messages)."
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"The mail server refused the address {msg.to}.") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientFailure(
                    f"The mail server is busy ({exc.smtp_code}); trying again later."
                ) from exc
            raise PermanentFailure(
                f"The mail server refused the message ({exc.smtp_code})."
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientFailure(
                f"Could not reach the mail server {self.host}:{self.port} ({type(exc).__name__}); "
                "trying again later."
            ) from exc
        if refused:
            raise PermanentFailure(f"The mail server refused the address {msg.to}.")
        return str(mail["Message-ID"])

    def already_sent(self, msg: Outgoing) -> str | None:
        return None  # SMTP cannot be asked; the sender treats email as not idempotent


# -- SMS over HTTP -----------------------------------------------------------------------------


def _http_failure(provider: str, resp: httpx.Response) -> FrontdeskError:
    if resp.status_code == 429:
        retry = resp.headers.get("Retry-After", "")
        return TransientFailure(
            f"{provider} asked us to slow down (429); trying again later.",
            retry_after=float(retry) if retry.replace(".", "", 1).isdigit() else None,
        )
    if resp.status_code >= 500:
        return TransientFailure(
            f"{provider} had a problem ({resp.status_code}); trying again later."
        )
    detail = ""
    try:
        body = resp.json()
        detail = str(body.get("message") or body.get("response_msg") or "")
    except ValueError:
        detail = resp.text[:200]
    if resp.status_code in (401, 403):
        return PermanentFailure(
            f"{provider} refused the account details (Settings → Messages): {detail}"
        )
    return PermanentFailure(f"{provider} refused the message ({resp.status_code}): {detail}")


def _post_or_transient(provider: str, call: Any) -> httpx.Response:
    try:
        response: httpx.Response = call()
    except httpx.TimeoutException as exc:
        raise TransientFailure(f"{provider} did not answer in time; trying again later.") from exc
    except (OSError, httpx.TransportError) as exc:
        raise TransientFailure(
            f"Could not reach {provider} ({type(exc).__name__}); trying again later."
        ) from exc
    return response


@dataclass
class TwilioSms:
    """Twilio's Programmable Messaging: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``
    (form fields To, From or MessagingServiceSid, Body, StatusCallback), HTTP basic auth with
    the Account SID and Auth Token; answers 201 with the message's ``sid``."""

    account_sid: str
    auth_token: str
    sender: str
    status_callback: str = ""
    base_url: str = "https://api.twilio.com"
    timeout: float = 15.0
    name: str = "twilio"
    channel: MessageChannel = MessageChannel.SMS

    _http: httpx.Client | None = field(default=None, init=False, repr=False, compare=False)

    def _client(self) -> httpx.Client:
        """One client for every send: making one loads the CA bundle (~65 ms), and it keeps
        the connection open between messages."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base_url,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
            )
        return self._http

    @property
    def _path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def send(self, msg: Outgoing) -> str:
        form = {"To": msg.to, "Body": msg.body}
        if self.sender.startswith("MG"):
            form["MessagingServiceSid"] = self.sender
        else:
            form["From"] = self.sender
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        client = self._client()
        resp = _post_or_transient("Twilio", lambda: client.post(self._path, data=form))
        if resp.status_code not in (200, 201):
            raise _http_failure("Twilio", resp)
        return str(resp.json()["sid"])

    def already_sent(self, msg: Outgoing) -> str | None:
        """Twilio's message list filtered by To and DateSent (its documented filters): the
        same body to the same number since the claim is this message."""
        since = (msg.claimed_at - timedelta(days=1)).date().isoformat()
        client = self._client()
        resp = _post_or_transient(
            "Twilio",
            lambda: client.get(
                self._path, params={"To": msg.to, "DateSent>": since, "PageSize": 50}
            ),
        )
        if resp.status_code != 200:
            raise _http_failure("Twilio", resp)
        for row in resp.json().get("messages", []):
            if row.get("body") == msg.body and row.get("to") == msg.to:
                return str(row["sid"])
        return None


def twilio_signature(
    auth_token: str, url: str, params: dict[str, str] | list[tuple[str, str]]
) -> str:
    """X-Twilio-Signature as Twilio documents it: the full URL it called (query string
    included), then each POST parameter's name and value with no separators, sorted by name
    (a repeated name: its values sorted too), HMAC-SHA1 keyed with the Auth Token, base64."""
    pairs = sorted(params.items() if isinstance(params, dict) else params)
    data = url + "".join(k + v for k, v in pairs)
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_ok(
    auth_token: str, url: str, params: list[tuple[str, str]], signature: str, raw_body: bytes = b""
) -> bool:
    """True when ``signature`` is Twilio's for this request (compared in constant time). A JSON
    callback is signed over the URL alone, which carries ``bodySHA256`` of the raw body."""
    if not auth_token or not signature:
        return False
    if raw_body and "bodySHA256=" in url:
        from urllib.parse import parse_qs, urlsplit

        claimed = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
        if not hmac.compare_digest(claimed, hashlib.sha256(raw_body).hexdigest()):
            return False
        params = []
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())


TWILIO_STATUS = {
    "queued": "sent",
    "accepted": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}


@dataclass
class ClickSendSms:
    """ClickSend's v3 API: ``POST /v3/sms/send`` with ``{"messages": [{"source", "from",
    "body", "to", "custom_string"}]}``, HTTP basic auth (username, API key); each message
    answers with ``message_id`` and a ``status`` ("SUCCESS" or the reason it was refused).
    ``custom_string`` carries our idempotency key; ``GET /v3/sms/history`` finds it again."""

    username: str
    api_key: str
    sender: str = ""
    base_url: str = "https://rest.clicksend.com"
    timeout: float = 15.0
    name: str = "clicksend"
    channel: MessageChannel = MessageChannel.SMS

    _http: httpx.Client | None = field(default=None, init=False, repr=False, compare=False)

    def _client(self) -> httpx.Client:
        """One client for every send (see TwilioSms._client)."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base_url, auth=(self.username, self.api_key), timeout=self.timeout
            )
        return self._http

    def send(self, msg: Outgoing) -> str:
        one: dict[str, str] = {
            "source": "frontdesk",
            "body": msg.body,
            "to": msg.to,
            "custom_string": msg.idempotency_key,
        }
        if self.sender:
            one["from"] = self.sender
        client = self._client()
        resp = _post_or_transient(
            "ClickSend", lambda: client.post("/v3/sms/send", json={"messages": [one]})
        )
        if resp.status_code != 200:
            raise _http_failure("ClickSend", resp)
        row = resp.json()["data"]["messages"][0]
        if row.get("status") != "SUCCESS":
            raise PermanentFailure(f"ClickSend refused the message: {row.get('status')}")
        return str(row["message_id"])

    def already_sent(self, msg: Outgoing) -> str | None:
        start = int((msg.claimed_at - timedelta(hours=1)).timestamp())
        client = self._client()
        resp = _post_or_transient(
            "ClickSend",
            lambda: client.get("/v3/sms/history", params={"date_from": start, "limit": 100}),
        )
        if resp.status_code != 200:
            raise _http_failure("ClickSend", resp)
        for row in resp.json().get("data", {}).get("data", []):
            if row.get("custom_string") == msg.idempotency_key:
                return str(row["message_id"])
        return None


CLICKSEND_STATUS = {"Delivered": "delivered", "Undelivered": "failed", "Failed": "failed"}


def sms_provider(
    kind: str, account: str, secret: str, sender: str, base_url: str = "", callback: str = ""
) -> Provider:
    """The SMS provider named in Settings → Messages."""
    if kind == "twilio":
        return TwilioSms(
            account, secret, sender, callback, base_url=base_url or "https://api.twilio.com"
        )
    if kind == "clicksend":
        return ClickSendSms(
            account, secret, sender, base_url=base_url or "https://rest.clicksend.com"
        )
    raise PermanentFailure(f"Unknown SMS provider {kind!r}; choose Twilio or ClickSend.")


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


# -- webhooks: what each provider posts back ---------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """A provider's callback reduced to what frontdesk needs; ``dedupe`` identifies it so a
    provider that retries its callback has it applied once."""

    provider: str
    kind: str  # "receipt" or "reply"
    ref: str  # the provider's id of the message (ours for a receipt, theirs for a reply)
    status: str = ""  # receipt: sent / delivered / failed
    error: str = ""
    from_number: str = ""
    body: str = ""
    in_reply_to: str = ""

    @property
    def dedupe(self) -> str:
        return f"{self.provider}:{self.kind}:{self.ref}:{self.status}"


class BadWebhook(FrontdeskError):
    """A callback without the fields its provider documents."""


def _need(data: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not str(data.get(n, "")).strip()]
    if missing:
        raise BadWebhook(f"The callback is missing {', '.join(missing)}.")
    return [str(data[n]) for n in names]


def parse_webhook(provider: str, kind: str, data: dict[str, Any]) -> WebhookEvent:
    """Twilio posts form fields (MessageSid, MessageStatus, ErrorCode; inbound: MessageSid,
    From, Body); ClickSend posts message_id, status (receipts) or message_id, from, body,
    original_message_id (replies)."""
    if provider == "twilio" and kind == "status":
        sid, status = _need(data, "MessageSid", "MessageStatus")
        mapped = TWILIO_STATUS.get(status.lower(), "sent")
        error = f"Twilio error {data['ErrorCode']}" if data.get("ErrorCode") else ""
        return WebhookEvent("twilio", "receipt", sid, mapped, error)
    if provider == "twilio" and kind == "inbound":
        sid, sender, body = _need(data, "MessageSid", "From", "Body")
        return WebhookEvent("twilio", "reply", sid, from_number=sender, body=body)
    if provider == "clicksend" and kind == "status":
        mid, status = _need(data, "message_id", "status")
        error = str(data.get("error_text") or "") if status != "Delivered" else ""
        return WebhookEvent("clicksend", "receipt", mid, CLICKSEND_STATUS.get(status, "sent"),
                            error)  # fmt: skip
    if provider == "clicksend" and kind == "inbound":
        mid, sender, body = _need(data, "message_id", "from", "body")
        return WebhookEvent("clicksend", "reply", mid, from_number=sender, body=body,
                            in_reply_to=str(data.get("original_message_id") or ""))  # fmt: skip
    raise BadWebhook(f"frontdesk takes no {kind!r} callback from {provider!r}.")
