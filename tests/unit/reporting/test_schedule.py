"""When the periodic reports come out (Q §七), on a calendar with two known holidays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aftercare.business_calendar import BusinessCalendar
from aftercare_reporting.domain.schedule import due, last_completed, nth_working_day_after

CST = ZoneInfo("Asia/Shanghai")
HOLIDAYS = {date(2026, 4, 6), date(2027, 1, 1)}
CALENDAR = BusinessCalendar(lambda d: d.weekday() < 5 and d not in HOLIDAYS, CST)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


def test_the_last_completed_period() -> None:
    assert last_completed("quarterly", date(2026, 1, 5)).first_day == date(2025, 10, 1)
    assert last_completed("quarterly", date(2026, 5, 5)).first_day == date(2026, 1, 1)
    assert last_completed("quarterly", date(2026, 5, 5)).end_day == date(2026, 4, 1)
    assert last_completed("annual", date(2026, 5, 5)).first_day == date(2025, 1, 1)


def test_a_quarterly_report_on_the_fifth_working_day_until_the_fifteenth() -> None:
    # After Tuesday 31 March 2026: 1, 2, 3, (4–5 weekend, 6 holiday) 7, 8 → the fifth is 8 April.
    assert nth_working_day_after(CALENDAR, date(2026, 3, 31), 5) == date(2026, 4, 8)
    assert due("quarterly", at(2026, 4, 8, 7, 59), CALENDAR, 5) is None
    period = due("quarterly", at(2026, 4, 8, 8, 0), CALENDAR, 5)
    assert period is not None
    assert (period.first_day, period.end_day) == (date(2026, 1, 1), date(2026, 4, 1))
    # The fifteenth working day is 22 April: still due until its end, not after.
    assert nth_working_day_after(CALENDAR, date(2026, 3, 31), 15) == date(2026, 4, 22)
    assert due("quarterly", at(2026, 4, 22, 23, 59), CALENDAR, 5) is not None
    assert due("quarterly", at(2026, 4, 23, 0, 0), CALENDAR, 5) is None


def test_an_annual_report_skips_new_year_s_day() -> None:
    # After 31 December 2026: (1 January holiday, 2–3 weekend) 4 … the first is 4 January.
    assert nth_working_day_after(CALENDAR, date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert due("annual", at(2027, 1, 4, 8, 0), CALENDAR, 1) is not None
    assert due("annual", at(2027, 1, 1, 12, 0), CALENDAR, 1) is None
