"""An on-call alert's life (issue: on-call paging, lifecycle): one alert per clock cycle,
escalation until acknowledged, reminders, urgency rising on the breach, resolved by
itself when the clock ends; decided from events only, so deciding again adds nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare_sla.domain.alert_events import AlertEscalated, AlertEvent, AlertRenotified
from aftercare_sla.domain.alerting import (
    AlertClosed,
    Clock,
    OnCallAlert,
    acknowledge,
    alert_id,
    due_events,
    fold,
    next_due,
    on_clock_ended,
    on_verdict,
    reassign,
)
from aftercare_sla.domain.escalation import EscalationPolicy
from aftercare_sla.domain.oncall import Rotation, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=SHANGHAI)
MIN = timedelta(minutes=1)
CLOCK = Clock("TK-1", "T-ONSITE", 0, T0 + 30 * MIN)
POLICY = EscalationPolicy.model_validate(
    {
        "levels": [
            {"notify": [{"schedule": "engineers"}], "wait": "10m"},
            {"notify": [{"person": "lead"}, {"channels": True}], "wait": "20m"},
        ],
        "repeat": 1,
        "acknowledgement_timeout": "30m",
    }
)
SCHEDULES = {
    "engineers": Schedule(
        layers=(
            Rotation(
                every="weekly", start=date(2026, 3, 2), handoff=time(9), participants=("li", "wang")
            ),
        )
    )
}


class Log:
    """The alert's stream: what was decided, folded back into the alert."""

    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    def record(self, events: list[AlertEvent]) -> list[AlertEvent]:
        self.events += events
        return events

    @property
    def alert(self) -> OnCallAlert:
        alert = fold(self.events)
        assert alert is not None
        return alert

    def due(self, at: datetime) -> list[AlertEvent]:
        return self.record(due_events(self.alert, POLICY, SCHEDULES, at))


def triggered(urgency: str = "warning") -> Log:
    log = Log()
    log.record(on_verdict(None, CLOCK, urgency, "oncall", T0))  # type: ignore[arg-type]
    return log


def pages(events: list[AlertEvent]) -> list[tuple[int, list[str], bool]]:
    return [(e.level, e.people, e.channels) for e in events if isinstance(e, AlertEscalated)]


def test_nobody_answers_the_chain_climbs_repeats_once_and_stops() -> None:
    log = triggered()
    assert log.alert.alert_id == alert_id("TK-1", "T-ONSITE", 0)
    assert pages(log.due(T0)) == [(0, ["li"], False)]
    assert log.due(T0 + 9 * MIN) == []  # level 1 still has a minute to answer
    assert pages(log.due(T0 + 10 * MIN)) == [(1, ["lead"], True)]
    assert pages(log.due(T0 + 30 * MIN)) == [(0, ["li"], False)]  # the chain's second round
    assert pages(log.due(T0 + 40 * MIN)) == [(1, ["lead"], True)]
    assert next_due(log.alert, POLICY) is None
    assert log.due(T0 + timedelta(days=1)) == []  # spent: nobody is paged for ever


def test_deciding_again_adds_nothing() -> None:
    log = triggered()
    log.due(T0 + 10 * MIN)
    assert on_verdict(log.alert, CLOCK, "warning", "oncall", T0 + 11 * MIN) == []
    assert due_events(log.alert, POLICY, SCHEDULES, T0 + 11 * MIN) == []
    assert acknowledge(log.alert, "li", "link", T0 + 12 * MIN) != []
    log.record(acknowledge(log.alert, "li", "link", T0 + 12 * MIN))
    assert acknowledge(log.alert, "li", "api", T0 + 13 * MIN) == []


def test_a_watcher_away_for_an_hour_pages_every_missed_step_once_in_order() -> None:
    log = triggered()
    caught_up = log.due(T0 + 60 * MIN)
    assert [e.step for e in caught_up if isinstance(e, AlertEscalated)] == [0, 1, 2, 3]


def test_an_acknowledgement_stops_the_chain_and_is_reminded_while_the_clock_runs() -> None:
    log = triggered()
    log.due(T0)
    log.record(acknowledge(log.alert, "li", "link", T0 + 5 * MIN))
    assert log.alert.state == "acknowledged"
    assert log.due(T0 + 10 * MIN) == []  # no level 2
    assert next_due(log.alert, POLICY) == T0 + 35 * MIN
    reminded = log.due(T0 + 35 * MIN)
    assert [type(e) for e in reminded] == [AlertRenotified]
    assert reminded[0].people == ["li"]  # type: ignore[attr-defined]
    assert next_due(log.alert, POLICY) == T0 + 65 * MIN


def test_the_breach_of_a_warned_clock_is_the_same_alert_paged_again_from_level_one() -> None:
    log = triggered("warning")
    log.due(T0 + 10 * MIN)  # levels 1 and 2 have had the warning
    raised = log.record(on_verdict(log.alert, CLOCK, "breach", "oncall", T0 + 15 * MIN))
    assert [e.event_type for e in raised] == ["AlertUrgencyRaised"]
    assert log.alert.urgency == "breach"
    assert log.alert.alert_id == alert_id("TK-1", "T-ONSITE", 0)
    assert pages(log.due(T0 + 15 * MIN)) == [(0, ["li"], False)]


def test_the_clock_met_resolves_the_alert_by_itself_once() -> None:
    log = triggered()
    log.due(T0)
    resolved = log.record(on_clock_ended(log.alert, "met", T0 + 8 * MIN))
    assert [e.event_type for e in resolved] == ["AlertResolved"]
    assert (log.alert.state, log.alert.resolution) == ("resolved", "met")
    assert on_clock_ended(log.alert, "met", T0 + 9 * MIN) == []
    assert log.due(T0 + 60 * MIN) == []
    with pytest.raises(AlertClosed):
        acknowledge(log.alert, "li", "link", T0 + 9 * MIN)


def test_a_reassigned_alert_pages_the_new_person_then_climbs_from_level_two() -> None:
    log = triggered()
    log.due(T0)
    log.record(acknowledge(log.alert, "li", "api", T0 + 2 * MIN))
    log.record(reassign(log.alert, "wang", "li", T0 + 3 * MIN))
    assert log.alert.state == "triggered"
    assert pages(log.due(T0 + 3 * MIN)) == [(0, ["wang"], False)]
    assert pages(log.due(T0 + 13 * MIN)) == [(1, ["lead"], True)]
