"""What the watcher announces on ``ticket.sla.v1``: warnings, breaches and targets met.

Each carries the rule, the ticket, the timing and the policy version it was judged
under, so a verdict can always be explained later, even after the policy changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict


class SlaEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    ticket_id: str
    rule: str
    title: str
    cycle: int
    policy_version: str
    clock: Literal["24x7", "working_days"]
    budget: str
    budget_seconds: int
    started_at: AwareDatetime
    deadline: AwareDatetime | None
    elapsed_seconds: int
    customer_ref: str | None = None
    kind: str | None = None
    channel: str | None = None
    priority: str | None = None
    urgent: bool | None = None
    occurred_at: AwareDatetime

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__

    @property
    def at(self) -> datetime:
        return self.occurred_at


class SlaWarning(SlaEvent):
    """The target is close to being missed: ``remaining_seconds`` of its budget are left."""

    remaining_seconds: int


class SlaBreached(SlaEvent):
    """The target was missed: its deadline passed (or, for an appointment, the engineer
    came too early). Announced once per target cycle per ticket."""

    reason: Literal["deadline_passed", "too_early"]
    breached_at: AwareDatetime
    detected_at: AwareDatetime
    late_by_seconds: int


class SlaMet(SlaEvent):
    """The target was met in time."""

    met_at: AwareDatetime


SLA_EVENT_TYPES: dict[str, type[SlaEvent]] = {
    cls.event_type: cls for cls in (SlaWarning, SlaBreached, SlaMet)
}
