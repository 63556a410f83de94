"""The store: one outbox row builder and its readers, the bulk writer (rows read back as the
ORM writes them), the one table order, and a catalogue line added to a draft without rewriting
the lines already on it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from billing_world import World, make_world
from sqlalchemy import select

from frontdesk.domain.errors import FrontdeskError
from frontdesk.models import Invoice, InvoiceLine, Patient, SyncOutbox
from frontdesk.services import billing
from frontdesk.services.patients import create_patient
from frontdesk.store import outbox
from frontdesk.store.bulk import BulkWriter, raw_connection, sqlite_value
from frontdesk.store.context import ServiceContext
from frontdesk.store.order import parents_first, table_rank


def test_sqlite_value_matches_what_the_orm_stores() -> None:
    # integer microseconds since 1970 (db/types.py, 0390_inttimes)
    assert sqlite_value(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == 1_772_407_800_000_000
    assert sqlite_value(date(2026, 3, 1)) == "2026-03-01"
    assert sqlite_value(True) == 1 and sqlite_value(False) == 0
    assert sqlite_value("x") == "x" and sqlite_value(None) is None


def test_parents_come_before_children() -> None:
    rank = table_rank()
    assert rank["patients"] < rank["appointments"] < rank["invoice_lines"]
    assert rank["invoices"] < rank["invoice_lines"]
    assert [t.name for t in parents_first()][: len(rank)] == sorted(rank, key=rank.__getitem__)


def test_a_local_change_is_one_pending_outbox_row(ctx: ServiceContext) -> None:
    with ctx.read() as s:
        before = outbox.pending_count(s)
    created = create_patient(ctx, {"first_name": "Ada", "last_name": "Ng"})
    with ctx.read() as s:
        rows = [r for r in outbox.pending(s, 1000) if r.row_id == created.patient_id]
        assert outbox.pending_count(s) > before
        assert outbox.pending_row_ids(s) >= {created.patient_id}
        mutation = outbox.as_mutation(rows[0])
    assert [r.entity for r in rows] == ["patients"]
    assert mutation.op == "insert" and mutation.base_version == 0
    assert mutation.fields["first_name"] == "Ada" and "created_at" in mutation.fields


def test_renumbering_keeps_the_order_of_waiting_changes(ctx: ServiceContext) -> None:
    for name in ("Ann", "Bo", "Cy"):
        create_patient(ctx, {"first_name": name, "last_name": "Lee"})
    with ctx.read() as s:
        order = [r.mutation_id for r in outbox.pending(s, 1000)]
    with ctx.write("renumber", origin="sync") as s:
        shift = outbox.renumber_pending(s, 500)
    with ctx.read() as s:
        rows = outbox.pending(s, 1000)
    assert shift != 0 and rows[0].seq == 500
    assert [r.mutation_id for r in rows] == order
    assert [r.seq for r in rows] == list(range(500, 500 + len(rows)))


def test_refusals_count_only_those_not_yet_read(ctx: ServiceContext) -> None:
    create_patient(ctx, {"first_name": "Ann", "last_name": "Lee"})
    with ctx.read() as s:
        first = outbox.pending(s, 1)[0]
    with ctx.write("answers", origin="sync") as s:
        answer = {"mutation_id": first.mutation_id, "status": "rejected", "reason": "no"}
        outbox.record_answers(s, [answer], ctx.clock.now())
    with ctx.read() as s:
        assert outbox.refusal_count(s, 0) == 1
        assert outbox.refusal_count(s, first.seq) == 0
        assert [r.seq for r in outbox.refusals(s, 0, 10)] == [first.seq]


def test_bulk_rows_read_back_like_orm_rows(ctx: ServiceContext) -> None:
    fields = {"first_name": "Orm", "last_name": "Row", "date_of_birth": date(1980, 2, 3)}
    orm = create_patient(ctx, fields)
    with ctx.write("bulk") as s:
        writer = BulkWriter(raw_connection(s), Patient.__table__, now=ctx.clock.now())  # type: ignore[arg-type]
        bulk_id = writer.add(
            first_name="Bulk", last_name="Row", date_of_birth=date(1980, 2, 3),
            patient_number="X-1",
        )  # fmt: skip
        writer.flush()
    with ctx.read() as s:
        a, b = s.get(Patient, orm.patient_id), s.get(Patient, bulk_id)
        assert a is not None and b is not None
        assert b.date_of_birth == a.date_of_birth and b.created_at == ctx.clock.now()
        assert b.archived_at is None and b.sms_consent == a.sms_consent
        outbox_rows = s.scalars(select(SyncOutbox).where(SyncOutbox.row_id == bulk_id)).all()
    assert outbox_rows == []  # the bulk writer alone writes no outbox: callers say what syncs


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def test_a_catalogue_line_is_added_without_rewriting_the_draft(
    ctx: ServiceContext, world: World
) -> None:
    invoice_id = billing.create_draft(ctx, billing.DraftHeader(world.patient), [])
    billing.add_catalogue_line(ctx, invoice_id, world.service)
    with ctx.read() as s:
        first = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)).one()
        first_id, first_version = first.id, first.version
    billing.add_catalogue_line(ctx, invoice_id, world.product)
    with ctx.read() as s:
        lines = s.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id, InvoiceLine.deleted_at.is_(None))
            .order_by(InvoiceLine.position)
        ).all()
        invoice = s.get(Invoice, invoice_id)
        assert invoice is not None
        assert lines[0].id == first_id and lines[0].version == first_version
        assert [ln.position for ln in lines] == [0, 1]
        assert invoice.total_cents == sum(ln.total_cents for ln in lines)
        assert invoice.tax_cents == sum(ln.tax_cents for ln in lines) > 0
    # The same as writing both lines at once.
    with ctx.read() as s:
        from frontdesk.services.billing.invoices import line_from_catalogue

        both = [line_from_catalogue(s, i, None) for i in (world.service, world.product)]
    other = billing.create_draft(ctx, billing.DraftHeader(world.patient), both)
    view, again = billing.invoice_view(ctx, invoice_id), billing.invoice_view(ctx, other)
    assert (view.total_cents, view.tax_cents) == (again.total_cents, again.tax_cents)


def test_a_catalogue_line_on_an_issued_invoice_is_refused(
    ctx: ServiceContext, world: World
) -> None:
    invoice_id = billing.create_draft(ctx, billing.DraftHeader(world.patient), [])
    billing.add_catalogue_line(ctx, invoice_id, world.service)
    billing.issue_invoice(ctx, invoice_id)
    before = billing.invoice_view(ctx, invoice_id)
    with pytest.raises(FrontdeskError):
        billing.add_catalogue_line(ctx, invoice_id, world.product)
    assert billing.invoice_view(ctx, invoice_id).lines == before.lines
