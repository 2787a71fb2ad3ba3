"""The ticket service's unit of work: the ticket's events and the rows kept beside them
(the list read model, the idempotency records), written in one transaction.

The service layer sees only these shapes; ``sql_store`` and ``memory_store`` provide
them, and only the exceptions named here (and the event store's) come out of either."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aftercare.eventstore import ConcurrencyError, RecordedEvent, StreamSession
from aftercare_ticket.adapters.records import DuplicateRequest, TicketRecords
from aftercare_ticket.adapters.repository import Tickets
from aftercare_ticket.domain.events import TicketEvent
from aftercare_ticket.domain.ticket import Ticket

__all__ = [
    "DecidedWrite",
    "DuplicateRequest",
    "TicketRecords",
    "TicketStore",
    "TicketUnitOfWork",
]


@dataclass(frozen=True, slots=True)
class TicketUnitOfWork:
    events: StreamSession
    records: TicketRecords
    tickets: Tickets


@dataclass(frozen=True, slots=True)
class DecidedWrite:
    """What a command decided without reading the store (a new ticket, or one this
    process wrote last): the events for ``ticket`` at its version, with the audit
    metadata and, for a request with an Idempotency-Key, its record."""

    ticket: Ticket
    decided: list[TicketEvent]
    metadata: dict[str, Any]
    recorded_at: datetime
    idempotency: tuple[str, str] | None = None
    """(key, fingerprint of the request)."""


class TicketStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[TicketUnitOfWork]:
        """Committed when the block ends, rolled back if it raises."""
        ...

    async def commit(self, write: DecidedWrite) -> tuple[Ticket, list[RecordedEvent]]:
        """Store ``write`` at once with the read model's row, under the stream's lock like
        every other writer of it: all of it or nothing; the ticket after it and its
        recorded events. ``ConcurrencyError`` when the stream moved past the ticket's
        version, ``DuplicateRequest`` when a concurrent request recorded the key first,
        ``EventTooLarge`` as ``Tickets.save``."""
        ...

    def reading(self) -> AbstractAsyncContextManager[TicketUnitOfWork]: ...

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError: ...


async def commit_in_transaction(
    store: TicketStore, write: DecidedWrite
) -> tuple[Ticket, list[RecordedEvent]]:
    """``TicketStore.commit`` as a transaction of one statement per row, for stores
    that have no single statement for it."""
    async with store.transaction() as unit:
        await unit.events.lock(write.ticket.id)
        ticket, recorded = await unit.tickets.save(
            write.ticket, write.decided, write.metadata, write.recorded_at
        )
        if write.idempotency is not None:
            key, fingerprint = write.idempotency
            await unit.records.remember_idempotent(key, fingerprint, ticket.id, write.recorded_at)
    return ticket, recorded
