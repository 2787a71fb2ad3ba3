"""The business calendar (mainland China, 调休) and "within N working days"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.china_calendar import china_calendar
from aftercare_sla.domain.calendar import WorkingDays

CST = ZoneInfo("Asia/Shanghai")
CALENDAR = china_calendar()

# The State Council's schedules for 2025 and 2026: days off, and weekends worked (调休).
DAYS_OFF = {
    "2025 Spring Festival": ("2025-01-28", "2025-02-04"),
    "2025 National Day": ("2025-10-01", "2025-10-08"),
    "2026 New Year": ("2026-01-01", "2026-01-03"),
    "2026 Spring Festival": ("2026-02-15", "2026-02-23"),
    "2026 Labour Day": ("2026-05-01", "2026-05-05"),
    "2026 National Day": ("2026-10-01", "2026-10-07"),
}
WORKED_WEEKENDS = [
    "2025-01-26",
    "2025-02-08",
    "2025-09-28",
    "2025-10-11",
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
]


@pytest.mark.parametrize("holiday", list(DAYS_OFF))
def test_every_day_of_a_holiday_week_is_off(holiday: str) -> None:
    first, last = (date.fromisoformat(text) for text in DAYS_OFF[holiday])
    day = first
    while day <= last:
        assert not CALENDAR.is_working_day(day), f"{holiday}: {day}"
        day += timedelta(days=1)
    assert (
        CALENDAR.is_working_day(last + timedelta(days=1))
        or (last + timedelta(days=1)).weekday() >= 5
    )


@pytest.mark.parametrize("day", WORKED_WEEKENDS)
def test_adjusted_weekends_are_working_days(day: str) -> None:
    assert date.fromisoformat(day).weekday() >= 5
    assert CALENDAR.is_working_day(date.fromisoformat(day))


def test_ordinary_weekends_and_weekdays() -> None:
    assert not CALENDAR.is_working_day(date(2026, 3, 7))  # Saturday
    assert CALENDAR.is_working_day(date(2026, 3, 9))  # Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        # The start day never counts; the last day ends at 24:00 (Civil Code art. 201, 203).
        ("2026-03-02 09:00", 3, "2026-03-06 00:00"),  # Mon → end of Thu
        ("2026-03-06 17:55", 3, "2026-03-12 00:00"),  # Fri evening → end of Wed
        ("2026-03-07 11:00", 1, "2026-03-10 00:00"),  # raised on Saturday → end of Monday
        # Spring Festival 2026: Sat 14 Feb is worked, 15–23 off, Sat 28 Feb worked.
        ("2026-02-13 17:55", 3, "2026-02-26 00:00"),
        ("2026-02-20 10:00", 7, "2026-03-04 00:00"),
        # National Day 2026: 1–7 Oct off, Sat 10 Oct worked.
        ("2026-09-30 10:00", 3, "2026-10-11 00:00"),
        # National Day 2025: 1–8 Oct off, Sat 11 Oct worked.
        ("2025-09-30 10:00", 2, "2025-10-11 00:00"),
    ],
)
def test_within_n_working_days(start: str, days: int, deadline: str) -> None:
    assert CALENDAR.end_of_working_day_after(at(start), days) == at(deadline)
    clock = WorkingDays(CALENDAR)
    budget = clock.budget_from(at(start), timedelta(days=days))
    assert clock.advance(clock.counts_from(at(start)), budget) == at(deadline)


def test_working_time_skips_weekends_and_holidays() -> None:
    clock = WorkingDays(CALENDAR)
    assert clock.counted(at("2026-03-06 12:00"), at("2026-03-09 12:00")) == timedelta(hours=24)
    assert clock.counted(at("2026-02-13 12:00"), at("2026-02-24 12:00")) == timedelta(days=2)
    assert clock.advance(at("2026-03-06 12:00"), timedelta(hours=18)) == at("2026-03-09 06:00")


def test_company_days_and_time_zone_are_configurable() -> None:
    company = china_calendar(
        company_holidays=[date(2026, 3, 3)], company_working_days=[date(2026, 3, 7)]
    )
    assert not company.is_working_day(date(2026, 3, 3))
    assert company.is_working_day(date(2026, 3, 7))
    utc = china_calendar(zone="UTC")
    # 2026-03-02 20:00 UTC is already Tuesday in Shanghai: the day boundaries follow the zone.
    start = datetime(2026, 3, 2, 20, tzinfo=ZoneInfo("UTC"))
    assert CALENDAR.end_of_working_day_after(start, 1) == at("2026-03-05 00:00")
    assert utc.end_of_working_day_after(start, 1) == datetime(2026, 3, 4, tzinfo=ZoneInfo("UTC"))
