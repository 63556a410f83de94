"""The clinic's fixed vocabularies: statuses, reasons, methods, roles. Stored as their values."""

from __future__ import annotations

from enum import StrEnum


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    IN_SESSION = "in_session"
    COMPLETED = "completed"
    DID_NOT_ARRIVE = "did_not_arrive"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.ARRIVED: "Arrived",
    AppointmentStatus.IN_SESSION: "In session",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.DID_NOT_ARRIVE: "Did not arrive",
    AppointmentStatus.CANCELLED: "Cancelled",
}


class CancellationReason(StrEnum):
    FEELING_BETTER = "feeling_better"
    CONDITION_WORSE = "condition_worse"
    SICK = "sick"
    AWAY = "away"
    WORK = "work"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class OverlapPolicy(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


class RosterKind(StrEnum):
    WORK = "work"
    BREAK = "break"


class LeaveKind(StrEnum):
    LEAVE = "leave"
    UNAVAILABLE = "unavailable"
    MEETING = "meeting"


class FunderKind(StrEnum):
    HEALTH_FUND = "health_fund"
    INSURER = "insurer"
    NDIS_PLAN_MANAGER = "ndis_plan_manager"
    WORKERS_COMP = "workers_comp"
    MEDICARE = "medicare"
    DVA = "dva"
    OTHER = "other"


class CatalogueKind(StrEnum):
    SERVICE = "service"
    PRODUCT = "product"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


class PaymentMethod(StrEnum):
    CASH = "cash"
    EFTPOS = "eftpos"
    CREDIT_CARD = "credit_card"
    BANK_TRANSFER = "bank_transfer"
    HEALTH_FUND_TERMINAL = "health_fund_terminal"
    ACCOUNT_CREDIT = "account_credit"
    OTHER = "other"


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    REVERSAL = "reversal"


class Role(StrEnum):
    RECEPTION = "reception"
    PRACTITIONER = "practitioner"
    PRACTICE_MANAGER = "practice_manager"
    OWNER = "owner"


class SeriesKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PATIENT = "patient"
    RECEIPT = "receipt"


class MessageChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)
