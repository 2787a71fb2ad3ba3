"""The ticket service's unit of work: the ticket's events and the rows kept beside them
(the list read model, the idempotency records), written in one transaction.

The service layer sees only these shapes; ``sql_store`` and ``memory_store`` provide
them, and only the exceptions named here (and the event store's) come out of either."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from aftercare.eventstore import ConcurrencyError, StreamSession

if TYPE_CHECKING:
    from aftercare_ticket.adapters.repository import Tickets


class DuplicateRequest(Exception):
    """Another request committed the same Idempotency-Key first (this one rolls back)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was recorded by a concurrent request")
        self.key = key


class TicketRecords(Protocol):
    """The rows beside the events, in the same transaction."""

    async def upsert_view(self, row: dict[str, Any]) -> None: ...

    async def list_views(
        self, filters: dict[str, Any], after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
        ...

    async def find_idempotent(self, key: str) -> tuple[str, str] | None:
        """The (fingerprint, ticket id) recorded for an idempotency key, if any."""
        ...

    async def remember_idempotent(
        self, key: str, fingerprint: str, ticket_id: str, at: datetime
    ) -> None:
        """Record the key; ``DuplicateRequest`` if a concurrent request recorded it first."""
        ...


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
