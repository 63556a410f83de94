"""What a report is: a titled table of typed columns (money in integer cents), optional totals
and an optional chart drawn from the same numbers, for a period in the clinic's time zone.
The screen, the PDF, the CSV and the Excel file all take this one shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.money import format_money

# One palette for the screen's charts and the printed ones, so a practitioner keeps a colour.
PALETTE = (
    "#1d4e89", "#e07a2f", "#2e9d6a", "#c0392b", "#7b5ea7", "#1f9eb3", "#b58900", "#6c7a89",
    "#d35f8d", "#4c9f38", "#8e6c4f", "#3b6fb6",
)  # fmt: skip

Kind = Literal["text", "int", "money", "percent", "hours"]
ChartKind = Literal["stacked_bar", "bar", "grouped_bar", "line", "heatmap"]


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | int | None, ...]


def fold_series(series: tuple[Series, ...], keep: int = 7) -> tuple[Series, ...]:
    """The ``keep`` largest series (in their order) and the rest summed as "Others (n)": a
    stack of twenty practitioners repeats the palette's colours and its legend runs off the
    chart, on screen and on paper. The report's table still has every one."""
    if len(series) <= keep + 1:
        return series
    by_size = sorted(series, key=lambda s: -sum(v or 0 for v in s.values))
    kept = {id(s) for s in by_size[:keep]}
    rest = [s for s in series if id(s) not in kept]
    others = Series(
        f"Others ({len(rest)})",
        tuple(sum(v or 0 for v in vs) for vs in zip(*(s.values for s in rest), strict=True)),
    )
    return (*(s for s in series if id(s) in kept), others)


@dataclass(frozen=True)
class Chart:
    """Numbers to draw. ``categories`` run along the x axis; each series is one stack part, one
    bar of a group or one line. For a heat map each series is one row (``name`` its label) and
    the values are percentages, ``None`` where nothing was rostered."""

    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: Kind = "int"
    title: str = ""


def format_value(kind: Kind, value: Any, symbol: str = "$") -> str:
    if value is None:
        return ""
    if kind == "money":
        return format_money(int(value), symbol)
    if kind == "percent":
        return f"{value:.1f} %"
    if kind == "hours":
        return f"{value:,.1f}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


@dataclass(frozen=True)
class Report:
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    totals: tuple[Any, ...] | None = None
    charts: tuple[Chart, ...] = field(default=())
    note: str = ""

    def formatted(self, row: tuple[Any, ...], symbol: str = "$") -> list[str]:
        return [
            format_value(col.kind, value, symbol)
            for col, value in zip(self.columns, row, strict=True)
        ]


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationFailed("The end date is before the start date.", field="last")
        if (self.last - self.first).days > 366 * 20:
            raise ValidationFailed("Choose a period of at most 20 years.", field="first")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def a_year_earlier(self) -> Period:
        """The same stretch a year before: whole weeks keep their weekdays (364 days back),
        other periods keep their dates (29 February becomes the 28th)."""
        if self.days % 7 == 0 or self.days <= 2:
            return Period(self.first - timedelta(days=364), self.last - timedelta(days=364))
        return Period(_year_back(self.first), _year_back(self.last))

    def label(self, fmt: str = "%d/%m/%Y") -> str:
        if self.first == self.last:
            return self.first.strftime(fmt)
        return f"{self.first.strftime(fmt)} – {self.last.strftime(fmt)}"


def _year_back(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def with_totals(
    title: str, cols: tuple[Column, ...], rows: list[tuple[Any, ...]], **extra: Any
) -> Report:
    """A report whose last line adds up its count and money columns."""
    totals: list[Any] = ["Total"]
    for i, col in enumerate(cols[1:], start=1):
        totals.append(sum(r[i] or 0 for r in rows) if col.kind in ("int", "money") else None)
    return Report(title, cols, rows, tuple(totals), **extra)
