"""When a customer hears from us (T-PROGRESS): the cadence, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftercare_notifier.domain.cadence import DEFAULT_CADENCE, Cadence, CadenceError, CaseView

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LEAD = timedelta(minutes=5)
"""Routine updates go out 5 minutes before each T-PROGRESS deadline."""


def case(*events: tuple[int, str, dict[str, object]]) -> CaseView:
    view = CaseView("t-1")
    for minutes, name, data in events:
        view = view.evolve(name, T0 + timedelta(minutes=minutes), data)
    return view


RAISED = (0, "RequestRaised", {"priority": "normal", "urgent": False, "language": "en"})
URGENT = (0, "RequestRaised", {"priority": "urgent", "urgent": True, "language": "zh-CN"})


def test_normal_cases_hear_every_hour_urgent_ones_every_half_hour() -> None:
    assert DEFAULT_CADENCE.lead == LEAD
    assert case(RAISED).next_progress_due(DEFAULT_CADENCE) == T0 + timedelta(minutes=60) - LEAD
    assert case(URGENT).next_progress_due(DEFAULT_CADENCE) == T0 + timedelta(minutes=30) - LEAD
    escalated = case(RAISED, (5, "Escalated", {"priority": "urgent", "level": "manager"}))
    assert escalated.next_progress_due(DEFAULT_CADENCE) == T0 + timedelta(minutes=30) - LEAD


def test_any_update_restarts_the_cadence() -> None:
    view = case(RAISED, (20, "ProgressReported", {}))
    assert view.next_progress_due(DEFAULT_CADENCE) == T0 + timedelta(minutes=80) - LEAD
    assert view.updated(T0 + timedelta(minutes=10)).last_update_at == T0 + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("events", "due"),
    [
        ([(10, "CustomerInfoRequested", {})], None),
        ([(10, "CustomerInfoRequested", {}), (50, "CustomerInfoProvided", {})], 60),
        ([(10, "Resolved", {})], None),
        ([(10, "Closed", {})], None),
        ([(10, "Withdrawn", {})], None),
        ([(10, "Resolved", {}), (30, "Reopened", {}), (40, "ProgressReported", {})], 100),
    ],
)
def test_waiting_resolved_and_closed_cases_get_no_routine_update(
    events: list[tuple[int, str, dict[str, object]]], due: int | None
) -> None:
    expected = None if due is None else T0 + timedelta(minutes=due) - LEAD
    assert case(RAISED, *events).next_progress_due(DEFAULT_CADENCE) == expected


def test_the_lead_stays_well_inside_the_shortest_interval() -> None:
    with pytest.raises(CadenceError, match="lead"):
        Cadence.of_minutes(
            {"urgent": 30, "high": 60, "normal": 60, "low": 60}, timedelta(minutes=15)
        )


def test_the_cadence_is_configurable_within_30_to_60_minutes() -> None:
    custom = Cadence.of_minutes({"urgent": 30, "high": 45, "normal": 60, "low": 60})
    high = case((0, "RequestRaised", {"priority": "high", "urgent": False}))
    assert high.next_progress_due(custom) == T0 + timedelta(minutes=45)
    with pytest.raises(CadenceError, match="every 30 to 60 minutes"):
        Cadence.of_minutes({"urgent": 15, "high": 60, "normal": 60, "low": 60})
    with pytest.raises(CadenceError, match="low"):
        Cadence.of_minutes({"urgent": 30, "high": 60, "normal": 60})
