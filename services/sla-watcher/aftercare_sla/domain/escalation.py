"""Escalation: whom an alert pages, level by level, until someone acknowledges it.

A paging group's policy is an ordered chain of levels. Each level notifies a schedule's
current on-call person, named people or the group's channels, then waits for an
acknowledgement before the next level is paged; the whole chain repeats up to
``repeat`` times (capped, so nobody is paged for ever). The plan of an alert is pure
arithmetic from the moment it was triggered: which step falls when, and whom a step
reaches at that instant. Where it is kept and driven (the watcher's tables, its due
index) is the adapters' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aftercare_sla.domain.durations import Duration
from aftercare_sla.domain.oncall import Person, Schedule

MAX_LEVELS = 10
MAX_REPEAT = 5


class Recipient(BaseModel):
    """Exactly one of: the on-call person of ``schedule``, the ``person`` named, or the
    paging group's ``channels`` (its webhooks and robots, as today)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: str | None = Field(default=None, max_length=64)
    person: str | None = Field(default=None, max_length=64)
    channels: bool = False

    @model_validator(mode="after")
    def _one(self) -> Recipient:
        if sum((self.schedule is not None, self.person is not None, self.channels)) != 1:
            raise ValueError("a recipient is one of schedule, person or channels: true")
        return self


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notify: tuple[Recipient, ...] = Field(min_length=1, max_length=20)
    wait: Duration = timedelta(minutes=15)
    """How long an unacknowledged alert waits before the next level is paged."""

    @model_validator(mode="after")
    def _sensible_wait(self) -> Level:
        if not timedelta(minutes=1) <= self.wait <= timedelta(days=1):
            raise ValueError("wait is between 1m and 1d")
        return self


class EscalationPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: tuple[Level, ...] = Field(min_length=1, max_length=MAX_LEVELS)
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT)
    """Times the whole chain is paged again after its last level's wait."""
    acknowledgement_timeout: Duration | None = None
    """An acknowledged alert whose clock still runs is paged again after this long."""

    def steps(self, triggered_at: datetime) -> list[Step]:
        """Every step the alert would take if nobody acknowledged it."""
        planned, at = [], triggered_at
        for round_number in range(self.repeat + 1):
            for number, level in enumerate(self.levels):
                planned.append(Step(round_number, number, at))
                at += level.wait
        return planned

    def next_step(self, triggered_at: datetime, taken: int) -> Step | None:
        """The step after the first ``taken`` ones; None when the chain is spent."""
        planned = self.steps(triggered_at)
        return planned[taken] if taken < len(planned) else None


@dataclass(frozen=True, slots=True)
class Step:
    round: int
    level: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Reached:
    """Whom one step of an alert reaches: people by id, and whether the group's
    channels are paged too."""

    people: tuple[str, ...]
    channels: bool


def reached(level: Level, at: datetime, schedules: Mapping[str, Schedule]) -> Reached:
    """The people a level notifies at ``at`` (a schedule with nobody on call then adds
    nobody: the level's other recipients and the next level still stand)."""
    people: list[str] = []
    channels = False
    for recipient in level.notify:
        if recipient.channels:
            channels = True
        elif recipient.person is not None:
            people.append(recipient.person)
        elif recipient.schedule is not None:
            on_call = schedules[recipient.schedule].on_call(at)
            if on_call is not None:
                people.append(on_call.person)
    return Reached(tuple(dict.fromkeys(people)), channels)


class PageLimit(BaseModel):
    """At most ``messages`` messages to one target (a person's e-mail, one chat robot, one
    webhook) in any window of ``per``. Steps taken together already reach a target as one
    message; the limit is for the trickle after that (a clock breaking every minute for an
    hour). What would go over is held, never dropped, and goes as one message listing it
    once the window has room."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: int = Field(default=10, ge=1, le=1000)
    per: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _sensible_window(self) -> PageLimit:
        if not timedelta(minutes=1) <= self.per <= timedelta(days=1):
            raise ValueError("per is between 1m and 1d")
        return self

    def room(self, sent: Iterable[datetime], now: datetime) -> int:
        """How many more messages the target may take at ``now``, given when the earlier
        ones were sent."""
        recent = sum(1 for at in sent if now - self.per < at <= now)
        return max(0, self.messages - recent)


class OnCallPolicy(BaseModel):
    """The ``oncall`` section of the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_limit: PageLimit = PageLimit()

    people: dict[str, Person] = Field(default_factory=dict, max_length=1000)
    schedules: dict[str, Schedule] = Field(default_factory=dict, max_length=100)
    escalation: dict[str, EscalationPolicy] = Field(default_factory=dict, max_length=100)

    def problems(self, paging_groups: set[str]) -> list[str]:
        """Every name that points nowhere, listed at once."""
        found: list[str] = []
        for name, schedule in self.schedules.items():
            for person in sorted(schedule.people() - set(self.people)):
                found.append(f"oncall.schedules.{name}: unknown person {person!r}")
        for group, policy in self.escalation.items():
            where = f"oncall.escalation.{group}"
            if group not in paging_groups:
                found.append(f"{where}: no paging group {group!r} (known: {sorted(paging_groups)})")
            for number, level in enumerate(policy.levels):
                for recipient in level.notify:
                    if recipient.schedule is not None and recipient.schedule not in self.schedules:
                        found.append(
                            f"{where}.levels[{number}]: unknown schedule {recipient.schedule!r}"
                        )
                    if recipient.person is not None and recipient.person not in self.people:
                        found.append(
                            f"{where}.levels[{number}]: unknown person {recipient.person!r}"
                        )
        return found
