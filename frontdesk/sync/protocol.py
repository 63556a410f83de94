"""The desk ↔ clinic-server protocol: versions, headers, limits and the shape of messages.

Plain constants and functions only (no HTTP, no database), shared by ``frontdesk.sync`` on the
desk and ``frontdesk.server`` so both ends agree on one definition.
"""

from __future__ import annotations

import functools

PROTOCOL_VERSION = 1
# The server accepts this range of protocol versions; anything else gets 426 "upgrade needed".
MIN_PROTOCOL = 1
MAX_PROTOCOL = 1

PROTOCOL_HEADER = "X-Frontdesk-Protocol"
SCHEMA_HEADER = "X-Frontdesk-Schema"

# Bounded batches: a push carries at most this many mutations, a pull returns at most this many.
MAX_PUSH_MUTATIONS = 1000
MAX_PULL_CHANGES = 2000
MAX_SNAPSHOT_ROWS = 5000
MAX_BODY_BYTES = 8 * 1024 * 1024
# After a sync, up to this many of the rows it touched per table are compared by content.
MAX_DIGEST_ROWS = 1000
MAX_FIELDS_BYTES = 64 * 1024

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

# Tables that exist on each desk only and never travel.
LOCAL_ONLY = frozenset({"number_series", "sync_outbox", "sync_state"})


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
