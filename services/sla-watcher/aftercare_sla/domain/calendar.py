"""Business time: how much of an interval counts toward a clock, and when a budget runs out.

Two clocks (docs/rules.md §3): ``24x7`` counts every second; ``working_days`` counts the
whole calendar days (00:00–24:00 local time) that are working days — weekends and public
holidays excluded, the officially adjusted working weekends (调休) included. Hours within
a day are not weighed: the standards promise 7×24 support and count working *days*.

"Within N working days" means **by the end (24:00) of the N-th working day after the day
the clock started**. The start day itself does not count, whatever the hour. This is how
Chinese law counts periods given in days (Civil Code art. 201: the first day is not
counted; art. 203: a period's last day ends at 24:00), so a request raised at 17:55 on
Friday is not penalised for the five minutes of Friday left, and a customer reading
"3 个工作日内" gets what they expect. A pause moves that deadline by the working time
spent paused — only by time that would have counted, so a wait on the start day gives
nothing back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from aftercare.business_calendar import DAY, BusinessCalendar


class Timekeeping(Protocol):
    """A clock's arithmetic: what counts, and when a given amount will have counted."""

    def counted(self, start: datetime, end: datetime) -> timedelta: ...

    def advance(self, start: datetime, amount: timedelta) -> datetime: ...

    def budget_from(self, start: datetime, budget: timedelta) -> timedelta:
        """The counted time a budget grants a clock started at ``start``."""
        ...

    def counts_from(self, start: datetime) -> datetime:
        """The first instant that counts for a clock started at ``start``."""
        ...


class AroundTheClock:
    """24×7: every second counts."""

    def counted(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        return start + amount

    def budget_from(self, start: datetime, budget: timedelta) -> timedelta:
        return budget

    def counts_from(self, start: datetime) -> datetime:
        return start


class WorkingDays:
    """The ``working_days`` clock: only time inside working days counts."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar

    def counted(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        day = self.calendar.local_day(start)
        while (day_start := self.calendar.day_start(day)) < end:
            if self.calendar.is_working_day(day):
                total += max(min(end, day_start + DAY) - max(start, day_start), timedelta(0))
            day += DAY
        return total

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        if amount <= timedelta(0):
            return start
        day = self.calendar.local_day(start)
        while True:
            day_start = self.calendar.day_start(day)
            if self.calendar.is_working_day(day):
                begin = max(start, day_start)
                available = day_start + DAY - begin
                if amount <= available:
                    return begin + amount
                amount -= available
            day += DAY

    def budget_from(self, start: datetime, budget: timedelta) -> timedelta:
        """N working days from ``start``: the counted time up to 24:00 of the N-th one after."""
        deadline = self.calendar.end_of_working_day_after(start, budget // DAY)
        return self.counted(self.counts_from(start), deadline)

    def counts_from(self, start: datetime) -> datetime:
        """00:00 of the day after the start day: the start day never counts (Civil Code
        art. 201), so neither does waiting on it."""
        return self.calendar.day_start(self.calendar.local_day(start) + DAY)
