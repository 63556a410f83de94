"""The desk ↔ clinic-server protocol: versions, headers, limits, the endpoints and the typed
bodies of the requests and answers, and the certificate fingerprint both ends print.

No HTTP, no database and no FastAPI: the desk's sync engine (``frontdesk.sync``) and the server
(``frontdesk.server``) both build on this one definition. The request bodies are plain
dataclasses whose field limits (``annotated_types``) the server's FastAPI checks as it parses
them; ``as_json`` / ``from_json`` turn bodies into and out of JSON values.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Self

from annotated_types import Ge, Le, Len, MaxLen

PROTOCOL_VERSION = 1
# The server accepts this range of protocol versions; anything else gets 426 "upgrade needed".
MIN_PROTOCOL = 1
MAX_PROTOCOL = 1

PROTOCOL_HEADER = "X-Frontdesk-Protocol"
SCHEMA_HEADER = "X-Frontdesk-Schema"
# The server's clock (ISO 8601, UTC) on its pull answers: each desk measures its
# offset to it, and judges by server time what the server decides (a hold lapsing).
SERVER_TIME_HEADER = "X-Frontdesk-Server-Time"

# Bounded batches: a push carries at most this many mutations, a pull returns at most this many.
MAX_PUSH_MUTATIONS = 1000
MAX_PULL_CHANGES = 2000
MAX_SNAPSHOT_ROWS = 5000
MAX_BODY_BYTES = 8 * 1024 * 1024
# After a sync, up to this many of the rows it touched per table are compared by content.
MAX_DIGEST_ROWS = 1000
MAX_FIELDS_BYTES = 64 * 1024
# Change-log positions are 64-bit on the server: a larger cursor is refused with 422.
MAX_CURSOR = 2**63 - 1

# A stamp further ahead of the server's clock than this is refused (the desk's clock is wrong);
# a smaller lead is clamped to the server's time.
MAX_CLOCK_LEAD_S = 24 * 3600
CLAMP_LEAD_S = 5 * 60

# Results of a pushed mutation.
APPLIED = "applied"
MERGED = "merged"
CONFLICT = "conflict"
REJECTED = "rejected"
RESULT_STATES = (APPLIED, MERGED, CONFLICT, REJECTED)


class Endpoint(StrEnum):
    """Every path of the clinic server's desk API. ``SNAPSHOT_TABLE`` takes ``{table}``."""

    HEALTH = "/health"
    ENROL = "/v1/enrol"
    PUSH = "/v1/push"
    PULL = "/v1/pull"
    SNAPSHOT = "/v1/snapshot"
    SNAPSHOT_TABLE = "/v1/snapshot/{table}"
    STATS = "/v1/stats"
    DEVICE = "/v1/device"
    WAIT = "/v1/wait"
    REVOKE = "/v1/revoke"
    AUDIT_HEADS = "/v1/audit-heads"
    # SMS providers' callbacks (no desk headers: the provider calls it, with ?key=…), and the
    # messaging desk's fetch / acknowledgement of what they brought (issue 18)
    SMS_WEBHOOK = "/webhooks/sms/{provider}/{kind}"
    SMS_EVENTS = "/v1/messaging/events"
    SMS_EVENTS_TAKEN = "/v1/messaging/events/taken"
    # Settings → Integrations on a desk: the integration API's keys and call log; creating
    # and revoking a key also need a staff owner's or practice manager's signature (issue 17)
    INTEGRATION_KEYS = "/v1/integrations/keys"
    INTEGRATION_KEY_REVOKE = "/v1/integrations/keys/{key_id}/revoke"
    INTEGRATION_LOG = "/v1/integrations/log"

    def path(self, **parts: str) -> str:
        """The path with its ``{…}`` parts filled in."""
        return self.value.format(**parts)


DESK_API_PREFIX = "/v1/"  # requests under it carry the version headers

# Tables that exist on each desk only and never travel.
LOCAL_ONLY = frozenset({"number_series", "sync_outbox", "sync_state", "audit_anchors"})


@functools.cache
def schema_version() -> str:
    """The desk data-model version both ends must share: the head of the desk migrations."""
    from frontdesk.db.migrate import head_revision

    return head_revision()


def invoice_prefix(device_number: int) -> str:
    """The invoice-number prefix handed to the n-th enrolled desk: ``D1``, ``D2``…"""
    return f"D{device_number}"


def series_prefixes(base: str) -> dict[str, str]:
    """Prefix of every number series a desk starts at enrolment (kind → prefix)."""
    return {
        "invoice": base,
        "credit_note": f"{base}CN",
        "patient": f"{base}P",
        "receipt": f"{base}R",
    }


def number_prefix(number: str) -> str:
    """The series prefix of a formatted number: ``D3-000123`` → ``D3``."""
    head, sep, _tail = number.rpartition("-")
    return head if sep else number.rstrip("0123456789")


def fingerprint(pem: str) -> str:
    """SHA-256 of the certificate (DER), as colon-separated upper-case hex pairs."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


# -- bodies ---------------------------------------------------------------------------------------
class Body:
    """A request or answer body: a dataclass with JSON values only."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """The body from JSON values; fields it does not know (a newer peer) are left out."""
        names = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class EnrolRequest(Body):
    code: Annotated[str, Len(4, 40)]
    device_id: Annotated[str, Len(8, 36)]
    device_name: Annotated[str, MaxLen(120)] = ""


@dataclass(frozen=True)
class EnrolReply(Body):
    device_id: str
    series_prefix: str
    token: str
    epoch: str
    has_clinic: bool
    # Changes of this desk up to here are in the server's copy (it was seeded from it).
    delivered_through: int = 0


@dataclass(frozen=True)
class Mutation(Body):
    """One change of one row, as the desk's outbox holds it."""

    mutation_id: str
    seq: int
    entity: str
    row_id: str
    op: str
    base_version: int
    hlc: str
    fields: dict[str, Any]
    # How far the desk had pulled the clinic's changes when it made this one (left out if
    # unknown): what the person could have seen, e.g. for booking clashes.
    cursor: int | None = None
    # A privileged change's proof: {"by": staff id, "sig": hex Ed25519 signature} over
    # domain.signing.change_statement (store/privilege.py); left out when there is none.
    proof: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        # Built directly: ``asdict`` deep-copies every field value, and a push of 10,000
        # changes spent about a third of the desk's time there. The values are sent as they
        # are (nothing changes them on the way).
        body = {
            "mutation_id": self.mutation_id,
            "seq": self.seq,
            "entity": self.entity,
            "row_id": self.row_id,
            "op": self.op,
            "base_version": self.base_version,
            "hlc": self.hlc,
            "fields": self.fields,
        }
        if self.cursor is not None:
            body["cursor"] = self.cursor
        if self.proof is not None:
            body["proof"] = self.proof
        return body


@dataclass(frozen=True)
class PushRequest(Body):
    # Checked one by one by the server (merge.validate) so one bad change names itself.
    mutations: Annotated[list[dict[str, Any]], MaxLen(100_000)]
    cursor: Annotated[int, Ge(0), Le(MAX_CURSOR)] = 0

    def as_json(self) -> dict[str, Any]:
        # the mutations are JSON values already (Mutation.as_json): not copied again
        return {"mutations": self.mutations, "cursor": self.cursor}


@dataclass(frozen=True)
class StatsRequest(Body):
    tables: Annotated[list[str], MaxLen(200)]
    # table → row id → content digest of rows the desk touched in this sync (optional).
    rows: Annotated[dict[str, dict[str, str]], MaxLen(200)] = field(default_factory=dict)
    # also the countersigned audit-chain heads, read at the same moment (an AuditHeadsReply in
    # the answer's ``audit``): after a sync that moved audit entries, one request, not two
    heads: bool = False


@dataclass(frozen=True)
class StatsReply(Body):
    tables: dict[str, list[int]]  # table → [row count, sum of versions] on the server
    latest: int  # the change-log position those figures reflect
    last_seq: int  # this desk's newest change the server holds
    # table → rows (as the server holds them) whose content differed from the desk's digest
    repair: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    audit: dict[str, Any] | None = None  # AuditHeadsReply, when asked for (``heads``)


@dataclass(frozen=True)
class SnapshotStart(Body):
    cursor: int  # the change-log position the snapshot reflects
    epoch: str
    tables: dict[str, int]  # table → rows to copy


@dataclass(frozen=True)
class DeviceReply(Body):
    device_id: str
    last_seq: int
    series_prefix: str
    epoch: str


@dataclass(frozen=True)
class AuditHead(Body):
    """The newest entry of one desk's audit chain the server holds, countersigned by it."""

    chain: str
    seq: int
    hash: str
    signature: str


@dataclass(frozen=True)
class AuditHeadsReply(Body):
    key: str  # the server's public key (Ed25519, hex)
    latest: int  # the change-log position the heads reflect
    heads: list[dict[str, Any]]


@dataclass(frozen=True)
class WaitReply(Body):
    latest: int
    changed: bool
