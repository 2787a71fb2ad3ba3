"""What the notifier knows of each case, in ``notifier_cases``: the view folded from the
ticket's public events, the last event applied, and when the next routine update is owed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare.db import upsert
from aftercare_notifier.adapters.tables import notifier_cases
from aftercare_notifier.domain.cadence import CaseView


class SqlCases:
    """``Cases`` on one connection, inside the caller's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def last_sequence(self, ticket_id: str) -> int | None:
        """The ticket's last event applied; None for a case not seen yet."""
        query = select(notifier_cases.c.last_sequence).where(
            notifier_cases.c.ticket_id == ticket_id
        )
        result: int | None = (await self.connection.execute(query)).scalar_one_or_none()
        return result

    async def load_view(self, ticket_id: str) -> CaseView:
        row = (
            await self.connection.execute(
                select(notifier_cases).where(notifier_cases.c.ticket_id == ticket_id)
            )
        ).first()
        if row is None:
            return CaseView(ticket_id)
        return CaseView(
            ticket_id=ticket_id,
            phase=row.phase,
            priority=row.priority,
            urgent=row.urgent,
            language=row.language,
            customer_ref=row.customer_ref,
            last_update_at=row.last_update_at,
            opened_at=row.opened_at,
        )

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
        row: dict[str, Any] = {
            "ticket_id": view.ticket_id,
            "phase": view.phase,
            "priority": view.priority,
            "urgent": view.urgent,
            "language": view.language,
            "customer_ref": view.customer_ref,
            "opened_at": view.opened_at,
            "last_update_at": view.last_update_at,
            "next_due": next_due,
            "updated_at": now,
        }
        if sequence is not None:
            row["last_sequence"] = sequence
        if partition is None:
            await self.connection.execute(
                update(notifier_cases)
                .where(notifier_cases.c.ticket_id == view.ticket_id)
                .values(**row)
            )
            return
        row["partition"] = partition
        row.setdefault("last_sequence", 0)
        await upsert(self.connection, notifier_cases, row, "ticket_id")

    async def due_cases(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        """Cases owed a routine update by ``now``, earliest first, from the ``next_due`` index."""
        query = select(notifier_cases).where(notifier_cases.c.next_due <= now)
        if partitions is not None:
            query = query.where(notifier_cases.c.partition.in_(list(partitions)))
        result = await self.connection.execute(
            query.order_by(notifier_cases.c.next_due).limit(limit)
        )
        return list(result.all())

    async def set_next_due(self, ticket_id: str, due: datetime | None, now: datetime) -> None:
        await self.connection.execute(
            update(notifier_cases)
            .where(notifier_cases.c.ticket_id == ticket_id)
            .values(next_due=due, updated_at=now)
        )
