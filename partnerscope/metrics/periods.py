"""Months and quarters: the periods every metric value and score belongs to."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

MONTH, QUARTER = "month", "quarter"
KINDS = (MONTH, QUARTER)


def month_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, day.month, 1)


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def start_of(kind: str, day: datetime.date) -> datetime.date:
    return month_start(day) if kind == MONTH else quarter_start(day)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def next_start(kind: str, start: datetime.date) -> datetime.date:
    return add_months(start, 1 if kind == MONTH else 3)


def previous_start(kind: str, start: datetime.date) -> datetime.date:
    return add_months(start, -1 if kind == MONTH else -3)


def label(kind: str, start: datetime.date) -> str:
    if kind == MONTH:
        return start.strftime("%Y-%m")
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def parse(kind: str, text: str) -> datetime.date:
    """'2026-03' for a month, '2026-Q1' for a quarter; ValueError otherwise."""
    text = (text or "").strip()
    if kind == QUARTER:
        year, _, q = text.upper().partition("-Q")
        if not (year.isdigit() and q in ("1", "2", "3", "4")):
            raise ValueError(f"{text!r} is not a quarter like 2026-Q1")
        return datetime.date(int(year), 3 * (int(q) - 1) + 1, 1)
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a month like 2026-03") from None


def days_in(kind: str, start: datetime.date) -> int:
    return (next_start(kind, start) - start).days


def trailing(kind: str, start: datetime.date, count: int) -> list[datetime.date]:
    """The ``count`` periods ending with ``start``, oldest first."""
    out = [start]
    for _ in range(count - 1):
        out.append(previous_start(kind, out[-1]))
    return out[::-1]


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date

    @property
    def end(self) -> datetime.date:
        return next_start(self.kind, self.start)

    @property
    def label(self) -> str:
        return label(self.kind, self.start)
