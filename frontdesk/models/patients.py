"""Patient cards: demographics, contacts, funding memberships, alerts, consents."""

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.domain.vocab import FunderKind
from frontdesk.models.base import Base, SyncedMixin, one_of


class Patient(SyncedMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_name", "last_name", "first_name"),
        Index("ix_patients_dob", "date_of_birth"),
    )
    __sensitive__: ClassVar[frozenset[str]] = frozenset(
        {
            "first_name",
            "last_name",
            "date_of_birth",
            "medicare_number",
            "medicare_irn",
            "dva_number",
            "ndis_number",
        }
    )

    patient_number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str] = mapped_column(String(100), default="")
    pronouns: Mapped[str] = mapped_column(String(30), default="")
    date_of_birth: Mapped[date | None]
    sex: Mapped[str] = mapped_column(String(20), default="")
    mobile_phone: Mapped[str] = mapped_column(String(40), default="")
    home_phone: Mapped[str] = mapped_column(String(40), default="")
    work_phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    suburb: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(40), default="")
    postcode: Mapped[str] = mapped_column(String(12), default="")
    country: Mapped[str] = mapped_column(String(60), default="Australia")
    emergency_contact_name: Mapped[str] = mapped_column(String(200), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(String(40), default="")
    emergency_contact_relationship: Mapped[str] = mapped_column(String(60), default="")
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    referrer_provider_number: Mapped[str] = mapped_column(String(40), default="")
    referral_date: Mapped[date | None]
    gp_name: Mapped[str] = mapped_column(String(200), default="")
    gp_practice: Mapped[str] = mapped_column(String(200), default="")
    medicare_number: Mapped[str] = mapped_column(String(12), default="")
    medicare_irn: Mapped[str] = mapped_column(String(2), default="")
    medicare_expiry: Mapped[str] = mapped_column(String(7), default="")
    dva_number: Mapped[str] = mapped_column(String(20), default="")
    dva_card_colour: Mapped[str] = mapped_column(String(10), default="")
    ndis_number: Mapped[str] = mapped_column(String(20), default="")
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_at: Mapped[datetime | None]
    email_consent: Mapped[bool] = mapped_column(default=False)
    email_consent_at: Mapped[datetime | None]
    privacy_consent_at: Mapped[datetime | None]
    admin_notes: Mapped[str] = mapped_column(Text, default="")
    default_payer_funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    archived_at: Mapped[datetime | None]
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    last_seen_at: Mapped[datetime | None]


class FundingMembership(SyncedMixin, Base):
    """A patient's membership with a funder: health fund member number, NDIS plan, a claim…"""

    __tablename__ = "funding_memberships"
    __table_args__ = (one_of("kind", FunderKind),)
    __sensitive__: ClassVar[frozenset[str]] = frozenset({"member_number", "reference"})

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    kind: Mapped[str] = mapped_column(String(20))
    member_number: Mapped[str] = mapped_column(String(40), default="")
    reference: Mapped[str] = mapped_column(String(40), default="")
    claim_number: Mapped[str] = mapped_column(String(40), default="")
    plan_manager_name: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]


class PatientAlert(SyncedMixin, Base):
    """An alert shown on the card and on every appointment (allergy, falls risk, billing)."""

    __tablename__ = "patient_alerts"
    __sensitive__: ClassVar[frozenset[str]] = frozenset({"text"})

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(10), default="warning")
    archived_at: Mapped[datetime | None]


class PatientDuplicate(SyncedMixin, Base):
    """A possible duplicate found when a patient was created or imported, awaiting review.

    ``reason`` says why (same name and date of birth, same phone, same email); ``resolution``
    is "merged" or "not a duplicate" once a person has looked."""

    __tablename__ = "patient_duplicates"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    other_patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[str | None] = mapped_column(String(36))
    resolution: Mapped[str | None] = mapped_column(String(40))


class PatientMerge(SyncedMixin, Base):
    """One merge of a duplicate into a survivor, with what undo needs: the ids of every row
    moved (``moved_json``: table → ids) and the survivor's fields before it was filled in
    from the duplicate (``survivor_before_json``)."""

    __tablename__ = "patient_merges"

    survivor_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    merged_at: Mapped[datetime]
    merged_by_id: Mapped[str | None] = mapped_column(String(36))
    moved_json: Mapped[str] = mapped_column(Text)
    survivor_before_json: Mapped[str] = mapped_column(Text, default="{}")
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[str | None] = mapped_column(String(36))
