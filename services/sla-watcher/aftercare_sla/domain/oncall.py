"""Who is on call: people, rotations layered into schedules, and overrides.

The model of PagerDuty, Opsgenie and Grafana OnCall, kept to what a support desk needs:
a rotation hands over daily or weekly at a wall-clock time in its own time zone (so a
09:00 hand-off in Asia/Shanghai stays at 09:00, and one in a zone with summer time
follows it), to its participants in order; a schedule stacks rotations, the later layer
winning where it has started (a new rotation replaces the old from its first day);
an override (holiday cover) wins over every layer for its range. Answers are pure
functions of the instant, so "who was on call" and "who will be" are the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Person(BaseModel):
    """Someone who can be paged. The phone is kept for the record (calling is outside
    this system); the chat ids are what a robot message @-mentions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32)
    dingtalk: str | None = Field(default=None, max_length=64)
    feishu: str | None = Field(default=None, max_length=64)
    wecom: str | None = Field(default=None, max_length=64)
    slack: str | None = Field(default=None, max_length=64)


class Rotation(BaseModel):
    """Participants taking turns, ``every`` day or week, handing over at ``handoff``
    (local time in ``time_zone``; weekly ones on ``handoff_day``), from ``start``: the
    first participant's shift is the first that begins on or after that date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Literal["daily", "weekly"]
    handoff: time = time(9, 0)
    handoff_day: Weekday = "monday"
    time_zone: str = "Asia/Shanghai"
    start: date
    participants: tuple[str, ...] = Field(min_length=1, max_length=100)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @field_validator("handoff")
    @classmethod
    def _naive_handoff(cls, handoff: time) -> time:
        if handoff.tzinfo is not None:
            raise ValueError("handoff is a wall-clock time; the zone is time_zone")
        return handoff

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def first_day(self) -> date:
        """The local date of the first hand-off."""
        if self.every == "daily":
            return self.start
        ahead = (WEEKDAYS.index(self.handoff_day) - self.start.weekday()) % 7
        return self.start + timedelta(days=ahead)

    def handoff_at(self, day: date) -> datetime:
        """The instant of the hand-off on local ``day``. A wall time that summer time
        skips falls as long after the jump as it was after the hour skipped from (02:30
        on a 02:00→03:00 night is 03:30); one that happens twice is the first."""
        local = datetime.combine(day, self.handoff, self.zone)
        return local.astimezone(ZoneInfo("UTC")).astimezone(self.zone)

    def shift_at(self, at: datetime) -> Shift | None:
        """The shift running at ``at``; None before the first hand-off."""
        step = 1 if self.every == "daily" else 7
        first = self.first_day()
        local_day = at.astimezone(self.zone).date()
        # The latest hand-off day on or before the local date, aligned to the rotation.
        day = local_day - timedelta(days=(local_day - first).days % step)
        if at < self.handoff_at(day):
            day -= timedelta(days=step)
        if day < first:
            return None
        number = (day - first).days // step
        person = self.participants[number % len(self.participants)]
        return Shift(person, self.handoff_at(day), self.handoff_at(day + timedelta(days=step)))


class Override(BaseModel):
    """``person`` covers [start, end), whatever the rotations say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: str
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")
        return self


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    layers: tuple[Rotation, ...] = Field(min_length=1, max_length=10)
    overrides: tuple[Override, ...] = Field(default=(), max_length=1000)

    def on_call(self, at: datetime) -> OnCall | None:
        """Who is on call at ``at``, why, and until when (the next hand-off or the end
        of the override, whichever this answer stops being true at first)."""
        covering = [o for o in self.overrides if o.start <= at < o.end]
        if covering:
            override = covering[-1]  # the one listed last (entered latest) wins
            return OnCall(override.person, "override", override.start, override.end)
        for layer in reversed(range(len(self.layers))):
            shift = self.layers[layer].shift_at(at)
            if shift is not None:
                changes = [o.start for o in self.overrides] + [
                    above.handoff_at(above.first_day()) for above in self.layers[layer + 1 :]
                ]
                until = min([shift.end, *(c for c in changes if at < c < shift.end)])
                return OnCall(shift.person, f"layer {layer + 1}", shift.start, until)
        return None

    def people(self) -> set[str]:
        named = {p for layer in self.layers for p in layer.participants}
        return named | {o.person for o in self.overrides}


@dataclass(frozen=True, slots=True)
class Shift:
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OnCall:
    person: str
    source: str
    """``override`` or ``layer N`` (1 is the bottom layer)."""
    since: datetime
    until: datetime
