"""A practitioner's diary as a private iCalendar feed (``/feeds/ical/<token>.ics``), for the
calendar on their phone: busy times only, or with the patient's initials. The URL's token is
the only key to it, kept as a SHA-256 and revocable (``frontdesk-server ical …``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import insert, select, update

from frontdesk.domain.errors import RuleViolation
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.server import schema as s
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.changelog import TABLES
from frontdesk.server.store import ServerStore, hash_secret

PATH = "/feeds/ical/{token}.ics"
DETAILS = ("busy", "initials")
BACK = timedelta(days=30)
AHEAD = timedelta(days=180)


@dataclass(frozen=True)
class Feed:
    id: str
    practitioner_id: str
    detail: str
    created_at: datetime
    revoked_at: datetime | None


def create_feed(store: ServerStore, practitioner_id: str, detail: str = "busy") -> tuple[Feed, str]:
    """A new feed and its URL path (shown once)."""
    if detail not in DETAILS:
        raise RuleViolation("A feed shows 'busy' times only, or 'initials' as well.")
    p = TABLES["practitioners"]
    token = secrets.token_urlsafe(24)
    now = store.now()
    with store.writing() as conn:
        found = conn.execute(
            select(p.c.id).where(p.c.id == practitioner_id, p.c.deleted_at.is_(None))
        ).first()
        if found is None:
            raise RuleViolation(f"No practitioner has the id {practitioner_id!r}.")
        feed = Feed(uuid7(), practitioner_id, detail, now, None)
        conn.execute(
            insert(s.api_ical_feeds).values(
                id=feed.id,
                practitioner_id=practitioner_id,
                token_hash=hash_secret(token),
                detail=detail,
                created_at=now,
            )
        )
    return feed, PATH.format(token=token)


def list_feeds(store: ServerStore) -> list[Feed]:
    f = s.api_ical_feeds.c
    with store.reading() as conn:
        rows = conn.execute(select(s.api_ical_feeds).order_by(f.created_at)).all()
    return [Feed(r.id, r.practitioner_id, r.detail, r.created_at, r.revoked_at) for r in rows]


def revoke_feed(store: ServerStore, feed_id: str) -> int:
    f = s.api_ical_feeds.c
    with store.writing() as conn:
        done = conn.execute(
            update(s.api_ical_feeds)
            .where(f.id == feed_id, f.revoked_at.is_(None))
            .values(revoked_at=store.now())
        )
    return int(done.rowcount or 0)


def _initials(first: str | None, last: str | None) -> str:
    return " ".join(f"{n.strip()[0].upper()}." for n in (first, last) if n and n.strip())


def render(store: ServerStore, token: str) -> bytes:
    """The feed's calendar, or 404 for a token that is unknown or revoked."""
    f = s.api_ical_feeds.c
    a = TABLES["appointments"]
    pt = TABLES["patients"]
    lv = TABLES["leave"]
    now = store.now()
    with store.reading() as conn:
        feed = conn.execute(
            select(s.api_ical_feeds).where(f.token_hash == hash_secret(token[:200]))
        ).first()
        if feed is None or feed.revoked_at is not None:
            raise ApiProblem(
                404,
                "There is no calendar feed at this address (it may have been revoked).",
                "not_found",
            )
        rows = conn.execute(
            select(
                a.c.id, a.c.starts_at, a.c.ends_at, a.c.updated_at, pt.c.first_name, pt.c.last_name
            )
            .outerjoin(pt, pt.c.id == a.c.patient_id)
            .where(
                a.c.practitioner_id == feed.practitioner_id,
                a.c.deleted_at.is_(None),
                a.c.status != AppointmentStatus.CANCELLED,
                a.c.starts_at > now - BACK,
                a.c.starts_at < now + AHEAD,
            )
            .order_by(a.c.starts_at)
        ).all()
        # the clinic's setting (Settings → Online booking) shows initials in every feed; a
        # feed made with --initials shows them whatever the setting
        cs = TABLES["clinic_settings"]
        clinic_detail = conn.execute(
            select(cs.c.ical_detail).where(cs.c.deleted_at.is_(None)).limit(1)
        ).scalar()
        initials = feed.detail == "initials" or clinic_detail == "initials"
        away = conn.execute(
            select(lv.c.id, lv.c.starts_at, lv.c.ends_at, lv.c.updated_at).where(
                lv.c.practitioner_id == feed.practitioner_id,
                lv.c.deleted_at.is_(None),
                lv.c.ends_at > now - BACK,
                lv.c.starts_at < now + AHEAD,
            )
        ).all()
    cal = Calendar()
    cal.add("prodid", "-//frontdesk//clinic server//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Clinic diary")
    for r in rows:
        summary = "Busy"
        if initials:
            summary = _initials(r.first_name, r.last_name) or "Group / no patient"
        cal.add_component(
            _event(f"{r.id}@frontdesk", r.starts_at, r.ends_at, r.updated_at, summary)
        )
    for gone in away:
        cal.add_component(
            _event(f"{gone.id}@frontdesk", gone.starts_at, gone.ends_at, gone.updated_at, "Away")
        )
    return bytes(cal.to_ical())


def _event(uid: str, start: datetime, end: datetime, stamp: datetime, summary: str) -> Any:
    e = Event()
    e.add("uid", uid)
    e.add("dtstart", start)
    e.add("dtend", end)
    e.add("dtstamp", stamp)
    e.add("summary", summary)
    e.add("transp", "OPAQUE")
    return e
