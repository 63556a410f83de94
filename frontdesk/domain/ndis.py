"""The NDIA's files, as plain functions: the support catalogue (price limits) CSV, the bulk
payment request CSV for agency-managed participants, and the bulk payment report (remittance).

Column names are the NDIA's published ones. The support catalogue is the "NDIS Support
Catalogue" CSV export of the Pricing Arrangements and Price Limits (one row per support item,
a price limit per state/territory and for remote and very remote areas; an empty price with
``Quote`` = Y means the item is quotable). The bulk payment request has the 16 columns of the
myplace provider portal's bulk upload; the payment report repeats them and adds the result.

Money is integer cents throughout; a price is read as a Decimal and refused if it has more
than two decimal places.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.money import format_money

STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
REGIONS = (*STATES, "Remote", "Very Remote")

CATALOGUE_REQUIRED = ("Support Item Number", "Support Item Name", "Unit")
CATALOGUE_CATEGORY_COLUMNS = ("Support Category Name", "Support Category Name (PACE)")
CATALOGUE_CATEGORY_NUMBER = ("Support Category Number", "Support Category Number (PACE)")

BULK_PAYMENT_COLUMNS = (
    "RegistrationNumber",
    "NDISNumber",
    "SupportsDeliveredFrom",
    "SupportsDeliveredTo",
    "SupportNumber",
    "ClaimReference",
    "Quantity",
    "Hours",
    "UnitPrice",
    "GSTCode",
    "AuthorisedBy",
    "ParticipantApproved",
    "InKindFundingProgram",
    "ClaimType",
    "CancellationReason",
    "ABN of Support Provider",
)

# The bulk payment report (the portal's result file) adds these to the request's columns.
PAYMENT_REPORT_COLUMNS = (
    *BULK_PAYMENT_COLUMNS,
    "Capped Price",
    "Payment Request Number",
    "Participant Name",
    "Claimed Amount",
    "Paid Total Amount",
    "Payment Request Status",
    "Error Message",
)


# -- money and dates in the NDIA's files -----------------------------------------------------
def parse_dollars(text: str, *, what: str = "price") -> int | None:
    """ "$1,017.00" / "193.99" / "" → cents (None when empty)."""
    t = text.strip().replace("$", "").replace(",", "").strip()
    if not t:
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValidationFailed(f"“{text}” is not a {what}.") from None
    if value != value.quantize(Decimal("0.01")) or value < 0:
        raise ValidationFailed(f"“{text}” is not a {what} in dollars and cents.")
    return int(value * 100)


def cents_to_dollars(cents: int) -> str:
    """1234 → "12.34" (the bulk payment request's UnitPrice)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_date(text: str) -> date | None:
    t = text.strip()
    if not t:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise ValidationFailed(f"“{text}” is not a date (expected 2026-07-01 or 1/07/2026).")


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for row in reader:
        if None in row:
            raise ValidationFailed(
                f"Line {reader.line_num} has more fields than the header; the file is damaged."
            )
        rows.append({k: (v or "").strip() for k, v in row.items()})
    return header, rows


# -- the support catalogue -------------------------------------------------------------------
@dataclass(frozen=True)
class SupportItem:
    number: str
    name: str
    unit: str
    category_number: str
    category_name: str
    registration_group: str
    quote: bool
    starts_on: date | None
    ends_on: date | None
    prices: Mapping[str, int]  # region → price limit in cents (absent: no limit / quotable)

    def price_limit(self, region: str) -> int | None:
        return self.prices.get(region)


def parse_support_catalogue(text: str) -> list[SupportItem]:
    """Read the NDIA's support catalogue CSV. Refuses the whole file on the first bad row, with
    its line number."""
    header, rows = _rows(text)
    missing = [c for c in CATALOGUE_REQUIRED if c not in header]
    if missing:
        raise ValidationFailed(
            "This is not the NDIS support catalogue CSV: it has no "
            + ", ".join(f"“{m}”" for m in missing)
            + " column."
        )
    price_cols = [r for r in REGIONS if r in header]
    if not price_cols:
        raise ValidationFailed("The support catalogue has no price-limit columns (ACT … WA).")
    items: list[SupportItem] = []
    seen: set[tuple[str, date | None]] = set()
    for line, row in enumerate(rows, start=2):
        number = row["Support Item Number"]
        if not number:
            continue
        try:
            prices = {
                r: cents
                for r in price_cols
                if (cents := parse_dollars(row.get(r, ""), what="price")) is not None
            }
            starts = parse_date(row.get("Start date", row.get("Start Date", "")))
            ends = parse_date(row.get("End Date", row.get("End date", "")))
        except ValidationFailed as e:
            raise ValidationFailed(f"Line {line} ({number}): {e}") from None
        key = (number, starts)
        if key in seen:
            raise ValidationFailed(f"Line {line}: support item {number} appears twice.")
        seen.add(key)
        items.append(
            SupportItem(
                number=number,
                name=row["Support Item Name"],
                unit=row["Unit"],
                category_number=next((row[c] for c in CATALOGUE_CATEGORY_NUMBER if row.get(c)), ""),
                category_name=next((row[c] for c in CATALOGUE_CATEGORY_COLUMNS if row.get(c)), ""),
                registration_group=row.get("Registration Group Name", ""),
                quote=row.get("Quote", "").upper() in ("Y", "YES", "TRUE"),
                starts_on=starts,
                ends_on=ends,
                prices=prices,
            )
        )
    if not items:
        raise ValidationFailed("The support catalogue has no support items.")
    return items


def check_price(item: SupportItem, region: str, unit_price_cents: int) -> None:
    """Refuse a unit price above the NDIA's price limit for the clinic's state."""
    limit = item.price_limit(region)
    if limit is not None and unit_price_cents > limit:
        raise ValidationFailed(
            f"{format_money(unit_price_cents)} is above the NDIS price limit for {item.number} "
            f"in {region} ({format_money(limit)}).",
            field="unit_price",
        )


# -- the bulk payment request ----------------------------------------------------------------
@dataclass(frozen=True)
class BulkClaimLine:
    registration_number: str
    ndis_number: str
    delivered_from: date
    delivered_to: date
    support_number: str
    claim_reference: str
    quantity: Decimal
    unit_price_cents: int
    gst_code: str = "P1"
    claim_type: str = ""  # "" a service; CANC, REPW, TRAN, NF2F, THLT, IRSS
    cancellation_reason: str = ""
    abn: str = ""


def check_bulk_line(line: BulkClaimLine) -> None:
    if not line.ndis_number.strip():
        raise ValidationFailed(f"{line.claim_reference}: the participant has no NDIS number.")
    if not line.support_number.strip():
        raise ValidationFailed(f"{line.claim_reference}: no NDIS support item number.")
    if not line.registration_number.strip():
        raise ValidationFailed("Enter the clinic's NDIS registration number first.")
    if len(line.claim_reference) > 50:
        raise ValidationFailed(f"{line.claim_reference}: a claim reference is at most 50 chars.")
    if line.delivered_to < line.delivered_from:
        raise ValidationFailed(f"{line.claim_reference}: the support ends before it starts.")


def bulk_payment_request(lines: Iterable[BulkClaimLine]) -> str:
    """The bulk payment request CSV (CRLF lines, header first, dates YYYY-MM-DD)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(BULK_PAYMENT_COLUMNS)
    for line in lines:
        check_bulk_line(line)
        w.writerow(
            [
                line.registration_number,
                line.ndis_number,
                line.delivered_from.isoformat(),
                line.delivered_to.isoformat(),
                line.support_number,
                line.claim_reference,
                f"{line.quantity:f}",
                "",
                cents_to_dollars(line.unit_price_cents),
                line.gst_code,
                "",
                "",
                "",
                line.claim_type,
                line.cancellation_reason,
                line.abn.replace(" ", ""),
            ]
        )
    return out.getvalue()


# -- remittances (payment reports) -----------------------------------------------------------
@dataclass(frozen=True)
class RemittanceMapping:
    """Which columns of a funder's remittance file hold what. ``status``/``error`` optional."""

    reference: str
    paid: str
    claimed: str = ""
    status: str = ""
    error: str = ""
    paid_statuses: frozenset[str] = frozenset()  # empty: every line with money counts as paid


NDIA_PAYMENT_REPORT = RemittanceMapping(
    reference="ClaimReference",
    paid="Paid Total Amount",
    claimed="Claimed Amount",
    status="Payment Request Status",
    error="Error Message",
    paid_statuses=frozenset({"PAID", "SUCCESSFUL", "PART PAID", "PARTIALLY PAID"}),
)


@dataclass(frozen=True)
class RemittanceLine:
    line: int
    reference: str
    paid_cents: int
    claimed_cents: int | None
    status: str
    error: str

    @property
    def rejected(self) -> bool:
        return self.paid_cents == 0 and bool(self.error or self.status)


def parse_remittance(
    text: str, mapping: RemittanceMapping = NDIA_PAYMENT_REPORT
) -> list[RemittanceLine]:
    """Read a remittance file; refuses the whole file (with the line) if any line is bad."""
    header, rows = _rows(text)
    needed = [c for c in (mapping.reference, mapping.paid) if c not in header]
    if needed:
        raise ValidationFailed(
            "This remittance file has no "
            + " or ".join(f"“{c}”" for c in needed)
            + " column; choose the right file or mapping."
        )
    out: list[RemittanceLine] = []
    for n, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue
        ref = row.get(mapping.reference, "")
        if not ref:
            raise ValidationFailed(f"Line {n} has no claim reference.")
        try:
            paid = parse_dollars(row.get(mapping.paid, ""), what="paid amount") or 0
            claimed = (
                parse_dollars(row.get(mapping.claimed, ""), what="claimed amount")
                if mapping.claimed
                else None
            )
        except ValidationFailed as e:
            raise ValidationFailed(f"Line {n} ({ref}): {e}") from None
        status = row.get(mapping.status, "") if mapping.status else ""
        if mapping.paid_statuses and paid and status.upper() not in mapping.paid_statuses:
            raise ValidationFailed(
                f"Line {n} ({ref}) pays {format_money(paid)} but its status is “{status}”."
            )
        out.append(
            RemittanceLine(
                n, ref, paid, claimed, status, row.get(mapping.error, "") if mapping.error else ""
            )
        )
    if not out:
        raise ValidationFailed("The remittance file has no lines.")
    return out


def match_remittance(
    lines: Sequence[RemittanceLine], claims_by_reference: Mapping[str, Sequence[str]]
) -> tuple[dict[int, str], list[str]]:
    """Match each line to exactly one claim by its reference. Returns (line → claim id, the
    problems: a line matching no claim or two claims). Several lines may pay one claim (an
    invoice with several support items); what they pay together is checked against the
    invoice by the caller."""
    matched: dict[int, str] = {}
    problems: list[str] = []
    for line in lines:
        ids = claims_by_reference.get(line.reference, ())
        if not ids:
            problems.append(f"Line {line.line}: no claim has the reference {line.reference}.")
        elif len(ids) > 1:
            problems.append(
                f"Line {line.line}: the reference {line.reference} matches {len(ids)} claims."
            )
        else:
            matched[line.line] = ids[0]
    return matched, problems
