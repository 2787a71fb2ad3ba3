"""The notifier's outbox, ``notifications``: every update queued, claimed by a sender under
a lease, sent or failed, and recorded on the ticket. Rows are written in the transaction
of whatever caused them, so a redelivered event or a restart never queues one twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare.db import insert_if_absent
from aftercare_notifier.adapters.tables import notifications

_NAMESPACE = uuid.UUID("0b7c3f0e-5d1a-4c55-8f7e-2a9d6b4e1c30")


def notification_id(id_seed: str) -> str:
    """An update's id derives from what triggered it: a repeat finds it already there."""
    return str(uuid.uuid5(_NAMESPACE, id_seed))


class SqlOutbox:
    """``Outbox`` on one connection, inside the caller's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def untried(self, ticket_id: str) -> Any:
        """An update queued for the ticket and not yet attempted, if any."""
        query = select(notifications).where(
            and_(
                notifications.c.ticket_id == ticket_id,
                notifications.c.status == "pending",
                notifications.c.attempts == 0,
            )
        )
        return (await self.connection.execute(query)).first()

    async def holds_update_for(self, ticket_id: str) -> bool:
        """True while an update for the ticket is queued or on its way (pending)."""
        query = (
            select(notifications.c.id)
            .where(
                and_(notifications.c.ticket_id == ticket_id, notifications.c.status == "pending")
            )
            .limit(1)
        )
        return (await self.connection.execute(query)).first() is not None

    async def fold_into(self, notification_id: str, template: str, event: dict[str, Any]) -> None:
        """Coalesce: the queued update now tells of the latest change instead."""
        await self.connection.execute(
            update(notifications)
            .where(notifications.c.id == notification_id)
            .values(kind="change", template=template, event=event)
        )

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
        """Queue an update once per trigger (its id derives from ``id_seed``); True if queued."""
        return await insert_if_absent(
            self.connection,
            notifications,
            {
                "id": notification_id(id_seed),
                "ticket_id": ticket_id,
                "kind": kind,
                "template": template,
                "trigger_key": trigger_key,
                "event": event,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": send_at,
                "recorded": False,
                "created_at": now,
            },
        )

    async def mark(self, notification_id: str, **values: Any) -> None:
        await self.connection.execute(
            update(notifications).where(notifications.c.id == notification_id).values(**values)
        )

    async def record_attempts(self, notification_id: str) -> int:
        query = select(notifications.c.record_attempts).where(notifications.c.id == notification_id)
        return int((await self.connection.execute(query)).scalar_one())

    async def claim_due(self, now: datetime, lease: timedelta, batch: int) -> list[Any]:
        """Due updates for this sender: each held for ``lease`` (other senders skip them; one
        that died gives them up when the lease ends). Run it in a transaction of its own."""
        query = (
            select(notifications)
            .where(
                and_(notifications.c.status == "pending", notifications.c.next_attempt_at <= now)
            )
            .order_by(notifications.c.next_attempt_at)
            .limit(batch)
        )
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list((await self.connection.execute(query)).all())
        for row in rows:
            await self.connection.execute(
                update(notifications)
                .where(notifications.c.id == row.id)
                .values(next_attempt_at=now + lease, attempts=row.attempts + 1)
            )
        return rows

    async def release(self, ids: list[Any], now: datetime) -> None:
        """Claimed updates handed back unsent: due again now, the claim not counted."""
        await self.connection.execute(
            update(notifications)
            .where(and_(notifications.c.id.in_(ids), notifications.c.status == "pending"))
            .values(next_attempt_at=now, attempts=notifications.c.attempts - 1)
        )

    async def unrecorded(self, now: datetime, batch: int) -> list[Any]:
        """Sent updates still to be recorded on the ticket whose next try is due."""
        query = (
            select(notifications)
            .where(
                and_(
                    notifications.c.status == "sent",
                    notifications.c.recorded.is_(False),
                    notifications.c.record_error.is_(None),
                    or_(
                        notifications.c.next_attempt_at.is_(None),
                        notifications.c.next_attempt_at <= now,
                    ),
                )
            )
            .limit(batch)
        )
        return list((await self.connection.execute(query)).all())
