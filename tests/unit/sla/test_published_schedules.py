"""A year's official holiday schedule loaded from a file (the State Council publishes it
each November or December; the calendar library may not have it yet), and the watcher
saying so while a year's schedule is missing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from aftercare.china_calendar import (
    CalendarFileError,
    calendar_status,
    china_calendar,
    load_schedules,
    official_schedule_known,
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "calendar" / "2026.yaml"


def test_the_shipped_example_agrees_with_the_library_on_every_day_of_2026() -> None:
    [schedule] = load_schedules([EXAMPLE])
    from_file = china_calendar(schedules=[schedule])
    from_library = china_calendar()
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert from_file.is_working_day(day) == from_library.is_working_day(day), day
        day += timedelta(days=1)


def test_a_year_the_library_lacks_is_reported_until_its_schedule_is_loaded(
    tmp_path: Path,
) -> None:
    assert official_schedule_known(2026)
    assert not official_schedule_known(2031)
    status = calendar_status(date(2030, 12, 2))
    assert 2031 in status.missing_years
    detail = status.readiness()
    assert detail["status"] == "degraded"
    assert "2031" in str(detail["calendar"])

    notice = tmp_path / "2031.yaml"
    notice.write_text(
        "year: 2031\nsource: notice\ndays_off: [2031-01-01, 2031-01-02]\n"
        "working_days: [2031-01-04]\n",
        encoding="utf-8",
    )
    schedules = load_schedules([notice])
    assert 2031 not in calendar_status(date(2030, 12, 2), schedules).missing_years
    calendar = china_calendar(schedules=schedules)
    assert not calendar.is_working_day(date(2031, 1, 2))  # a Thursday off
    assert calendar.is_working_day(date(2031, 1, 4))  # a Saturday worked
    assert not calendar.is_working_day(date(2031, 1, 5))  # an ordinary Sunday
    assert calendar.is_working_day(date(2031, 1, 6))


def test_a_broken_schedule_file_is_refused_with_every_problem(tmp_path: Path) -> None:
    wrong_year = tmp_path / "a.yaml"
    wrong_year.write_text("year: 2031\nsource: x\ndays_off: [2030-12-31]\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    impossible = tmp_path / "b.yaml"
    impossible.write_text("year: 2031\nsource: x\ndays_off: [2031-02-30]\n", encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_schedules([wrong_year, missing, impossible])
    message = str(caught.value)
    assert "dates outside 2031" in message
    assert "missing.yaml" in message
    assert "b.yaml: not a date" in message


def test_the_coming_year_is_asked_for_only_once_its_notice_is_due() -> None:
    assert calendar_status(date(2030, 3, 2)).missing_years == (
        2030,
    ) or not official_schedule_known(2030)
    assert 2031 not in calendar_status(date(2030, 10, 31)).missing_years
    assert 2031 in calendar_status(date(2030, 11, 1)).missing_years
