"""The watcher's unit of work: the verdict streams (through the event store port) and the
timer tables, in one transaction. The service layer sees only these shapes;
``timer_store`` (SQL) and ``memory_store`` provide them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import StreamSession
from aftercare_sla.domain.facts import Fact


class Timers(Protocol):
    """Each ticket's facts, its row, and its timers. A timer row is read by attribute
    (the columns of ``tables.sla_timers``)."""

    async def store_fact(self, name: str, event: CloudEvent) -> None: ...

    async def facts_of(self, ticket_id: str) -> list[Fact]: ...

    async def mark_ticket(
        self,
        ticket_id: str,
        partition: int,
        policy_version: str,
        terminal: bool | None,
        now: datetime,
    ) -> None:
        """The ticket's row; ``terminal`` None keeps what it was."""
        ...

    async def timers_of(self, ticket_id: str) -> dict[tuple[str, int], Any]: ...

    async def save_timer(self, stored: Any, values: dict[str, Any]) -> None:
        """Write the timer only if it changed: a ticket's old cycles stay as they are."""
        ...

    async def retire(self, ticket_id: str, row: Any) -> None:
        """A target the policy no longer has: forgotten, unless a verdict was given on it."""
        ...

    async def due_timers(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        """Timers whose ``next_due`` has come, earliest first."""
        ...

    async def set_flags_of(self, changes: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        """Each (row, values): the timer's flags and next look moved on, in one go (every
        change names the same columns)."""
        ...

    async def refresh_queue_entries(self, ticket_ids: Collection[str]) -> None:
        """Bring the tickets' places in the work queue in line with their timers."""
        ...

    async def set_policy_version(
        self, ticket_id: str, policy_version: str, now: datetime
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class WatcherUnitOfWork:
    events: StreamSession
    timers: Timers


class WatcherStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[WatcherUnitOfWork]: ...

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        """Seconds until the earliest ``next_due`` (of ``partitions``); None: nothing due."""
        ...

    async def tickets_judged_under_another_policy(
        self, policy_version: str
    ) -> list[tuple[str, int]]:
        """(ticket id, partition) of open tickets whose timers another policy computed."""
        ...
