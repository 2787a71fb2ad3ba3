"""The rows the ticket service keeps beside its events (the list read model, the
idempotency records), as the repository and the service layer need them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


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

    async def find_snapshot(
        self, ticket_id: str, format_: str, as_of: datetime | None
    ) -> dict[str, Any] | None:
        """The document of the latest snapshot of ``format_`` taken by ``as_of`` (any)."""
        ...

    async def keep_snapshot(
        self, ticket_id: str, version: int, format_: str, taken_at: datetime, document: Any
    ) -> None:
        """Store a snapshot unless one of that version and format is there already."""
        ...
