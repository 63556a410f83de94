"""The audit trail in a manager's words (issue 14 item 9)."""

from __future__ import annotations

from frontdesk.store.context import ServiceContext
from frontdesk.ui.audit import readable_field, readable_value


def test_field_names_and_amounts_read_as_words(ctx: ServiceContext) -> None:
    assert readable_field("counted_cents") == "Counted"
    assert readable_field("deleted_at") == "Removed"
    assert readable_field("practitioner_id") == "Practitioner"
    assert readable_field("mobile_phone") == "Mobile phone"
    assert readable_value(9550, ctx, "counted_cents") == "$95.50"
    assert readable_value(9550, ctx, "quantity") == "9550"
