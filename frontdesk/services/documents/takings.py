"""The end-of-day printout: one desk's takings for a business day by payment method, what was
counted, the variance, the note, and when the day was closed."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from frontdesk.services.billing.day_close import Takings
from frontdesk.services.billing.payments import METHOD_LABELS, MONEY_METHODS
from frontdesk.services.billing.views import ClinicInfo
from frontdesk.services.documents.layout import WIDTH, build, day, grid, header, money, p, totals


def render_takings(t: Takings, clinic: ClinicInfo, tz: ZoneInfo, desk_name: str = "") -> bytes:
    c = clinic
    closed = f"closed at {t.closed_at.astimezone(tz):%H:%M}" if t.closed_at is not None else "open"
    facts = [("Business day", day(t.day, c)), ("Desk", desk_name or t.device_id[-6:]),
             ("The day is", closed)]  # fmt: skip
    story: list[Any] = [header(c, "Takings", facts), Spacer(1, 6 * mm)]
    head = ["Method", "Takings", "Counted", "Variance"]
    widths = [0.0, 32 * mm, 32 * mm, 32 * mm]
    widths[0] = WIDTH - sum(widths)
    rows: list[list[Any]] = []
    for m in MONEY_METHODS:
        taken, counted = t.by_method.get(m, 0), t.counted.get(m, 0)
        if taken or counted:
            rows.append([METHOD_LABELS[m], money(taken, c), money(counted, c),
                         money(counted - taken, c)])  # fmt: skip
    if not rows:
        rows.append(["No payments or refunds", money(0, c), money(0, c), money(0, c)])
    story += [grid(head, rows, widths, right_from=1), Spacer(1, 4 * mm)]
    story.append(totals([
        ("Takings", money(t.expected_cents, c), False),
        ("Counted", money(t.counted_cents, c), False),
        ("Variance", money(t.variance_cents, c), True),
    ]))  # fmt: skip
    story += [Spacer(1, 4 * mm), p(f"{t.entries} payments and refunds on this desk.", "small")]
    if t.note:
        story += [Spacer(1, 3 * mm), p("Note", "label"), p(t.note, "small")]
    return build(story, f"Takings {t.day.isoformat()}", c.legal_name or c.name)
