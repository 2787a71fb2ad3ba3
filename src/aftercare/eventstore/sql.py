"""The event store on SQLAlchemy Core: one code path for PostgreSQL and SQLite.

Ordering. Readers of ``read_all`` (the outbox relay, projections) must never see
position N and later discover a smaller position committed after it: a reader that
had moved past it would skip that event for ever. Sequences alone do not give this on
PostgreSQL, because two transactions can take positions 7 and 8 and commit 8 first.
So every append takes one transaction-scoped advisory lock before it inserts, which
makes positions follow commit order; SQLite gets the same from its single writer
(``BEGIN IMMEDIATE``). A rolled-back append leaves a hole in the numbers that nothing
will fill later, so readers may safely treat positions as "after the last one seen".
The cost is that appends to different streams commit one at a time; batching many
commands into one transaction is how to go past that limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.db import writing
from aftercare.eventstore.model import ConcurrencyError, NewEvent, RecordedEvent
from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("global_position", Position, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Position, nullable=False),
    Column("event_id", Uuid(), nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("metadata", JsonDocument, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    Index("ix_events_recorded_at", "recorded_at"),
    sqlite_autoincrement=True,
)

# Arbitrary, fixed key of the advisory lock that orders appends (see module docstring).
APPEND_LOCK_KEY = 0x41465443


def _to_recorded(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        global_position=row.global_position,
        stream_id=row.stream_id,
        version=row.version,
        event_id=row.event_id,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
    )


async def stream_version(connection: AsyncConnection, stream_id: str) -> int:
    result = await connection.execute(
        select(func.coalesce(func.max(events.c.version), 0)).where(events.c.stream_id == stream_id)
    )
    return int(result.scalar_one())


async def lock_appends(connection: AsyncConnection) -> None:
    """Hold the append lock until the transaction ends (re-entrant; SQLite: a no-op,
    since ``BEGIN IMMEDIATE`` already holds the database's single write lock).

    A writer that lost a race can take it before reading, so that its second attempt
    decides on a state nobody can change underneath it."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY}
        )


async def append_events(
    connection: AsyncConnection,
    stream_id: str,
    expected_version: int,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Append inside the caller's transaction, so other rows can commit with the events."""
    if not new_events:
        return []
    await lock_appends(connection)
    actual = await stream_version(connection, stream_id)
    if actual != expected_version:
        raise ConcurrencyError(stream_id, expected_version, actual)
    rows = [
        {
            "stream_id": stream_id,
            "version": expected_version + offset,
            "event_id": event.event_id,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": event.data,
            "metadata": event.metadata,
            "recorded_at": recorded_at,
        }
        for offset, event in enumerate(new_events, start=1)
    ]
    try:
        result = await connection.execute(
            insert(events).returning(events.c.global_position, sort_by_parameter_order=True),
            rows,
        )
    except IntegrityError as error:  # the unique (stream_id, version) is the last guard
        raise ConcurrencyError(stream_id, expected_version, expected_version + 1) from error
    positions = [row.global_position for row in result]
    return [
        RecordedEvent(
            global_position=position,
            stream_id=stream_id,
            version=expected_version + offset,
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
            recorded_at=recorded_at,
        )
        for offset, (position, event) in enumerate(zip(positions, new_events, strict=True), 1)
    ]


async def append_at_end(
    connection: AsyncConnection,
    stream_id: str,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Append after whatever the stream holds: for streams with a single writer, whose
    decisions do not depend on the stream's own history (a watcher's verdicts)."""
    if not new_events:
        return []
    await lock_appends(connection)
    version = await stream_version(connection, stream_id)
    return await append_events(connection, stream_id, version, new_events, recorded_at)


async def read_stream(
    connection: AsyncConnection,
    stream_id: str,
    *,
    up_to_version: int | None = None,
    up_to_time: datetime | None = None,
) -> list[RecordedEvent]:
    query = select(events).where(events.c.stream_id == stream_id)
    if up_to_version is not None:
        query = query.where(events.c.version <= up_to_version)
    if up_to_time is not None:
        query = query.where(events.c.recorded_at <= up_to_time)
    result = await connection.execute(query.order_by(events.c.version))
    return [_to_recorded(row) for row in result]


class SqlEventStore:
    """``EventStore`` over an async SQLAlchemy engine (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        async with self.engine.connect() as connection:
            connection = await writing(connection)
            async with connection.begin():
                return await append_events(
                    connection, stream_id, expected_version, events, self.clock.now()
                )

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
    ) -> list[RecordedEvent]:
        async with self.engine.connect() as connection:
            return await read_stream(
                connection, stream_id, up_to_version=up_to_version, up_to_time=up_to_time
            )

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(events)
                .where(events.c.global_position > after_position)
                .order_by(events.c.global_position)
                .limit(limit)
            )
            return [_to_recorded(row) for row in result]

    async def stream_version(self, stream_id: str) -> int:
        async with self.engine.connect() as connection:
            return await stream_version(connection, stream_id)
