"""blobkeys: keys stored as 16-byte blobs instead of 36-character text (issue 21, item 2)

Every key column (a row's ``id`` and every reference to one: ``db.types.UUIDKey`` in the
models) is converted in place with ``UPDATE … SET col = key_blob(col)``, table by table and in
chunks of rows (progress is reported through ``config.attributes["progress"]``). The declared
column types stay ``VARCHAR(36)``: SQLite keeps a blob in a text-affinity column as it is. The
summaries the triggers keep (ledger and report) hold keys copied from those columns and are
converted the same way (their ``''`` for "none" stays text). Triggers and indexes of a table are
dropped while it is converted and made again exactly as they were (a trigger would otherwise
fire for every row; an index is rebuilt once instead of moved entry by entry).

Run with foreign keys off (``migrate.upgrade`` does); with them on, their checks are deferred to
the commit, which is right but slower. A value that is not a canonical UUID stops the upgrade
with its table and column named, the file as it was. The downgrade converts back to text.

Revision ID: 0400_blobkeys
Revises: 0390_inttimes
Create Date: 2026-12-07 12:40:00
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from frontdesk.db.types import NotAKeyError, key_blob, key_text

revision = "0400_blobkeys"
down_revision = "0390_inttimes"
branch_labels = None
depends_on = None

# The key columns as of this revision (a table or key added later is converted by its own).
KEYS: dict[str, tuple[str, ...]] = {
    'accounting_exports': ('exported_by_id', 'id'),
    'appointment_attendees': ('appointment_id', 'patient_id', 'id'),
    'appointment_holds': ('practitioner_id', 'appointment_type_id', 'room_id', 'id'),
    'appointment_series': ('id',),
    'appointment_status_changes': ('appointment_id', 'changed_by_id', 'id'),
    'appointment_types': ('default_service_id', 'id'),
    'appointments': ('practitioner_id', 'patient_id', 'appointment_type_id', 'location_id', 'room_id', 'series_id', 'booked_by_id', 'id'),
    'audit_events': ('id',),
    'catalogue_funder_prices': ('catalogue_item_id', 'funder_id', 'id'),
    'catalogue_items': ('id',),
    'claims': ('invoice_id', 'plan_id', 'payment_id', 'id'),
    'clinic_settings': ('id',),
    'credit_note_lines': ('credit_note_id', 'invoice_line_id', 'id'),
    'credit_notes': ('series_id', 'invoice_id', 'issued_by_id', 'id'),
    'day_close_counts': ('day_close_id', 'id'),
    'day_closes': ('closed_by_id', 'reopened_by_id', 'id'),
    'document_chunks': ('document_id', 'id'),
    'funders': ('id',),
    'funding_budgets': ('plan_id', 'id'),
    'funding_memberships': ('patient_id', 'funder_id', 'id'),
    'funding_plans': ('patient_id', 'funder_id', 'id'),
    'inbound_messages': ('patient_id', 'appointment_id', 'id'),
    'invoice_lines': ('invoice_id', 'appointment_id', 'catalogue_item_id', 'practitioner_id', 'id'),
    'invoices': ('series_id', 'patient_id', 'payer_funder_id', 'practitioner_id', 'location_id', 'issued_by_id', 'id'),
    'leave': ('practitioner_id', 'room_id', 'location_id', 'id'),
    'locations': ('id',),
    'message_preferences': ('patient_id', 'id'),
    'message_templates': ('appointment_type_id', 'id'),
    'messaging_settings': ('id',),
    'ndis_support_items': ('id',),
    'number_series': ('id',),
    'outgoing_messages': ('patient_id', 'appointment_id', 'template_id', 'attachment_id', 'id'),
    'patient_alerts': ('patient_id', 'id'),
    'patient_duplicates': ('patient_id', 'other_patient_id', 'id'),
    'patient_merges': ('survivor_id', 'merged_id', 'id'),
    'patients': ('default_payer_funder_id', 'merged_into_id', 'id'),
    'payment_allocations': ('payment_id', 'invoice_id', 'id'),
    'payments': ('patient_id', 'payer_funder_id', 'reverses_payment_id', 'taken_by_id', 'id'),
    'plan_documents': ('patient_id', 'plan_id', 'id'),
    'plan_sessions': ('plan_id', 'appointment_id', 'id'),
    'practitioners': ('default_location_id', 'default_room_id', 'id'),
    'provider_numbers': ('practitioner_id', 'funder_id', 'location_id', 'id'),
    'remittance_imports': ('funder_id', 'payment_id', 'id'),
    'rooms': ('location_id', 'id'),
    'roster_entries': ('practitioner_id', 'location_id', 'room_id', 'id'),
    'staff_users': ('practitioner_id', 'id'),
    'sync_conflicts': ('id',),
    'waitlist_entries': ('patient_id', 'appointment_type_id', 'booked_appointment_id', 'id'),
}
# Tables the triggers keep, holding keys copied from those columns (``''``: none).
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "ledger_summary_invoices": ("invoice_id", "debtor_id"),
    "ledger_summary_payments": ("payment_id", "debtor_id"),
    "ledger_summary_debtors": ("debtor_id",),
    "report_summary_revenue": ("practitioner_id", "payer_funder_id"),
    "report_summary_first_visits": ("patient_id", "practitioner_id"),
}
CHUNK = 50_000  # rows per UPDATE: progress between them


def upgrade() -> None:
    _convert(key_blob, bytes)


def downgrade() -> None:
    _convert(key_text, str)


def _convert(to: Callable[[Any], Any], kind: type) -> None:
    bind = op.get_bind()
    raw = bind.connection.driver_connection
    assert raw is not None
    failed: list[str] = []

    def convert(value: Any) -> Any:
        if value is None or isinstance(value, kind) or value == "":
            return value
        try:
            return to(value)
        except (NotAKeyError, TypeError, ValueError) as err:
            failed.append(str(err))
            raise

    raw.create_function("_blobkeys_convert", 1, convert, deterministic=True)
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        bind.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    report = context.config.attributes.get("progress") or (lambda _what, _f: None)
    have = set(sa.inspect(bind).get_table_names())
    work = {t: c for t, c in {**KEYS, **SUMMARY_KEYS}.items() if t in have}
    plain = {  # WITHOUT ROWID tables (a summary) are converted in one statement
        t for t, sql in bind.exec_driver_sql("SELECT name, sql FROM sqlite_master")
        if t in work and "WITHOUT ROWID" in str(sql).upper()
    }  # fmt: skip
    sizes = {
        t: int(bind.exec_driver_sql(
            f'SELECT {"count(*)" if t in plain else "max(rowid)"} FROM "{t}"').scalar() or 0)
        for t in work
    }  # fmt: skip
    total, done = max(1, sum(sizes.values())), 0
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
    ).all()
    for name, _sql in triggers:
        bind.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table, columns in work.items():
        indexes = bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        ).all()
        for name, _sql in indexes:
            bind.exec_driver_sql(f'DROP INDEX "{name}"')
        sets = ", ".join(f'"{c}" = _blobkeys_convert("{c}")' for c in columns)
        try:
            if table in plain:
                bind.exec_driver_sql(f'UPDATE "{table}" SET {sets}')
                done += sizes[table]
            for start in range(0, sizes[table] + 1, CHUNK) if table not in plain else ():
                bind.exec_driver_sql(
                    f'UPDATE "{table}" SET {sets} WHERE rowid > ? AND rowid <= ?',
                    (start, start + CHUNK),
                )
                done += min(CHUNK, sizes[table] - start)
                report("Converting keys", min(1.0, done / total))
        except sa.exc.OperationalError as err:
            if failed:
                raise NotAKeyError(f"{table}: {failed[0]}") from err
            raise
        for _name, sql in indexes:
            bind.exec_driver_sql(sql)
    for _name, sql in triggers:
        bind.exec_driver_sql(sql)
    report("Converting keys", 1.0)
