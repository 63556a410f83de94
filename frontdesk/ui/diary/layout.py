"""Where things go on the diary scene: columns (a practitioner on a day) and local minutes.

Scene x = column index × column width; scene y = (local minute − first minute) × pixels per
minute. The header and the time gutter are separate widgets, so the scene holds only the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from frontdesk.domain.diary import MINUTES_PER_DAY, local_instant, local_minute
from frontdesk.domain.diary_view import DiaryData, RoomInfo

PX_PER_MINUTE = {5: 3.2, 10: 2.0, 15: 1.6, 30: 1.0}
MIN_COLUMN = 112.0
HEADER_HEIGHT = 44
GUTTER_WIDTH = 58


@dataclass(frozen=True)
class Column:
    practitioner_id: str
    day: date
    title: str
    subtitle: str
    colour: str
    room_id: str | None = None  # a room column ("" = appointments without a room)

    @property
    def is_room(self) -> bool:
        return self.room_id is not None


@dataclass
class DiaryLayout:
    columns: list[Column]
    tz: ZoneInfo
    slot: int = 15
    first_minute: int = 7 * 60
    last_minute: int = 19 * 60
    column_width: float = 180.0

    @property
    def px_per_minute(self) -> float:
        return PX_PER_MINUTE[self.slot]

    @property
    def width(self) -> float:
        return self.column_width * len(self.columns)

    @property
    def height(self) -> float:
        return (self.last_minute - self.first_minute) * self.px_per_minute

    def fit(self, viewport_width: int) -> None:
        n = max(1, len(self.columns))
        self.column_width = max(MIN_COLUMN, (viewport_width - 1) / n)

    def x_of(self, column: int) -> float:
        return column * self.column_width

    def column_at(self, x: float) -> int | None:
        if not self.columns:
            return None
        index = int(x // self.column_width)
        return max(0, min(len(self.columns) - 1, index))

    def y_of(self, minute: float) -> float:
        return (minute - self.first_minute) * self.px_per_minute

    def minute_at(self, y: float) -> float:
        return self.first_minute + y / self.px_per_minute

    def index_of(self, practitioner_id: str, day: date) -> int | None:
        for i, col in enumerate(self.columns):
            if col.practitioner_id == practitioner_id and col.day == day:
                return i
        return None

    @property
    def by_room(self) -> bool:
        return bool(self.columns) and self.columns[0].is_room

    def column_of(self, practitioner_id: str, room_id: str | None, day: date) -> int | None:
        """The column an appointment belongs in: its practitioner's, or its room's."""
        if not self.by_room:
            return self.index_of(practitioner_id, day)
        for i, col in enumerate(self.columns):
            if col.room_id == (room_id or "") and col.day == day:
                return i
        return None

    def instant(self, column: int, minute: int) -> datetime:
        return local_instant(self.columns[column].day, minute, self.tz)

    def place(
        self, practitioner_id: str, start: datetime, end: datetime, room_id: str | None = None
    ) -> tuple[int, float, float] | None:
        """(column, top y, bottom y) of a span in its column, or None if it is not shown."""
        day, minute = local_minute(start, self.tz)
        column = self.column_of(practitioner_id, room_id, day)
        if column is None:
            return None
        length = (end - start).total_seconds() / 60
        end_minute = min(MINUTES_PER_DAY, minute + length)
        return column, self.y_of(minute), self.y_of(end_minute)

    def clamp_minute(self, minute: int, length: int = 0) -> int:
        return max(self.first_minute, min(self.last_minute - length, minute))


def working_days(data: DiaryData, days: list[date], tz: ZoneInfo) -> list[date]:
    """The days of a week worth a column: weekdays, and weekend days someone works or has a
    booking on."""
    keep = []
    for day in days:
        rostered = any(a.work for (_pid, d), a in data.availability.items() if d == day)
        booked = any(a.starts_at.astimezone(tz).date() == day for a in data.appointments)
        if rostered or booked or day.weekday() < 5:
            keep.append(day)
    return keep


def layout_for(
    data: DiaryData,
    days: list[date],
    *,
    rooms: Sequence[RoomInfo] | None,
    mode: str,
    tz: ZoneInfo,
    slot: int,
) -> DiaryLayout:
    """Columns (a practitioner a day, or a room a column when ``rooms`` is given) and the hours
    to show: rostered and booked times, at least 08:00–18:00, half an hour either side."""
    columns = []
    if rooms is not None:
        for r in rooms:
            columns.append(Column("", days[0], r.name, "Room", "#94a3b8", r.id))
        columns.append(Column("", days[0], "No room", "Not in a room", "#cbd5e1", ""))
        days = []  # no practitioner columns
    for day in days:
        for p in data.practitioners:
            avail = data.availability.get((p.id, day))
            note = ""
            if avail is not None and avail.leave:
                note = f" · {avail.leave[0].label or 'Leave'}"
            elif avail is not None and not avail.work:
                note = " · not rostered"
            if mode == "day":
                columns.append(Column(p.id, day, p.name, p.profession + note, p.colour))
            else:
                columns.append(Column(p.id, day, f"{day:%a %d %b}", p.name + note, p.colour))
    starts = [r.start_minute for rules in data.rules.values() for r in rules]
    ends = [r.end_minute for rules in data.rules.values() for r in rules]
    for a in data.appointments:
        local_s, local_e = a.starts_at.astimezone(tz), a.ends_at.astimezone(tz)
        starts.append(local_s.hour * 60 + local_s.minute)
        ends.append(
            local_e.hour * 60 + local_e.minute if local_e.date() == local_s.date() else 1440
        )
    first = min([*starts, 8 * 60]) - 30
    last = max([*ends, 18 * 60]) + 30
    first, last = max(0, first - first % 60), min(1440, last + (-last) % 60)
    return DiaryLayout(columns, tz, slot, first, last)
