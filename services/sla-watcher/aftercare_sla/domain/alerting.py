"""An on-call alert's life, decided from its events (pure; PagerDuty's model).

One alert per clock cycle (ticket, rule, cycle): the clock's warning triggers it, its
breach raises its urgency (the same alert), the escalation policy pages it step by
step until someone acknowledges it, an acknowledged alert whose clock still runs is paged
again after the acknowledgement timeout, and it resolves by itself when the clock is met,
paused or cancelled or the ticket ends. Every decision returns the events to record; the
state is the fold of those events, so a restarted or second watcher decides the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from aftercare_sla.domain.alert_events import (
    AlertAcknowledged,
    AlertEscalated,
    AlertEvent,
    AlertReassigned,
    AlertRenotified,
    AlertResolved,
    AlertTriggered,
    AlertUrgencyRaised,
    Resolution,
    Urgency,
)
from aftercare_sla.domain.escalation import EscalationPolicy, reached
from aftercare_sla.domain.oncall import Schedule

AlertState = Literal["triggered", "acknowledged", "resolved"]


class AlertClosed(ValueError):
    """A command on an alert that has resolved."""


def alert_id(ticket_id: str, rule: str, cycle: int) -> str:
    """The de-duplication key: one alert per clock cycle, whoever sees it first."""
    return f"alert-{ticket_id}-{rule}-{cycle}"


@dataclass(frozen=True, slots=True)
class OnCallAlert:
    alert_id: str
    ticket_id: str
    rule: str
    cycle: int
    group: str
    urgency: Urgency
    state: AlertState
    triggered_at: datetime
    anchor: datetime
    """When the current run of the chain began (triggered, breached, reassigned)."""
    steps_taken: int = 0
    """Steps of the current run already paged."""
    acknowledged_by: str | None = None
    reminded_at: datetime | None = None
    """The acknowledgement, or the last reminder of it."""
    assignee: str | None = None
    resolution: Resolution | None = None


def apply(alert: OnCallAlert | None, event: AlertEvent) -> OnCallAlert:
    if isinstance(event, AlertTriggered):
        return OnCallAlert(
            event.alert_id,
            event.ticket_id,
            event.rule,
            event.cycle,
            event.group,
            event.urgency,
            "triggered",
            event.occurred_at,
            event.occurred_at,
        )
    assert alert is not None, f"{event.event_type} before AlertTriggered"
    at = event.occurred_at
    if isinstance(event, AlertUrgencyRaised):
        if alert.state == "triggered":  # a breach starts the chain again from level 1
            return replace(alert, urgency=event.urgency, anchor=at, steps_taken=0)
        return replace(alert, urgency=event.urgency)
    if isinstance(event, AlertEscalated):
        return replace(alert, steps_taken=alert.steps_taken + 1)
    if isinstance(event, AlertAcknowledged):
        return replace(alert, state="acknowledged", acknowledged_by=event.by, reminded_at=at)
    if isinstance(event, AlertRenotified):
        return replace(alert, reminded_at=at)
    if isinstance(event, AlertReassigned):
        return replace(
            alert,
            state="triggered",
            assignee=event.to,
            anchor=at,
            steps_taken=0,
            acknowledged_by=None,
            reminded_at=None,
        )
    if isinstance(event, AlertResolved):
        return replace(alert, state="resolved", resolution=event.resolution)
    raise TypeError(f"not an alert event: {event!r}")


def fold(events: Iterable[AlertEvent]) -> OnCallAlert | None:
    alert = None
    for event in events:
        alert = apply(alert, event)
    return alert


@dataclass(frozen=True, slots=True)
class Clock:
    """The clock an alert is about, as the watcher's verdict names it."""

    ticket_id: str
    rule: str
    cycle: int
    deadline: datetime | None


def on_verdict(
    alert: OnCallAlert | None, clock: Clock, urgency: Urgency, group: str, now: datetime
) -> list[AlertEvent]:
    """A warning or breach of ``clock`` for a paging ``group``."""
    if alert is None:
        key = alert_id(clock.ticket_id, clock.rule, clock.cycle)
        return [
            AlertTriggered(
                alert_id=key,
                occurred_at=now,
                ticket_id=clock.ticket_id,
                rule=clock.rule,
                cycle=clock.cycle,
                group=group,
                urgency=urgency,
                deadline=clock.deadline,
            )
        ]
    if alert.state != "resolved" and alert.urgency == "warning" and urgency == "breach":
        return [
            AlertUrgencyRaised(
                alert_id=alert.alert_id, ticket_id=alert.ticket_id, occurred_at=now, urgency=urgency
            )
        ]
    return []  # the same verdict again (a redelivery, a second replica): nothing new


def on_clock_ended(
    alert: OnCallAlert | None, resolution: Resolution, now: datetime
) -> list[AlertEvent]:
    """The clock was met, paused or cancelled, or the ticket ended: the page goes away."""
    if alert is None or alert.state == "resolved":
        return []
    return [
        AlertResolved(
            alert_id=alert.alert_id,
            ticket_id=alert.ticket_id,
            occurred_at=now,
            resolution=resolution,
        )
    ]


def acknowledge(
    alert: OnCallAlert, by: str, via: Literal["link", "api", "chat"], now: datetime
) -> list[AlertEvent]:
    """Stops the escalation; acknowledging twice changes nothing."""
    if alert.state == "resolved":
        raise AlertClosed(f"{alert.alert_id} was resolved ({alert.resolution})")
    if alert.state == "acknowledged":
        return []
    return [
        AlertAcknowledged(
            alert_id=alert.alert_id, ticket_id=alert.ticket_id, occurred_at=now, by=by, via=via
        )
    ]


def reassign(alert: OnCallAlert, to: str, by: str, now: datetime) -> list[AlertEvent]:
    """``to`` is paged at once; the chain goes on from level 2 if they do not answer."""
    if alert.state == "resolved":
        raise AlertClosed(f"{alert.alert_id} was resolved ({alert.resolution})")
    return [
        AlertReassigned(
            alert_id=alert.alert_id, ticket_id=alert.ticket_id, occurred_at=now, to=to, by=by
        )
    ]


def resolve(alert: OnCallAlert, by: str, now: datetime) -> list[AlertEvent]:
    if alert.state == "resolved":
        return []
    return [
        AlertResolved(
            alert_id=alert.alert_id,
            ticket_id=alert.ticket_id,
            occurred_at=now,
            resolution="manual",
            by=by,
        )
    ]


def next_due(alert: OnCallAlert, policy: EscalationPolicy) -> datetime | None:
    """When this alert must be looked at again: its next step, or its reminder."""
    if alert.state == "triggered":
        step = policy.next_step(alert.anchor, alert.steps_taken)
        return None if step is None else step.at
    if alert.state == "acknowledged" and policy.acknowledgement_timeout is not None:
        assert alert.reminded_at is not None
        return alert.reminded_at + policy.acknowledgement_timeout
    return None


def due_events(
    alert: OnCallAlert,
    policy: EscalationPolicy,
    schedules: Mapping[str, Schedule],
    now: datetime,
) -> list[AlertEvent]:
    """The steps that have come due by ``now``, each paged once and in order (a watcher
    that was away pages those it missed, one after another, and skips none)."""
    events: list[AlertEvent] = []
    current = alert
    while (due := next_due(current, policy)) is not None and due <= now:
        event = _step(current, policy, schedules, now)
        events.append(event)
        current = apply(current, event)
    return events


def _step(
    alert: OnCallAlert,
    policy: EscalationPolicy,
    schedules: Mapping[str, Schedule],
    now: datetime,
) -> AlertEvent:
    if alert.state == "acknowledged":
        again = [alert.acknowledged_by] if alert.acknowledged_by else []
        return AlertRenotified(
            alert_id=alert.alert_id, ticket_id=alert.ticket_id, occurred_at=now, people=again
        )
    step = policy.steps(alert.anchor)[alert.steps_taken]
    people: Sequence[str]
    if alert.assignee is not None and alert.steps_taken == 0:
        people, channels = (alert.assignee,), False
    else:
        level = policy.levels[step.level]
        reach = reached(level, now, schedules)
        people, channels = reach.people, reach.channels
    return AlertEscalated(
        alert_id=alert.alert_id,
        ticket_id=alert.ticket_id,
        occurred_at=now,
        step=alert.steps_taken,
        round=step.round,
        level=step.level,
        people=list(people),
        channels=channels,
    )
