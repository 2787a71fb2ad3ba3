"""The notifier's unit of work: what it knows of each case and its outbox of updates, in
one transaction. The service layer sees only these shapes; ``sql_store`` and
``memory_store`` provide them. Rows are read by attribute (the columns of ``tables``)."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aftercare_notifier.domain.cadence import CaseView


class Cases(Protocol):
    async def last_sequence(self, ticket_id: str) -> int | None:
        """The ticket's last event applied; None for a case not seen yet."""
        ...

    async def load_view(self, ticket_id: str) -> CaseView: ...

    async def save_view(
        self,
        view: CaseView,
        next_due: datetime | None,
        now: datetime,
        *,
        partition: int | None = None,
        sequence: int | None = None,
    ) -> None:
        """Insert or update the case (with its partition: from the consumer), or update it
        (without: from the sender, which never creates a case)."""
        ...

    async def due_cases(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        """Cases owed a routine update by ``now``, earliest first."""
        ...

    async def set_next_due(self, ticket_id: str, due: datetime | None, now: datetime) -> None: ...


class Outbox(Protocol):
    async def untried(self, ticket_id: str) -> Any:
        """An update queued for the ticket and not yet attempted, if any."""
        ...

    async def holds_update_for(self, ticket_id: str) -> bool:
        """True while an update for the ticket is queued or on its way (pending)."""
        ...

    async def fold_into(self, notification_id: str, template: str, event: dict[str, Any]) -> None:
        """Coalesce: the queued update now tells of the latest change instead."""
        ...

    async def queue(
        self,
        *,
        id_seed: str,
        trigger_key: str,
        ticket_id: str,
        kind: str,
        template: str,
        event: dict[str, Any],
        send_at: datetime,
        now: datetime,
    ) -> bool:
        """Queue an update once per trigger; True if queued (False: already there)."""
        ...

    async def mark(self, notification_id: str, **values: Any) -> None: ...

    async def record_attempts(self, notification_id: str) -> int: ...

    async def claim_due(self, now: datetime, lease: timedelta, batch: int) -> list[Any]:
        """Due updates, each held for ``lease`` (other senders skip them)."""
        ...

    async def release(self, ids: list[Any], now: datetime) -> None:
        """Claimed updates handed back unsent (due again now)."""
        ...

    async def unrecorded(self, now: datetime, batch: int) -> list[Any]:
        """Sent updates still to be recorded on the ticket whose next try is due."""
        ...


@dataclass(frozen=True, slots=True)
class NotifierUnitOfWork:
    cases: Cases
    outbox: Outbox


class NotifierStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[NotifierUnitOfWork]: ...

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        """Seconds until the earliest case's ``next_due`` (of ``partitions``)."""
        ...
