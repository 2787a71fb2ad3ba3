"""When the periodic reports are due (Q §七): a quarterly report within 15 working days
of the quarter's end, an annual one within 30, on the business calendar. The service
publishes on the N-th working day after the period (N configurable within those
limits, so late revisits and surveys have settled), from 08:00 local time, and still
does so later if it was down then, until the standard's deadline has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from aftercare.business_calendar import BusinessCalendar

Cadence = Literal["quarterly", "annual"]
DEADLINES: dict[Cadence, int] = {"quarterly": 15, "annual": 30}
"""Q §七: the latest working day after the period a report may come out."""
PUBLISH_AT = time(8, 0)


@dataclass(frozen=True)
class DuePeriod:
    cadence: Cadence
    first_day: date
    end_day: date
    """The day after the period (exclusive end)."""


def last_completed(cadence: Cadence, today: date) -> DuePeriod:
    """The last quarter or year that has ended by ``today``."""
    if cadence == "annual":
        return DuePeriod(cadence, date(today.year - 1, 1, 1), date(today.year, 1, 1))
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    if quarter_start.month == 1:
        return DuePeriod(cadence, date(today.year - 1, 10, 1), quarter_start)
    return DuePeriod(cadence, quarter_start.replace(month=quarter_start.month - 3), quarter_start)


def nth_working_day_after(calendar: BusinessCalendar, last_day: date, n: int) -> date:
    day, counted = last_day, 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def due(
    cadence: Cadence, now: datetime, calendar: BusinessCalendar, after_working_days: int
) -> DuePeriod | None:
    """The period whose report is due at ``now``, if one is: from 08:00 of the N-th
    working day after it until the end of the standard's last working day."""
    period = last_completed(cadence, calendar.local_day(now))
    last_day = period.end_day - timedelta(days=1)
    publish_day = nth_working_day_after(calendar, last_day, after_working_days)
    opens = datetime.combine(publish_day, PUBLISH_AT, calendar.zone)
    closes = calendar.end_of_working_day_after(calendar.day_start(last_day), DEADLINES[cadence])
    return period if opens <= now < closes else None
