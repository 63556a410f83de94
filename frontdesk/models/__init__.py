"""SQLAlchemy 2.0 mapped classes for the whole product, on one MetaData.

Importing this package registers every table, which Alembic and the tests rely on.
"""

from frontdesk.models.base import Base, SyncedMixin, synced_tables
from frontdesk.models.billing import (
    CatalogueFunderPrice,
    CatalogueItem,
    CreditNote,
    CreditNoteLine,
    DayClose,
    DayCloseCount,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from frontdesk.models.clinic import (
    ClinicSettings,
    Funder,
    Leave,
    Location,
    Practitioner,
    ProviderNumber,
    Room,
    RosterEntry,
)
from frontdesk.models.diary import (
    Appointment,
    AppointmentAttendee,
    AppointmentSeries,
    AppointmentStatusChange,
    AppointmentType,
    WaitlistEntry,
)
from frontdesk.models.patients import (
    FundingMembership,
    Patient,
    PatientAlert,
    PatientDuplicate,
    PatientMerge,
)
from frontdesk.models.reports import AccountingExport
from frontdesk.models.system import (
    AuditAnchor,
    AuditEvent,
    MessageTemplate,
    NumberSeries,
    OutgoingMessage,
    StaffUser,
    SyncConflict,
    SyncOutbox,
    SyncState,
)

__all__ = [
    "AccountingExport",
    "Appointment",
    "AppointmentAttendee",
    "AppointmentSeries",
    "AppointmentStatusChange",
    "AppointmentType",
    "AuditAnchor",
    "AuditEvent",
    "Base",
    "CatalogueFunderPrice",
    "CatalogueItem",
    "ClinicSettings",
    "CreditNote",
    "CreditNoteLine",
    "DayClose",
    "DayCloseCount",
    "Funder",
    "FundingMembership",
    "Invoice",
    "InvoiceLine",
    "Leave",
    "Location",
    "MessageTemplate",
    "NumberSeries",
    "OutgoingMessage",
    "Patient",
    "PatientAlert",
    "PatientDuplicate",
    "PatientMerge",
    "Payment",
    "PaymentAllocation",
    "Practitioner",
    "ProviderNumber",
    "Room",
    "RosterEntry",
    "StaffUser",
    "SyncConflict",
    "SyncOutbox",
    "SyncState",
    "SyncedMixin",
    "WaitlistEntry",
    "synced_tables",
]
