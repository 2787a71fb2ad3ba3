"""The ticket service's unit of work: the ticket's events and the rows kept beside them
(the list read model, the idempotency records), written in one transaction.

The service layer sees only these shapes; ``sql_store`` and ``memory_store`` provide
them, and only the exceptions named here (and the event store's) come out of either."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from aftercare.eventstore import ConcurrencyError, StreamSession
from aftercare_ticket.adapters.records import DuplicateRequest, TicketRecords
from aftercare_ticket.adapters.repository import Tickets

__all__ = ["DuplicateRequest", "TicketRecords", "TicketStore", "TicketUnitOfWork"]


@dataclass(frozen=True, slots=True)
class TicketUnitOfWork:
    events: StreamSession
    records: TicketRecords
    tickets: Tickets


class TicketStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[TicketUnitOfWork]:
        """Committed when the block ends, rolled back if it raises."""
        ...

    def reading(self) -> AbstractAsyncContextManager[TicketUnitOfWork]: ...

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError: ...
