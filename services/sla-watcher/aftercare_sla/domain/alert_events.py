"""What happens to an on-call alert, as events in the watcher's log (one stream per
alert, keyed by ticket, rule and cycle): triggered, escalated step by step, its urgency
raised when the warned clock breaches, acknowledged, re-notified, reassigned, resolved.
They are published on ``ticket.sla.v1`` beside the verdicts, the ticket id as their
subject, so integrators can mirror the alerts. They carry ids and timings only: people are named by
their id in the policy, never by contact details."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Urgency = Literal["warning", "breach"]
Resolution = Literal["met", "stopped", "paused", "cancelled", "ticket_ended", "manual"]
"""``stopped``: the clock stopped after its breach (the work was done, late)."""


class AlertEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    alert_id: str = Field(max_length=200)
    ticket_id: str = Field(max_length=64)
    """The CloudEvent subject on ``ticket.sla.v1``, as for the ticket's verdicts."""
    occurred_at: AwareDatetime

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__


class AlertTriggered(AlertEvent):
    rule: str = Field(max_length=64)
    cycle: int
    group: str = Field(max_length=64)
    urgency: Urgency
    deadline: AwareDatetime | None


class AlertUrgencyRaised(AlertEvent):
    """The warned clock breached: the same alert, now a breach."""

    urgency: Urgency


class AlertEscalated(AlertEvent):
    """One step of the chain was paged: ``round`` of the chain, ``level`` in it."""

    step: int
    round: int
    level: int
    people: list[str] = Field(max_length=100)
    channels: bool


class AlertAcknowledged(AlertEvent):
    by: str = Field(max_length=100)
    via: Literal["link", "api", "chat"]


class AlertRenotified(AlertEvent):
    """An acknowledged alert whose clock still ran, paged again after the timeout."""

    people: list[str] = Field(max_length=100)


class AlertReassigned(AlertEvent):
    to: str = Field(max_length=64)
    by: str = Field(max_length=100)


class AlertResolved(AlertEvent):
    resolution: Resolution
    by: str | None = Field(default=None, max_length=100)


ALERT_EVENT_TYPES: dict[str, type[AlertEvent]] = {
    cls.event_type: cls
    for cls in (
        AlertTriggered,
        AlertUrgencyRaised,
        AlertEscalated,
        AlertAcknowledged,
        AlertRenotified,
        AlertReassigned,
        AlertResolved,
    )
}
