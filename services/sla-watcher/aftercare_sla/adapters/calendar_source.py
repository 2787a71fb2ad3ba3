"""The mainland-China business calendar from the ``holidays`` library.

``holidays`` (python-holidays) was chosen over ``chinese-calendar``: both give the same
answers for 2025–2026 (tests check the Spring Festival and National Day weeks and the
adjusted working weekends), but ``holidays`` is released monthly by a large team, and
for a year whose 调休 schedule is not yet published it still knows the statutory
holidays, where ``chinese-calendar`` raises for any year beyond its table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from holidays import country_holidays

from aftercare_sla.domain.calendar import BusinessCalendar


def china_calendar(
    zone: str = "Asia/Shanghai",
    company_holidays: Iterable[date] = (),
    company_working_days: Iterable[date] = (),
) -> BusinessCalendar:
    """Statutory holidays and 调休 working weekends, plus the company's own days off/on."""
    days_off = frozenset(company_holidays)
    days_on = frozenset(company_working_days)
    official = country_holidays("CN")

    @lru_cache(maxsize=4096)
    def is_working_day(day: date) -> bool:
        if day in days_on:
            return True
        if day in days_off:
            return False
        return bool(official.is_working_day(day))

    return BusinessCalendar(is_working_day, ZoneInfo(zone))
