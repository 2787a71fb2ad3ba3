"""Who is on call (issue: on-call paging, schedules): rotations hand over at their local
wall-clock time, layers and overrides win in order, past and future alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from aftercare_sla.domain.oncall import OnCall, Override, Rotation, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def at(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int = 0,
    zone: ZoneInfo = SHANGHAI,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def who(schedule: Schedule, instant: datetime) -> OnCall:
    answer = schedule.on_call(instant)
    assert answer is not None, f"nobody on call at {instant}"
    return answer


WEEKLY = Rotation(
    every="weekly",
    handoff=time(9, 0),
    handoff_day="monday",
    time_zone="Asia/Shanghai",
    start=date(2026, 3, 1),  # a Sunday: the first shift begins Monday 2 March, 09:00
    participants=("li", "wang", "zhang"),
)


def test_a_weekly_rotation_hands_over_on_monday_at_nine_in_shanghai() -> None:
    schedule = Schedule(layers=(WEEKLY,))
    assert schedule.on_call(at(2026, 3, 2, 8, 59)) is None  # before the first hand-off
    first = who(schedule, at(2026, 3, 2, 9, 0))
    assert (first.person, first.since, first.until) == (
        "li",
        at(2026, 3, 2, 9, 0),
        at(2026, 3, 9, 9, 0),
    )
    assert who(schedule, at(2026, 3, 9, 8, 59, 59)).person == "li"
    assert who(schedule, at(2026, 3, 9, 9, 0)).person == "wang"
    assert who(schedule, at(2026, 3, 16, 9, 0)).person == "zhang"
    assert who(schedule, at(2026, 3, 23, 9, 0)).person == "li"
    # The same instant written in UTC (01:00Z is 09:00 in Shanghai) gives the same answer.
    utc = who(schedule, datetime(2026, 3, 9, 1, 0, tzinfo=UTC))
    assert utc.person == "wang"


def test_far_past_and_future_are_the_same_arithmetic() -> None:
    schedule = Schedule(layers=(WEEKLY,))
    weeks = 52 * 3 + 1  # three years and a week on: shift 157 is participant 157 % 3 = 1
    later = at(2026, 3, 2, 9, 0) + timedelta(weeks=weeks, hours=1)
    assert who(schedule, later).person == "wang"


def test_a_daily_rotation_follows_summer_time_in_its_own_zone() -> None:
    daily = Rotation(
        every="daily",
        handoff=time(8, 0),
        time_zone="Europe/Berlin",
        start=date(2026, 3, 28),
        participants=("anna", "ben"),
    )
    schedule = Schedule(layers=(daily,))
    # Clocks go forward on 29 March 2026: the hand-off stays at 08:00 local time,
    # 07:00 UTC before and 06:00 UTC after.
    assert who(schedule, datetime(2026, 3, 28, 7, 0, tzinfo=UTC)).person == "anna"
    before = who(schedule, datetime(2026, 3, 29, 5, 59, tzinfo=UTC))
    after = who(schedule, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    assert before.person == "anna"
    assert after.person == "ben"
    assert after.since == at(2026, 3, 29, 8, 0, zone=BERLIN)
    assert after.until - after.since == timedelta(hours=24)


def test_an_override_wins_over_the_rotation_for_its_range() -> None:
    cover = Override(
        person="zhao",
        start=at(2026, 4, 4, 0, 0),
        end=at(2026, 4, 7, 0, 0),
        reason="Qingming holiday cover",
    )
    schedule = Schedule(layers=(WEEKLY,), overrides=(cover,))
    plain = who(schedule, at(2026, 4, 3, 12, 0))  # the week from 30 March: shift 5
    assert plain.person == "wang"
    assert plain.until == cover.start  # the answer changes when the cover begins
    covered = who(schedule, at(2026, 4, 5, 3, 0))
    assert (covered.person, covered.source, covered.until) == ("zhao", "override", cover.end)
    assert who(schedule, at(2026, 4, 7, 0, 0)).person == "zhang"  # handed over on the 6th


def test_a_later_layer_replaces_the_earlier_from_its_first_hand_off() -> None:
    new_team = Rotation(
        every="daily",
        handoff=time(9, 0),
        start=date(2026, 5, 1),
        participants=("chen", "liu"),
    )
    schedule = Schedule(layers=(WEEKLY, new_team))
    old = who(schedule, at(2026, 4, 30, 10, 0))
    assert old.source == "layer 1"
    assert old.until == at(2026, 5, 1, 9, 0)
    new = who(schedule, at(2026, 5, 1, 9, 0))
    assert (new.person, new.source) == ("chen", "layer 2")
    assert who(schedule, at(2026, 5, 2, 9, 0)).person == "liu"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"time_zone": "Asia/Peking"}, "unknown time zone"),
        ({"participants": ()}, "at least 1"),
        ({"every": "hourly"}, "daily"),
        ({"handoff_day": "funday"}, "monday"),
    ],
)
def test_a_rotation_that_cannot_be_followed_is_refused(
    fields: dict[str, object], complaint: str
) -> None:
    document = {"every": "weekly", "start": "2026-03-01", "participants": ["li"]} | fields
    with pytest.raises(ValidationError, match=complaint):
        Rotation.model_validate(document)


def test_an_override_ends_after_it_starts_and_names_its_zone() -> None:
    with pytest.raises(ValidationError, match="ends after it starts"):
        Override(person="li", start=at(2026, 4, 7, 0, 0), end=at(2026, 4, 4, 0, 0))
    with pytest.raises(ValidationError, match="timezone"):
        Override.model_validate(
            {"person": "li", "start": "2026-04-04T00:00:00", "end": "2026-04-07T00:00:00"}
        )


def test_a_hand_off_in_the_hour_summer_time_skips_happens_after_the_jump() -> None:
    night = Rotation(
        every="daily",
        handoff=time(2, 30),
        time_zone="Europe/Berlin",
        start=date(2026, 3, 28),
        participants=("anna", "ben"),
    )
    shift = who(Schedule(layers=(night,)), datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    assert shift.person == "ben"
    assert shift.since == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert shift.until == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST
