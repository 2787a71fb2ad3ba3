"""One cycle of one SLA target on one ticket, as the replay of its events left it: what
the watcher stores, judges and announces. ``timers.evaluate`` makes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from aftercare_sla.domain.calendar import Timekeeping

Outcome = Literal["running", "paused", "met", "missed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Timer:
    """One cycle of one target on one ticket."""

    rule: str
    title: str
    cycle: int
    clock: str
    budget: timedelta
    started_at: datetime
    total: timedelta
    """Counted time the budget grants (for working days it depends on the start)."""
    consumed: timedelta
    """Counted time used up to ``running_since`` (or to the pause or the stop)."""
    running_since: datetime | None
    paused_since: datetime | None
    pause_reasons: frozenset[str]
    outcome: Outcome
    stopped_at: datetime | None
    deadline: datetime | None
    """When it is missed if nothing stops it; unknown (None) while paused."""
    warn_at: datetime | None
    early_from: datetime | None
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.rule, self.cycle)

    @property
    def open(self) -> bool:
        return self.outcome in ("running", "paused")

    def remaining(self) -> timedelta:
        return self.total - self.consumed


def elapsed(timer: Timer, clocks: Mapping[str, Timekeeping], now: datetime) -> timedelta:
    """Counted time used so far (or at the stop)."""
    if timer.running_since is None:
        return timer.consumed
    end = timer.stopped_at or now
    return timer.consumed + clocks[timer.clock].counted(timer.running_since, end)
