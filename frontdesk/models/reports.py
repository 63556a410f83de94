"""Reports' own records: which periods went to the accounting program, so none goes twice."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, SyncedMixin


class AccountingExport(SyncedMixin, Base):
    """One export of invoices, credit notes and payments for a period to Xero or MYOB.

    It syncs, so a second desk sees that the period has gone and refuses to send it again
    (unless a person re-exports on purpose, which is recorded as another row)."""

    __tablename__ = "accounting_exports"
    __table_args__ = (
        CheckConstraint("system IN ('xero', 'myob')", name="system_valid"),
        CheckConstraint("first_day <= last_day", name="first_before_last"),
        Index("ix_accounting_exports_system_first", "system", "first_day"),
    )

    system: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[date]
    last_day: Mapped[date]
    exported_at: Mapped[datetime]
    exported_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    invoices: Mapped[int] = mapped_column(default=0)
    credit_notes: Mapped[int] = mapped_column(default=0)
    payments: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(260), default="")
    repeat_of_id: Mapped[str | None] = mapped_column(String(36))
