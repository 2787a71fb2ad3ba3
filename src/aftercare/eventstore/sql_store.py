"""The event store port over an async SQLAlchemy engine (PostgreSQL or SQLite).

The queries live in ``eventstore.sql``; this adapter gives them the port's shape, so a
service can hold an ``EventStore`` and never see a connection, and so the driver's
exceptions stay here: a lost database is ``StoreUnavailable`` to the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.db import is_outage, statement_by_statement, transaction
from aftercare.eventstore import sql
from aftercare.eventstore.model import (
    ConcurrencyError,
    LogCursor,
    NewEvent,
    RecordedEvent,
    StoreUnavailable,
)


class SqlStreamSession:
    """``StreamSession`` over one connection inside the caller's transaction; other
    adapters can write their own rows on ``connection`` in the same transaction."""

    def __init__(self, connection: AsyncConnection, *, writable: bool = True) -> None:
        self.connection = connection
        self.writable = writable

    async def lock(self, stream_id: str) -> None:
        await sql.lock_stream(self.connection, stream_id)

    async def stream_version(self, stream_id: str) -> int:
        return await sql.stream_version(self.connection, stream_id)

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
        after_version: int = 0,
    ) -> list[RecordedEvent]:
        return await sql.read_stream(
            self.connection,
            stream_id,
            up_to_version=up_to_version,
            up_to_time=up_to_time,
            after_version=after_version,
        )

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        recorded_at: datetime,
        *,
        verify: bool = True,
    ) -> list[RecordedEvent]:
        if not self.writable:
            raise RuntimeError("appending outside a write transaction")
        return await sql.append_events(
            self.connection, stream_id, expected_version, events, recorded_at, verify=verify
        )

    async def append_at_end(
        self, stream_id: str, events: Sequence[NewEvent], recorded_at: datetime
    ) -> list[RecordedEvent]:
        if not self.writable:
            raise RuntimeError("appending outside a write transaction")
        return await sql.append_at_end(self.connection, stream_id, events, recorded_at)

    async def append_at_ends(
        self, appends: Sequence[tuple[str, Sequence[NewEvent]]], recorded_at: datetime
    ) -> list[RecordedEvent]:
        if not self.writable:
            raise RuntimeError("appending outside a write transaction")
        return await sql.append_at_ends(self.connection, appends, recorded_at)


@asynccontextmanager
async def outages_as_unavailable() -> AsyncIterator[None]:
    """A driver error that means "the database is away" leaves as ``StoreUnavailable``."""
    try:
        yield
    except Exception as error:
        if is_outage(error):
            raise StoreUnavailable(str(error)) from error
        raise


class SqlEventStore:
    """``EventStore`` over an async SQLAlchemy engine (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlStreamSession]:
        async with outages_as_unavailable(), transaction(self.engine) as connection:
            yield SqlStreamSession(connection)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlStreamSession]:
        async with outages_as_unavailable(), self.engine.connect() as connection:
            yield SqlStreamSession(connection, writable=False)

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        try:
            async with self.transaction() as session:
                return await session.append(stream_id, expected_version, events, self.clock.now())
        except ConcurrencyError as error:
            raise await self.with_actual_version(error) from error

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
    ) -> list[RecordedEvent]:
        async with self.reading() as session:
            return await session.read_stream(
                stream_id, up_to_version=up_to_version, up_to_time=up_to_time
            )

    async def stream_version(self, stream_id: str) -> int:
        async with self.reading() as session:
            return await session.stream_version(stream_id)

    async def read_all(
        self,
        after: LogCursor = LogCursor.START,
        limit: int = 1000,
        types: Collection[str] | None = None,
    ) -> list[RecordedEvent]:
        async with outages_as_unavailable(), self.engine.connect() as connection:
            # one statement, in its own snapshot: a poll is one round trip, not three
            connection = await statement_by_statement(connection)
            return await sql.read_all(connection, after, limit, types)

    async def log_end(self) -> LogCursor:
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return await sql.log_end(connection)

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError:
        if error.actual_version is not None:
            return error
        actual = await self.stream_version(error.stream_id)
        return ConcurrencyError(error.stream_id, error.expected_version, actual)
