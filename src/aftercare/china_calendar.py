"""Working days in China, for every part that counts them (the SLA watcher's clocks, the
reporting service's schedule): statutory holidays and the officially adjusted working
weekends (调休) from the ``holidays`` library, or from a published schedule loaded for
its year (the State Council's notice, deploy/calendar/), plus the company's own days off
and on. ``BusinessCalendar`` itself is pure; the sources are read here once.

``holidays`` (python-holidays) was chosen over ``chinese-calendar``: both give the same
answers for 2025–2026 (tests check the Spring Festival and National Day weeks and the
adjusted working weekends), but ``holidays`` is released monthly by a large team, and
for a year whose 调休 schedule is not yet published it still knows the statutory
holidays, where ``chinese-calendar`` raises for any year beyond its table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from holidays import country_holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aftercare.business_calendar import BusinessCalendar


class PublishedSchedule(BaseModel):
    """One year's holiday schedule as the State Council publishes it each November or
    December (国务院办公厅关于…部分节假日安排的通知): the days off and the weekend days
    worked (调休). An operator loads it from a file before the library has it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=1, max_length=500)
    days_off: list[date] = Field(max_length=60)
    working_days: list[date] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _in_its_year(self) -> PublishedSchedule:
        stray = [d for d in (*self.days_off, *self.working_days) if d.year != self.year]
        if stray:
            raise ValueError(f"dates outside {self.year}: {', '.join(map(str, stray))}")
        return self


class CalendarFileError(ValueError):
    pass


def load_schedules(paths: Sequence[Path]) -> list[PublishedSchedule]:
    """The schedules in ``paths`` (YAML), each checked; every problem named at once."""
    schedules, problems = [], []
    for path in paths:
        try:
            schedules.append(PublishedSchedule.model_validate(yaml.safe_load(path.read_text())))
        except (OSError, yaml.YAMLError, ValidationError) as error:
            problems.append(f"{path}: {error}")
        except ValueError as error:  # YAML's own dates: 2027-02-30 fails while parsing
            problems.append(f"{path}: not a date: {error}")
    if problems:
        raise CalendarFileError("; ".join(problems))
    return schedules


def official_schedule_known(year: int, schedules: Sequence[PublishedSchedule] = ()) -> bool:
    """Whether the year's 调休 schedule is known: loaded from a file, or in the library
    (every published schedule so far has moved at least one weekend day)."""
    if any(schedule.year == year for schedule in schedules):
        return True
    official = country_holidays("CN", years=year)
    return any(day.year == year for day in getattr(official, "weekend_workdays", ()))


@dataclass(frozen=True)
class CalendarStatus:
    missing_years: tuple[int, ...]

    def readiness(self) -> dict[str, object]:
        """The ``/readyz`` detail: degraded while a year's schedule is missing."""
        if not self.missing_years:
            return {}
        years = ", ".join(map(str, self.missing_years))
        return {
            "status": "degraded",
            "calendar": f"no official holiday schedule for {years}",
            "action": "load the State Council's notice with AFTERCARE_SLA_CALENDAR_FILES",
        }


def calendar_status(today: date, schedules: Sequence[PublishedSchedule] = ()) -> CalendarStatus:
    """This year's schedule, and from 1 November (the notices come in November or
    December) the coming year's: working-day deadlines soon reach into it."""
    years = (today.year, today.year + 1) if today.month >= 11 else (today.year,)
    return CalendarStatus(tuple(y for y in years if not official_schedule_known(y, schedules)))


def china_calendar(
    zone: str = "Asia/Shanghai",
    company_holidays: Iterable[date] = (),
    company_working_days: Iterable[date] = (),
    schedules: Sequence[PublishedSchedule] = (),
) -> BusinessCalendar:
    """Statutory holidays and 调休 working weekends (from the library, or from a published
    schedule loaded for its year), plus the company's own days off and on."""
    published_years = {schedule.year for schedule in schedules}
    days_off = frozenset(company_holidays) | {d for s in schedules for d in s.days_off}
    days_on = frozenset(company_working_days) | {d for s in schedules for d in s.working_days}
    official = country_holidays("CN")

    @lru_cache(maxsize=4096)
    def is_working_day(day: date) -> bool:
        if day in days_on:
            return True
        if day in days_off:
            return False
        if day.year in published_years:  # the notice lists every day off of its year
            return day.weekday() < 5
        return bool(official.is_working_day(day))

    return BusinessCalendar(is_working_day, ZoneInfo(zone))
