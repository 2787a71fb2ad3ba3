"""Business time's calendar: which days are working days in one time zone, and the end
of the N-th working day after a given day (Civil Code art. 201/203: the start day is not
counted, the last day ends at 24:00). Pure: the holiday source is given to it
(``aftercare.china_calendar`` reads China's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo

DAY = timedelta(days=1)


class BusinessCalendar:
    """Working days in one time zone; ``is_working_day`` comes from a holiday source."""

    def __init__(self, is_working_day: Callable[[date], bool], zone: tzinfo) -> None:
        self._is_working_day = is_working_day
        self.zone = zone

    def is_working_day(self, day: date) -> bool:
        return self._is_working_day(day)

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone)

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def end_of_working_day_after(self, start: datetime, working_days: int) -> datetime:
        """24:00 of the ``working_days``-th working day after the start day (see module doc)."""
        day, counted = self.local_day(start), 0
        while counted < working_days:
            day += DAY
            if self.is_working_day(day):
                counted += 1
        return self.day_start(day + DAY)
