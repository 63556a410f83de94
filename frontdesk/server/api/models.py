"""Typed request and response bodies of the integration API (pydantic), with the examples the
published OpenAPI shows. Ids are strings; times are ISO 8601 with an offset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Id = str


class Page(BaseModel):
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= for the next page; null on the last page."
    )


class Location(BaseModel):
    id: Id
    name: str
    address: str
    phone: str
    updated_at: datetime


class LocationPage(Page):
    items: list[Location]


class Practitioner(BaseModel):
    id: Id
    display_name: str
    profession: str
    default_location_id: Id | None
    updated_at: datetime


class PractitionerPage(Page):
    items: list[Practitioner]


class AppointmentType(BaseModel):
    id: Id
    name: str
    duration_minutes: int
    profession: str
    online_bookable: bool = Field(description="Whether patients may book this type online.")
    practitioner_ids: list[Id] = Field(
        description="Who offers it; empty means every practitioner of the profession."
    )
    is_new_patient: bool
    updated_at: datetime


class AppointmentTypePage(Page):
    items: list[AppointmentType]


class Room(BaseModel):
    id: Id
    name: str
    location_id: Id
    bookable: bool
    updated_at: datetime


class RoomPage(Page):
    items: list[Room]


class Slot(BaseModel):
    practitioner_id: Id
    start: datetime = Field(examples=["2026-12-08T09:00:00+11:00"])
    end: datetime = Field(examples=["2026-12-08T09:30:00+11:00"])
    location_id: Id | None = None
    appointment_type_id: Id | None = None


class NextAvailable(BaseModel):
    practitioner_id: Id
    next: Slot | None


class AvailabilityQuery(BaseModel):
    """``GET /availability``'s query parameters, validated as one model: one pydantic pass a
    call, not one for each of eleven parameters (a good part of one server process's CPU an
    availability call). Each is still published as a query parameter of its own."""

    appointment_type_id: str | None = Field(None, max_length=36)
    profession: str | None = Field(None, max_length=80)
    practitioner_id: list[str] | None = Field(None, max_length=20)
    location_id: str | None = Field(None, max_length=36)
    weekdays: str | None = Field(None, max_length=40, examples=["mon,wed,fri"])
    earliest: str | None = Field(None, max_length=8, examples=["09:00"])
    latest: str | None = Field(None, max_length=8, examples=["13:00"])
    start: AwareDatetime | None = Field(None, alias="from")
    end: AwareDatetime | None = Field(None, alias="to")
    online_only: bool = False
    limit: int = Field(200, ge=1, le=2000)


class AvailabilityReply(BaseModel):
    slots: list[Slot]
    next_available: list[NextAvailable]
    truncated: bool = Field(description="True when more slots exist than `limit` allowed.")


class HoldRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "practitioner_id": "0193a5f0-1111-7000-8000-000000000001",
                    "appointment_type_id": "0193a5f0-2222-7000-8000-000000000002",
                    "start": "2026-12-08T09:00:00+11:00",
                    "minutes": 5,
                }
            ]
        }
    )
    practitioner_id: Id = Field(max_length=36)
    appointment_type_id: Id = Field(max_length=36)
    start: AwareDatetime
    minutes: int = Field(5, ge=1, le=15, description="How long to hold it (1–15 minutes).")


class Hold(BaseModel):
    id: Id
    practitioner_id: Id
    appointment_type_id: Id | None
    start: datetime
    end: datetime
    expires_at: datetime


class BookRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "0193a5f0-3333-7000-8000-000000000003",
                    "hold_id": "0193a5f0-4444-7000-8000-000000000004",
                    "notes": "Booked by phone",
                }
            ]
        }
    )
    patient_id: Id = Field(max_length=36)
    hold_id: Id | None = Field(None, max_length=36, description="Book the held slot.")
    practitioner_id: Id | None = Field(None, max_length=36)
    appointment_type_id: Id | None = Field(None, max_length=36)
    start: AwareDatetime | None = None
    notes: str = Field("", max_length=500)


class MoveRequest(BaseModel):
    start: AwareDatetime
    practitioner_id: Id | None = Field(None, max_length=36)


class CancelRequest(BaseModel):
    reason: Literal["feeling_better", "condition_worse", "sick", "away", "work", "other"] = Field(
        "other", description="The reasons the desks use."
    )
    note: str = Field("", max_length=500)


class Appointment(BaseModel):
    id: Id
    patient_id: Id | None
    practitioner_id: Id
    appointment_type_id: Id | None
    location_id: Id | None
    room_id: Id | None
    start: datetime
    end: datetime
    status: str
    cancellation_reason: str | None
    version: int
    updated_at: datetime


class PatientOut(BaseModel):
    id: Id
    patient_number: str
    first_name: str
    last_name: str
    preferred_name: str | None = None
    date_of_birth: date | None = None
    mobile_phone: str | None = None
    email: str | None = None
    updated_at: datetime


class PatientMatches(BaseModel):
    items: list[PatientOut]


class PatientCreate(BaseModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date | None = None
    mobile_phone: str = Field("", max_length=40)
    email: str = Field("", max_length=200)


class PatientCreated(BaseModel):
    created: bool = Field(description="False: a likely existing record is answered instead.")
    patient: PatientOut


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://example.com/frontdesk", "events": ["appointment.booked"]}]
        }
    )
    url: str = Field(max_length=500)
    events: list[str] = Field(min_length=1, max_length=20)


class Webhook(BaseModel):
    id: Id
    url: str
    events: list[str]
    created_at: datetime
    secret: str | None = Field(None, description="Signs the deliveries; shown only at creation.")


class WebhookList(BaseModel):
    items: list[Webhook]


class Delivery(BaseModel):
    id: Id
    event_id: str
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[Delivery]
