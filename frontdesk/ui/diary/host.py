"""``DiaryHost``: the narrow face of the diary page that its menus, panels and dialogs use —
what is shown (day, slot, zone, the catalogue), the view and its controller, and a few
requests (tell the person, go to a day, open the booking dialog). The page implements it; the
helpers never import the page itself."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QWidget

from frontdesk.domain.diary_view import PractitionerInfo, RoomInfo, TypeInfo
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.layout import DiaryLayout

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext
    from frontdesk.ui.diary.controller import DiaryController
    from frontdesk.ui.diary.view import DiaryView


class DiaryHost(QWidget):
    ctx: ServiceContext
    bus: ChangeBus
    tz: ZoneInfo
    day: date
    slot: int
    practitioners: list[PractitionerInfo]
    types: list[TypeInfo]
    rooms: list[RoomInfo]
    controller: DiaryController
    view: DiaryView
    layout_: DiaryLayout | None

    def tell(self, text: str, level: str = "info") -> None:
        raise NotImplementedError

    def shown_ids(self) -> list[str]:
        raise NotImplementedError

    def go_to(self, day: date) -> None:
        raise NotImplementedError

    def open_booking(
        self, practitioner_id: str, start: datetime, minutes: int | None,
        patient_id: str | None = None, room_id: str | None = None,
    ) -> str | None:  # fmt: skip
        """Open the booking dialog there; the new appointment's id, or None if not booked."""
        raise NotImplementedError
