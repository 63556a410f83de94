"""Finding patients as reception types. The one entry point other areas use (the diary's
booking dialog, billing's payer pick): ``search(ctx, text)``.

One SQL statement over the FTS5 index ``patients_fts`` (migration 0201): the match and ranking
run on the index and the patients table, then only the page of hits gets its next appointment
and alert flag. Ranking: exact name matches, then name prefixes, then other matches; within
each, patients seen recently first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from frontdesk.db.types import from_sqlite_utc_value, key_blob, key_text, sqlite_utc_value
from frontdesk.domain.patient_text import SearchQuery, build_query
from frontdesk.store.context import ServiceContext

MAX_RANKED_WORDS = 3
# At most this many index matches are ranked, newest patients first: a two-letter prefix can
# match a tenth of a large clinic, and ranking all of them costs more than a keystroke may.
# Below the cap (almost every query of three letters or more) the ranking is complete.
CANDIDATES = 800


@dataclass(frozen=True)
class PatientHit:
    id: str
    patient_number: str
    display_name: str
    date_of_birth: date | None
    mobile_phone: str
    has_alert: bool
    archived: bool
    age: int | None = None
    next_appointment_at: datetime | None = None
    preferred_name: str = ""


def age_on(dob: date | None, today: date) -> int | None:
    if dob is None:
        return None
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def display_name(first: str, last: str, preferred: str = "", title: str = "") -> str:
    name = f"{first} {last}".strip()
    if preferred and preferred != first:
        name = f"{first} ({preferred}) {last}"
    return name


def search_sql(query: SearchQuery, *, include_archived: bool) -> tuple[str, dict[str, Any]]:
    """The statement and parameters (``:now`` and ``:limit`` still to bind)."""
    params: dict[str, Any] = {"q": query.match}
    score_parts: list[str] = []
    for i, word in enumerate(query.words[:MAX_RANKED_WORDS]):
        params[f"w{i}"] = word
        params[f"wp{i}"] = f"{word}%"
        exact = " OR ".join(f"lower(p.{c}) = :w{i}" for c in ("last_name", "first_name",
                                                              "preferred_name"))  # fmt: skip
        prefix = " OR ".join(
            f"p.{c} LIKE :wp{i}" for c in ("last_name", "first_name", "preferred_name")
        )
        score_parts.append(f"CASE WHEN {exact} THEN 0 WHEN {prefix} THEN 1 ELSE 2 END")
    score = " + ".join(score_parts) or "0"
    archived = "" if include_archived else "AND p.archived_at IS NULL"
    inner = f"""
  SELECT p.id, p.patient_number, p.first_name, p.last_name, p.preferred_name,
         p.date_of_birth, p.mobile_phone, p.home_phone, p.archived_at,
         ({score}) AS score, p.last_seen_at
  FROM (SELECT rowid FROM patients_fts WHERE patients_fts MATCH :q
        ORDER BY rowid DESC LIMIT {CANDIDATES}) f
  JOIN patients p ON p.rowid = f.rowid
  WHERE p.merged_into_id IS NULL AND p.deleted_at IS NULL {archived}
  ORDER BY score, p.last_seen_at DESC NULLS LAST, p.last_name, p.first_name
  LIMIT :limit"""
    return _with_details(inner), params


def initial_sql(letter: str, *, include_archived: bool) -> tuple[str, dict[str, Any]]:
    """One letter typed: surnames starting with it, in alphabetical order, straight from the
    name index (ranking every patient whose name has a word starting with "s" would cost tens
    of milliseconds and tell reception nothing)."""
    archived = "" if include_archived else "AND p.archived_at IS NULL"
    upper = letter.upper()
    inner = f"""
  SELECT p.id, p.patient_number, p.first_name, p.last_name, p.preferred_name,
         p.date_of_birth, p.mobile_phone, p.home_phone, p.archived_at,
         0 AS score, p.last_seen_at
  FROM patients p
  WHERE p.last_name >= :lo AND p.last_name < :hi
        AND p.merged_into_id IS NULL AND p.deleted_at IS NULL {archived}
  ORDER BY p.last_name, p.first_name
  LIMIT :limit"""
    sql = _with_details(inner).replace(
        "ORDER BY h.score, h.last_seen_at DESC NULLS LAST, h.last_name", "ORDER BY h.last_name"
    )
    return sql, {"lo": upper, "hi": chr(ord(upper) + 1)}


def _with_details(inner: str) -> str:
    """Next appointment and alert flag, for the page of hits only."""
    return f"""
SELECT h.id, h.patient_number, h.first_name, h.last_name, h.preferred_name, h.date_of_birth,
       h.mobile_phone, h.home_phone, h.archived_at,
       EXISTS (SELECT 1 FROM patient_alerts a WHERE a.patient_id = h.id
               AND a.archived_at IS NULL AND a.deleted_at IS NULL) AS has_alert,
       (SELECT min(ap.starts_at) FROM appointments ap WHERE ap.patient_id = h.id
               AND ap.starts_at >= :now AND ap.status IN ('booked', 'arrived')
               AND ap.deleted_at IS NULL) AS next_at
FROM ({inner}
) h
ORDER BY h.score, h.last_seen_at DESC NULLS LAST, h.last_name, h.first_name
"""


def build_sql(
    text: str, today: date, *, include_archived: bool
) -> tuple[str, dict[str, Any]] | None:
    """The statement for what was typed (``:now`` and ``:limit`` still to bind), or None."""
    stripped = text.strip()
    if len(stripped) == 1 and stripped.isalpha() and stripped.upper() != stripped.lower():
        return initial_sql(stripped, include_archived=include_archived)
    if len(stripped) == 1 and stripped.isdigit():
        return search_sql(SearchQuery(f'ids : "{stripped}"'), include_archived=include_archived)
    query = build_query(stripped, today)
    if query is None:
        return None
    return search_sql(query, include_archived=include_archived)


def search(
    ctx: ServiceContext, text: str, *, limit: int = 20, include_archived: bool = False
) -> list[PatientHit]:
    today = ctx.clock.now().astimezone(ctx.tz).date()
    built = build_sql(text, today, include_archived=include_archived)
    if built is None:
        return []
    sql, params = built
    params["limit"] = limit
    return _run(ctx, sql, params)


def patient_hit(ctx: ServiceContext, patient_id: str) -> PatientHit | None:
    """One patient as a search hit (name, birth date, phone, number): how a picker shows the
    patient it was opened with."""
    inner = """
  SELECT p.id, p.patient_number, p.first_name, p.last_name, p.preferred_name,
         p.date_of_birth, p.mobile_phone, p.home_phone, p.archived_at,
         0 AS score, p.last_seen_at
  FROM patients p WHERE p.id = :id AND p.deleted_at IS NULL"""
    hits = _run(ctx, _with_details(inner), {"id": key_blob(patient_id)})
    return hits[0] if hits else None


def _run(ctx: ServiceContext, sql: str, params: dict[str, Any]) -> list[PatientHit]:
    now = ctx.clock.now()
    today = now.astimezone(ctx.tz).date()
    params["now"] = sqlite_utc_value(now)
    # A plain DBAPI cursor: one SELECT needs no ORM session, and each keystroke counts.
    conn = ctx.engine.raw_connection()
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        conn.close()
    hits = []
    for pid, number, first, last, preferred, dob_text, mobile, home, archived, alert, nxt in rows:
        dob = date.fromisoformat(dob_text) if dob_text else None
        hits.append(
            PatientHit(
                id=key_text(pid),
                patient_number=number,
                display_name=display_name(first, last, preferred),
                date_of_birth=dob,
                mobile_phone=mobile or home,
                has_alert=bool(alert),
                archived=archived is not None,
                age=age_on(dob, today),
                next_appointment_at=from_sqlite_utc_value(nxt) if nxt is not None else None,
                preferred_name=preferred,
            )
        )
    return hits


def rebuild_index(ctx: ServiceContext) -> None:
    """Re-read every patient into the search index (after a bulk load or a VACUUM)."""
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO patients_fts(patients_fts) VALUES ('rebuild')")
