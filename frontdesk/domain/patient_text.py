"""Reading what reception types: names folded the way the search index folds them, dates of birth
as people write them (3/7/85, 03-07-1985, 1985-07-03), and phone numbers in any format.

Pure functions; the FTS5 query text is built here so the search service only runs it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

_DATE_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_DATE_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_PHONE = re.compile(r"^\+?[\d\s().\-]+$")
_PARTIAL_DATE = re.compile(r"^\d{1,4}[/.\-](\d{1,2}([/.\-]\d{0,3})?)?$")
MIN_PHONE_DIGITS = 4
_SQUASH = str.maketrans("", "", "'’‘`-.")
_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, accents removed (Nguyễn → nguyen, Siobhán → siobhan), as the index folds."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def tokens(text: str) -> list[str]:
    """Search tokens: runs of letters and digits after folding, apostrophes and hyphens joined
    (O'Brien → obrien, Smith-Jones → smithjones) as the index also stores them joined."""
    out: list[str] = []
    for word in fold(text).split():
        squashed = word if "@" in word else word.translate(_SQUASH)
        out.extend(t for t in re.split(r"[^\w]+", squashed) if t)
    return [t.replace("_", "") for t in out if t.replace("_", "")]


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def parse_date(text: str, today: date) -> date | None:
    """A date typed as d/m/yy, d/m/yyyy, d-m-yyyy, d.m.yyyy or yyyy-mm-dd; None if not a date.

    Two-digit years belong to the past century when they would otherwise be in the future
    (3/7/85 → 1985, 3/7/12 → 2012 when today is in 2026)."""
    text = text.strip()
    m = _DATE_YMD.match(text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _DATE_DMY.match(text)
        if not m:
            return None
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
        if len(m[3]) == 2:
            y += 2000 if 2000 + y <= today.year else 1900
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def phone_variants(text: str) -> list[str]:
    """Digit strings to look up for a typed phone number: as typed, and with +61 / 61 / 0
    written the other way, so 0412 345 678, +61 412 345 678 and 412345678 all match."""
    d = digits(text)
    if not d:
        return []
    out = [d]
    if d.startswith("61") and len(d) > 4:
        out.append("0" + d[2:])
    elif d.startswith("0") and len(d) > 4:
        out.append(d[1:])
    return out


def is_partial_date(text: str) -> bool:
    """A date still being typed (3/7, 19/1/), which matches nothing until the year is there."""
    return bool(_PARTIAL_DATE.match(text.strip()))


@dataclass(frozen=True)
class SearchQuery:
    """The FTS5 MATCH expression and the folded words used to rank exact and prefix matches."""

    match: str
    words: tuple[str, ...] = field(default_factory=tuple)


def _prefix(token: str) -> str:
    return f'"{token}"*'


def _name_term(token: str) -> str:
    """A word as typed: a prefix of a name (Mac and Mc both ways), or a whole word of an email
    (prefixes of email words are not searched: imported emails such as "sophiesmith85" make
    thousands of distinct words that a prefix would have to merge); with digits, a prefix of a
    patient, Medicare, DVA or NDIS number or a phone."""
    if token.isdigit():
        return f"{{ids phones}} : {_prefix(token)}"
    if any(ch.isdigit() for ch in token):  # P000123, NX123456, or a name typed with a digit
        return f"{{names ids}} : {_prefix(token)}"
    options = [_prefix(token)]
    if token.startswith("mac") and len(token) > 3:
        options.append(_prefix("mc" + token[3:]))
    elif token.startswith("mc") and len(token) > 2:
        options.append(_prefix("mac" + token[2:]))
    inner = " OR ".join(options)
    return f'(names : ({inner}) OR email : "{token}")'


def build_query(text: str, today: date) -> SearchQuery | None:
    """Turn what was typed into an FTS5 query, or None when there is nothing to search for."""
    text = text.strip()
    if not text:
        return None
    when = parse_date(text, today)
    if when is not None:
        return SearchQuery(f'dob : "{when:%Y%m%d}"')
    if _PARTIAL_DATE.match(text):
        return None  # a date being typed (3/7, 19/1/): wait for the year
    if _PHONE.match(text) and len(digits(text)) >= 2:
        if len(digits(text)) < MIN_PHONE_DIGITS:  # "04" is every mobile: patient numbers only
            return SearchQuery(f'ids : "{digits(text)}"')
        variants = phone_variants(text)
        inner = " OR ".join(_prefix(v) for v in variants)
        return SearchQuery(f"{{phones ids}} : ({inner})")
    terms: list[str] = []
    words: list[str] = []
    for word in text.split():
        when = parse_date(word, today)
        if when is not None:
            terms.append(f'dob : "{when:%Y%m%d}"')
            continue
        if _PARTIAL_DATE.match(word):
            continue
        if "@" in word:  # an email: its parts as one phrase, the last one still being typed
            parts = tokens(word)
            if parts:
                phrase = " + ".join(f'"{t}"' for t in parts[:-1]) + (
                    " + " if len(parts) > 1 else ""
                )
                terms.append(f"email : ({phrase}{_prefix(parts[-1])})")
            continue
        for token in tokens(word):
            terms.append(_name_term(token))
            words.append(token)
    if not terms:
        return None
    return SearchQuery(" AND ".join(terms), tuple(words))
