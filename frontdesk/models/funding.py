"""Funded care: referrals and plans on a patient's card, NDIS budgets, the sessions booked
under a plan, the NDIA's support items, claims and imported remittances (issue 19).

Every table syncs. Money is integer cents. Counts of sessions are never stored: they are
counted from ``plan_sessions`` (and the appointments they point at), so sessions booked on
another desk count here as soon as they sync.
"""

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.domain.funding import ClaimStatus, NdisManagement, PlanKind
from frontdesk.models.base import Base, SyncedMixin, one_of


class FundingPlan(SyncedMixin, Base):
    """A referral, plan or approval: Medicare CDM, MHTP, DVA, WorkCover/CTP claim, NDIS plan."""

    __tablename__ = "funding_plans"
    __table_args__ = (
        one_of("kind", PlanKind),
        one_of("ndis_management", NdisManagement, nullable=True),
        CheckConstraint("approved_sessions IS NULL OR approved_sessions >= 0", name="sessions"),
        CheckConstraint("sessions_used_elsewhere >= 0", name="used_elsewhere"),
        Index("ix_funding_plans_patient", "patient_id", "kind"),
        Index("ix_funding_plans_expiry", "expires_on"),
    )
    __sensitive__: ClassVar[frozenset[str]] = frozenset(
        {"approved_sessions", "expires_on", "claim_number"}
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))
    funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))  # who pays
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    referrer_provider_number: Mapped[str] = mapped_column(String(20), default="")
    insurer_name: Mapped[str] = mapped_column(String(200), default="")
    claim_number: Mapped[str] = mapped_column(String(40), default="")
    case_manager: Mapped[str] = mapped_column(String(200), default="")
    approved_sessions: Mapped[int | None]
    # Services of this kind the patient had elsewhere (another clinic) this year / this plan.
    sessions_used_elsewhere: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    ndis_management: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str] = mapped_column(Text, default="")
    first_report_sent_at: Mapped[datetime | None]
    last_report_sent_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]


class FundingBudget(SyncedMixin, Base):
    """An NDIS plan's budget for one support category."""

    __tablename__ = "funding_budgets"
    __table_args__ = (CheckConstraint("budget_cents >= 0", name="budget_not_negative"),)

    plan_id: Mapped[str] = mapped_column(ForeignKey("funding_plans.id"), index=True)
    category: Mapped[str] = mapped_column(String(100))
    budget_cents: Mapped[int]


class PlanSession(SyncedMixin, Base):
    """An appointment booked under a plan (counts against it unless cancelled)."""

    __tablename__ = "plan_sessions"
    __table_args__ = (
        UniqueConstraint("appointment_id", name="uq_plan_sessions_appointment"),
        Index("ix_plan_sessions_plan", "plan_id", "deleted_at"),
    )

    plan_id: Mapped[str] = mapped_column(ForeignKey("funding_plans.id"))
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    budget_category: Mapped[str] = mapped_column(String(100), default="")
    price_cents: Mapped[int] = mapped_column(default=0)  # expected cost against the budget


class NdisSupportItem(SyncedMixin, Base):
    """One support item of the NDIA's price-limit catalogue (imported from its CSV)."""

    __tablename__ = "ndis_support_items"
    __table_args__ = (Index("ix_ndis_support_items_number", "number", "starts_on"),)

    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10), default="")
    category_number: Mapped[str] = mapped_column(String(10), default="")
    category_name: Mapped[str] = mapped_column(String(100), default="")
    quote: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    prices: Mapped[str] = mapped_column(Text, default="")  # "NSW=19399;Remote=27159;…"


class Claim(SyncedMixin, Base):
    """What a funder has been asked to pay for an invoice, and what came of it."""

    __tablename__ = "claims"
    __table_args__ = (
        one_of("status", ClaimStatus),
        UniqueConstraint("invoice_id", name="uq_claims_invoice"),
        CheckConstraint("status != 'rejected' OR rejection_reason != ''", name="rejected_reason"),
        Index("ix_claims_status", "status", "funder_kind"),
        Index("ix_claims_reference", "reference"),
    )

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("funding_plans.id"))
    funder_kind: Mapped[str] = mapped_column(String(20))  # the plan kind (ndis, dva, …)
    reference: Mapped[str] = mapped_column(String(50))  # the claim reference sent to the funder
    status: Mapped[str] = mapped_column(String(12), default=ClaimStatus.PREPARED)
    claimed_cents: Mapped[int]
    paid_cents: Mapped[int] = mapped_column(default=0)
    gap_cents: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    rejection_reason: Mapped[str] = mapped_column(String(300), default="")
    terminal_reference: Mapped[str] = mapped_column(String(60), default="")
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"))


class RemittanceImport(SyncedMixin, Base):
    """A funder's remittance file that was imported, and the payment it became."""

    __tablename__ = "remittance_imports"

    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    lines: Mapped[int]
    paid_cents: Mapped[int]
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"))
    imported_at: Mapped[datetime]


class PlanDocument(SyncedMixin, Base):
    """A scanned referral or approval (PDF, JPEG, PNG) kept with the patient, optionally on one
    of their plans. Its bytes are in ``document_chunks``: a synced change carries at most
    ``protocol.MAX_FIELDS_BYTES``, so the file syncs in pieces; ``sha256`` proves the pieces
    put back together are the file that was attached."""

    __tablename__ = "plan_documents"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        Index("ix_plan_documents_patient", "patient_id"),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("funding_plans.id"))
    file_name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    chunk_count: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")
    # "referral" (a scan on the card) or "sent" (a copy of a PDF emailed from the clinic,
    # e.g. an invoice to a plan manager: the email's attachment, kept as it was sent).
    kind: Mapped[str] = mapped_column(String(20), default="referral")


class DocumentChunk(SyncedMixin, Base):
    """One piece of a document's bytes (``seq`` from 0)."""

    __tablename__ = "document_chunks"
    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_document_chunks_seq"),)
    __audited__: ClassVar[bool] = False  # the document row is audited; its bytes are not

    document_id: Mapped[str] = mapped_column(ForeignKey("plan_documents.id"))
    seq: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
