"""The ticket's unit of work in memory: the in-memory event store with the read model
and idempotency records beside it, committed together. It passes the same tests as the
SQL store, so the service layer's branches (lost races, repeated and reused
Idempotency-Keys, conflicts) can be tested in milliseconds without a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aftercare.clock import Clock
from aftercare.eventstore import ConcurrencyError, MemoryEventStore, RecordedEvent
from aftercare_ticket.adapters.repository import Tickets
from aftercare_ticket.adapters.unit_of_work import (
    DecidedWrite,
    DuplicateRequest,
    TicketUnitOfWork,
    commit_in_transaction,
)
from aftercare_ticket.domain.ticket import Ticket


class MemoryTicketRecords:
    """Reads see what is committed plus this transaction's own writes."""

    def __init__(self, store: MemoryTicketStore) -> None:
        self._store = store
        self.views: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, str]] = {}

    async def find_snapshot(
        self, ticket_id: str, format_: str, as_of: datetime | None
    ) -> dict[str, Any] | None:
        kept = [
            (version, taken_at, document)
            for (ticket, version, kind), (taken_at, document) in self._store.snapshots.items()
            if ticket == ticket_id and kind == format_ and (as_of is None or taken_at <= as_of)
        ]
        return max(kept, key=lambda row: row[0])[2] if kept else None

    async def keep_snapshot(
        self, ticket_id: str, version: int, format_: str, taken_at: datetime, document: Any
    ) -> None:
        self._store.snapshots.setdefault((ticket_id, version, format_), (taken_at, document))

    def _views(self) -> dict[str, dict[str, Any]]:
        return {**self._store.views, **self.views}

    async def upsert_view(self, row: dict[str, Any]) -> None:
        self.views[row["id"]] = dict(row)

    async def list_views(
        self, filters: dict[str, Any], after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        rows = [
            row
            for row in self._views().values()
            if all(row[column] == value for column, value in filters.items())
            and (after is None or (row["created_at"], row["id"]) < after)
        ]
        rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
        return [dict(row) for row in rows[:limit]]

    async def find_idempotent(self, key: str) -> tuple[str, str] | None:
        return self.keys.get(key) or self._store.keys.get(key)

    async def remember_idempotent(
        self, key: str, fingerprint: str, ticket_id: str, at: datetime
    ) -> None:
        if await self.find_idempotent(key) is not None:
            raise DuplicateRequest(key)
        self.keys[key] = (fingerprint, ticket_id)


class MemoryTicketStore:
    """``TicketStore`` held in this process's memory."""

    def __init__(self, clock: Clock | None = None, *, max_event_bytes: int | None = None) -> None:
        self.events = MemoryEventStore(clock)
        self.views: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, str]] = {}
        self.snapshots: dict[tuple[str, int, str], tuple[datetime, Any]] = {}
        self.max_event_bytes = max_event_bytes

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[TicketUnitOfWork]:
        async with self.events.transaction() as session:
            records = MemoryTicketRecords(self)
            yield TicketUnitOfWork(
                session, records, Tickets(session, records, self.max_event_bytes)
            )
            # Still inside the events' transaction: both commit, or neither does.
            self.views.update(records.views)
            self.keys.update(records.keys)

    async def commit(self, write: DecidedWrite) -> tuple[Ticket, list[RecordedEvent]]:
        return await commit_in_transaction(self, write)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[TicketUnitOfWork]:
        async with self.events.reading() as session:
            records = MemoryTicketRecords(self)
            yield TicketUnitOfWork(session, records, Tickets(session, records))

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError:
        return await self.events.with_actual_version(error)
