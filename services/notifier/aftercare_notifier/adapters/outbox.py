"""The notifier's outbox, ``notifications``: every update queued, claimed by a sender under
a lease, sent or failed, and recorded on the ticket. Rows are written in the transaction
of whatever caused them, so a redelivered event or a restart never queues one twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_if_absent, transaction
from aftercare_notifier.adapters.tables import notifications

_NAMESPACE = uuid.UUID("0b7c3f0e-5d1a-4c55-8f7e-2a9d6b4e1c30")


async def untried(connection: AsyncConnection, ticket_id: str) -> Any:
    """An update queued for the ticket and not yet attempted, if any."""
    query = select(notifications).where(
        and_(
            notifications.c.ticket_id == ticket_id,
            notifications.c.status == "pending",
            notifications.c.attempts == 0,
        )
    )
    return (await connection.execute(query)).first()


async def fold_into(
    connection: AsyncConnection, notification_id: str, template: str, event: dict[str, Any]
) -> None:
    """Coalesce: the queued update now tells of the latest change instead."""
    await connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(kind="change", template=template, event=event)
    )


async def queue(
    connection: AsyncConnection,
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
        connection,
        notifications,
        {
            "id": str(uuid.uuid5(_NAMESPACE, id_seed)),
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


async def claim_due(engine: AsyncEngine, now: datetime, lease: timedelta, batch: int) -> list[Any]:
    """Due updates for this sender: each held for ``lease`` (other senders skip them; one
    that died gives them up when the lease ends)."""
    async with transaction(engine) as connection:
        query = (
            select(notifications)
            .where(
                and_(notifications.c.status == "pending", notifications.c.next_attempt_at <= now)
            )
            .order_by(notifications.c.next_attempt_at)
            .limit(batch)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list((await connection.execute(query)).all())
        for row in rows:
            await connection.execute(
                update(notifications)
                .where(notifications.c.id == row.id)
                .values(next_attempt_at=now + lease, attempts=row.attempts + 1)
            )
    return rows


async def finish(engine: AsyncEngine, notification_id: str, **values: Any) -> None:
    async with engine.begin() as connection:
        await mark(connection, notification_id, **values)


async def mark(connection: AsyncConnection, notification_id: str, **values: Any) -> None:
    await connection.execute(
        update(notifications).where(notifications.c.id == notification_id).values(**values)
    )


async def record_attempts(connection: AsyncConnection, notification_id: str) -> int:
    query = select(notifications.c.record_attempts).where(notifications.c.id == notification_id)
    return int((await connection.execute(query)).scalar_one())


async def unrecorded(engine: AsyncEngine, now: datetime, batch: int) -> list[Any]:
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
    async with engine.connect() as connection:
        return list((await connection.execute(query)).all())
