"""Events the relay could not publish, set aside so that nothing behind them waits.

An event the broker will never take (larger than its limit, one that no longer encodes)
would otherwise hold the relay's checkpoint for ever, and with it every event committed
after it: no SLA clock, no customer update, no integrator would hear of anything again.
The relay records such an event here, in the same transaction that moves its
checkpoint past it, counts it (``aftercare_relay_dead_lettered_events_total``), logs
it, reports it on ``/readyz`` as ``degraded``, and goes on. The operator sees the list
with ``aftercare dead-letters`` and publishes them again, once the cause is fixed, with
``aftercare dead-letters --replay``; consumers de-duplicate by event id, so a replay
that partly happened before is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_if_absent
from aftercare.eventstore import RecordedEvent
from aftercare.eventstore.sql import events, to_recorded
from aftercare.sqltypes import Position, UtcDateTime

metadata = MetaData()
relay_dead_letters = Table(
    "relay_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("relay", String(100), nullable=False),
    Column("event_id", Uuid(), nullable=False),
    Column("global_position", Position, nullable=False),
    Column("transaction_id", BigInteger, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Position, nullable=False),
    Column("type", String(200), nullable=False),
    Column("error", Text, nullable=False),
    Column("dead_at", UtcDateTime, nullable=False),
    Column("replayed_at", UtcDateTime),
    UniqueConstraint("relay", "event_id", name="uq_relay_dead_letters_event"),
)

DEAD_LETTERED = Counter(
    "aftercare_relay_dead_lettered_events",
    "Events a relay could not publish and set aside (see aftercare dead-letters).",
    ["relay"],
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    relay: str
    event_id: str
    stream_id: str
    version: int
    type: str
    error: str
    dead_at: datetime
    replayed_at: datetime | None


async def record_dead_letters(
    connection: AsyncConnection,
    relay: str,
    dead: list[tuple[RecordedEvent, BaseException]],
    now: datetime,
) -> None:
    """Inside the transaction that moves the relay's checkpoint past ``dead``."""
    for event, error in dead:
        inserted = await insert_if_absent(
            connection,
            relay_dead_letters,
            {
                "relay": relay,
                "event_id": event.event_id,
                "global_position": event.global_position,
                "transaction_id": event.transaction_id,
                "stream_id": event.stream_id,
                "version": event.version,
                "type": event.type,
                "error": f"{type(error).__name__}: {error}"[:2000],
                "dead_at": now,
            },
        )
        if inserted:
            DEAD_LETTERED.labels(relay).inc()


async def dead_letters(engine: AsyncEngine, *, outstanding_only: bool = True) -> list[DeadLetter]:
    query = select(relay_dead_letters).order_by(relay_dead_letters.c.id)
    if outstanding_only:
        query = query.where(relay_dead_letters.c.replayed_at.is_(None))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        DeadLetter(
            id=row.id,
            relay=row.relay,
            event_id=str(row.event_id),
            stream_id=row.stream_id,
            version=row.version,
            type=row.type,
            error=row.error,
            dead_at=row.dead_at,
            replayed_at=row.replayed_at,
        )
        for row in rows
    ]


async def mark_replayed(engine: AsyncEngine, dead_letter_id: int, now: datetime) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(relay_dead_letters)
            .where(relay_dead_letters.c.id == dead_letter_id)
            .values(replayed_at=now)
        )


def dead_letter_readiness(engine: AsyncEngine) -> Any:
    """A ``/readyz`` check: ``degraded`` while any event waits for an operator."""

    async def check() -> dict[str, Any]:
        async with engine.connect() as connection:
            waiting = (
                await connection.execute(
                    select(func.count()).where(relay_dead_letters.c.replayed_at.is_(None))
                )
            ).scalar_one()
        if not waiting:
            return {}
        return {
            "status": "degraded",
            "relay_dead_letters": waiting,
            "action": "aftercare dead-letters lists them; --replay publishes them again",
        }

    return check


Republish = Callable[[DeadLetter, RecordedEvent], Awaitable[None]]
"""Publishes one set-aside event again (to its relay's topic); raises when it cannot."""


async def replay_dead_letters(
    engine: AsyncEngine, republish: Republish, now: datetime, ids: Collection[int] | None = None
) -> list[tuple[DeadLetter, str | None]]:
    """Publish again the outstanding dead letters (``ids``, or all); each with ``None`` when
    it was published, else why not (it stays outstanding)."""
    outcomes: list[tuple[DeadLetter, str | None]] = []
    for letter in await dead_letters(engine):
        if ids is not None and letter.id not in ids:
            continue
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(events).where(events.c.event_id == uuid.UUID(letter.event_id))
                )
            ).first()
        if row is None:
            outcomes.append((letter, "the event is no longer in the log"))
            continue
        try:
            await republish(letter, to_recorded(row))
        except Exception as error:
            outcomes.append((letter, f"{type(error).__name__}: {error}"))
            continue
        await mark_replayed(engine, letter.id, now)
        outcomes.append((letter, None))
    return outcomes
