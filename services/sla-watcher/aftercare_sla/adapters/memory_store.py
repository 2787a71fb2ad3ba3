"""The watcher's unit of work in memory, for fast tests of the service layer: the same
shapes as the SQL store (timer rows read by attribute), with transactions that commit at
the end of the block and leave nothing behind when it raises."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from aftercare.clock import Clock
from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import MemoryEventStore
from aftercare_sla.adapters.unit_of_work import WatcherUnitOfWork
from aftercare_sla.domain.facts import Fact


@dataclass
class _Tables:
    facts: dict[str, dict[int, Fact]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    timers: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)


class MemoryTimers:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    async def store_fact(self, name: str, event: CloudEvent) -> None:
        facts = self.tables.facts.setdefault(event.subject, {})
        facts[event.sequence or 0] = Fact(event.sequence or 0, name, event.time, event.data)

    async def facts_of(self, ticket_id: str) -> list[Fact]:
        return [fact for _, fact in sorted(self.tables.facts.get(ticket_id, {}).items())]

    async def mark_ticket(
        self,
        ticket_id: str,
        partition: int,
        policy_version: str,
        terminal: bool | None,
        now: datetime,
    ) -> None:
        known = self.tables.tickets.get(ticket_id, {})
        self.tables.tickets[ticket_id] = {
            "partition": partition,
            "policy_version": policy_version,
            "terminal": bool(known.get("terminal")) if terminal is None else terminal,
            "updated_at": now,
        }

    async def timers_of(self, ticket_id: str) -> dict[tuple[str, int], Any]:
        return {
            (rule, cycle): SimpleNamespace(**row)
            for (ticket, rule, cycle), row in self.tables.timers.items()
            if ticket == ticket_id
        }

    async def save_timer(self, stored: Any, values: dict[str, Any]) -> None:
        key = (values["ticket_id"], values["rule"], values["cycle"])
        self.tables.timers[key] = dict(values)

    async def retire(self, ticket_id: str, row: Any) -> None:
        key = (ticket_id, row.rule, row.cycle)
        if not row.breached and not row.met_reported:
            self.tables.timers.pop(key, None)
        else:
            self.tables.timers[key]["next_due"] = None

    async def refresh_queue_entries(self, ticket_ids: Collection[str]) -> None:
        for ticket_id in ticket_ids:
            self._refresh_queue_entry(ticket_id)

    def _refresh_queue_entry(self, ticket_id: str) -> None:
        mine = [row for (ticket, _, _), row in self.tables.timers.items() if ticket == ticket_id]
        opened = [row for row in mine if row["status"] in ("running", "paused")]
        deadlines = [row["deadline"] for row in opened if row["status"] == "running"]
        entry = self.tables.tickets.setdefault(ticket_id, {})
        entry["open_clocks"] = len(opened)
        entry["next_deadline"] = min(deadlines) if deadlines else None
        entry["breached"] = any(row["breached"] for row in opened)

    async def due_timers(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        due = [
            row
            for row in self.tables.timers.values()
            if row["next_due"] is not None
            and row["next_due"] <= now
            and (partitions is None or row["partition"] in partitions)
        ]
        due.sort(key=lambda row: row["next_due"])
        return [SimpleNamespace(**row) for row in due[:limit]]

    async def set_flags_of(self, changes: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        for row, values in changes:
            self.tables.timers[(row.ticket_id, row.rule, row.cycle)].update(values)

    async def set_policy_version(self, ticket_id: str, policy_version: str, now: datetime) -> None:
        self.tables.tickets[ticket_id].update(policy_version=policy_version, updated_at=now)


class MemoryWatcherStore:
    """``WatcherStore`` held in memory; ``events`` holds the verdict streams."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.events = MemoryEventStore(clock)
        self.tables = _Tables()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WatcherUnitOfWork]:
        async with self.events.transaction() as session:
            working = copy.deepcopy(self.tables)
            yield WatcherUnitOfWork(session, MemoryTimers(working))
            self.tables = working  # still inside the events' transaction: both or neither

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        due = [
            row["next_due"]
            for row in self.tables.timers.values()
            if row["next_due"] is not None
            and (partitions is None or row["partition"] in partitions)
        ]
        return (min(due) - now).total_seconds() if due else None

    async def tickets_judged_under_another_policy(
        self, policy_version: str
    ) -> list[tuple[str, int]]:
        return [
            (ticket_id, row["partition"])
            for ticket_id, row in self.tables.tickets.items()
            if not row["terminal"] and row["policy_version"] != policy_version
        ]
