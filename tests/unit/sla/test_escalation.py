"""Escalation chains (issue: on-call paging, policies): the plan of an unacknowledged
alert, whom each step reaches, and a policy whose names point nowhere refused in full."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from aftercare_sla.domain.escalation import EscalationPolicy, OnCallPolicy, PageLimit, reached
from aftercare_sla.domain.oncall import Rotation, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRIGGERED = datetime(2026, 3, 3, 2, 0, tzinfo=SHANGHAI)

TWO_LEVELS = {
    "levels": [
        {"notify": [{"schedule": "engineers"}, {"channels": True}], "wait": "10m"},
        {"notify": [{"person": "lead"}], "wait": "20m"},
    ],
    "repeat": 1,
    "acknowledgement_timeout": "1h",
}
ENGINEERS = Schedule(
    layers=(
        Rotation(
            every="weekly", start=date(2026, 3, 2), handoff=time(9), participants=("li", "wang")
        ),
    )
)


def test_an_unacknowledged_alert_climbs_the_chain_then_repeats_it_once() -> None:
    policy = EscalationPolicy.model_validate(TWO_LEVELS)
    plan = [(s.round, s.level, s.at - TRIGGERED) for s in policy.steps(TRIGGERED)]
    assert plan == [
        (0, 0, timedelta(0)),
        (0, 1, timedelta(minutes=10)),
        (1, 0, timedelta(minutes=30)),
        (1, 1, timedelta(minutes=40)),
    ]
    assert policy.next_step(TRIGGERED, 3) == policy.steps(TRIGGERED)[3]
    assert policy.next_step(TRIGGERED, 4) is None  # spent: nobody is paged for ever
    assert policy.acknowledgement_timeout == timedelta(hours=1)


def test_a_level_reaches_whoever_is_on_call_at_that_moment() -> None:
    policy = EscalationPolicy.model_validate(TWO_LEVELS)
    first = reached(policy.levels[0], TRIGGERED, {"engineers": ENGINEERS})
    assert first.people == ("li",)
    assert first.channels
    next_week = reached(policy.levels[0], TRIGGERED + timedelta(weeks=1), {"engineers": ENGINEERS})
    assert next_week.people == ("wang",)
    before_any_shift = reached(
        policy.levels[0], datetime(2026, 3, 1, tzinfo=SHANGHAI), {"engineers": ENGINEERS}
    )
    assert before_any_shift.people == ()  # the channels still are paged
    assert before_any_shift.channels


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"repeat": 6}, "less than or equal to 5"),
        ({"levels": []}, "at least 1"),
        ({"levels": [{"notify": [{"person": "a", "schedule": "b"}]}]}, "one of schedule"),
        ({"levels": [{"notify": [{"person": "a"}], "wait": "10s"}]}, "between 1m and 1d"),
        ({"levels": [{"notify": [{"person": "a"}], "wait": "soon"}]}, "not a duration"),
    ],
)
def test_a_chain_that_cannot_be_followed_is_refused(
    change: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        EscalationPolicy.model_validate(TWO_LEVELS | change)


def test_every_name_that_points_nowhere_is_listed() -> None:
    policy = OnCallPolicy.model_validate(
        {
            "people": {"li": {"name": "Li Lei"}, "lead": {"name": "Han Meimei"}},
            "schedules": {
                "engineers": {
                    "layers": [{"every": "daily", "start": "2026-03-02", "participants": ["li"]}],
                    "overrides": [
                        {
                            "person": "zhao",
                            "start": "2026-04-04T00:00:00+08:00",
                            "end": "2026-04-07T00:00:00+08:00",
                        }
                    ],
                }
            },
            "escalation": {
                "oncall": {"levels": [{"notify": [{"schedule": "night"}, {"person": "boss"}]}]},
                "sales": TWO_LEVELS,
            },
        }
    )
    assert policy.problems({"oncall", "complaints"}) == [
        "oncall.schedules.engineers: unknown person 'zhao'",
        "oncall.escalation.oncall.levels[0]: unknown schedule 'night'",
        "oncall.escalation.oncall.levels[0]: unknown person 'boss'",
        "oncall.escalation.sales: no paging group 'sales' (known: ['complaints', 'oncall'])",
    ]


def test_the_page_limit_counts_a_sliding_window_per_target() -> None:
    limit = PageLimit(messages=2, per=timedelta(minutes=10))
    sent = [TRIGGERED, TRIGGERED + timedelta(minutes=1)]
    assert limit.room([], TRIGGERED) == 2
    assert limit.room(sent, TRIGGERED + timedelta(minutes=2)) == 0
    assert limit.room(sent, TRIGGERED + timedelta(minutes=10)) == 1  # the first fell out
    assert limit.room(sent, TRIGGERED + timedelta(minutes=11)) == 2
    assert OnCallPolicy().page_limit == PageLimit(messages=10, per=timedelta(minutes=30))


@pytest.mark.parametrize(
    "limit", [{"messages": 0}, {"per": "30s"}, {"per": "2d"}, {"messages": 5, "every": "1h"}]
)
def test_a_page_limit_out_of_bounds_is_refused(limit: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OnCallPolicy.model_validate({"page_limit": limit})
