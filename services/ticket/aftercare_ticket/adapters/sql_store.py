"""The ticket's unit of work on the database: events through the SQL event store, the
read model and idempotency records in the same connection and transaction."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_if_absent, upsert, writing
from aftercare.eventstore import ConcurrencyError, RecordedEvent, SqlEventStore, SqlStreamSession
from aftercare.eventstore.sql import events
from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_ticket.adapters.one_statement import commit_in_one_statement
from aftercare_ticket.adapters.repository import Tickets, fold_onto, view_row
from aftercare_ticket.adapters.tables import idempotency_keys, ticket_snapshots, ticket_views
from aftercare_ticket.adapters.unit_of_work import (
    DecidedWrite,
    DuplicateRequest,
    TicketUnitOfWork,
    commit_in_transaction,
)
from aftercare_ticket.domain.events import EVENT_TYPES
from aftercare_ticket.domain.ticket import Ticket


class SqlTicketRecords:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def upsert_view(self, row: dict[str, Any]) -> None:
        await upsert(self.connection, ticket_views, row, "id")

    async def list_views(
        self, filters: dict[str, Any], after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        query = select(ticket_views)
        for column, value in filters.items():
            query = query.where(ticket_views.c[column] == value)
        if after is not None:
            created_at, ticket_id = after
            query = query.where(
                or_(
                    ticket_views.c.created_at < created_at,
                    and_(ticket_views.c.created_at == created_at, ticket_views.c.id < ticket_id),
                )
            )
        query = query.order_by(ticket_views.c.created_at.desc(), ticket_views.c.id.desc())
        result = await self.connection.execute(query.limit(limit))
        return [dict(row._mapping) for row in result]

    async def find_snapshot(
        self, ticket_id: str, format_: str, as_of: datetime | None
    ) -> dict[str, Any] | None:
        query = select(ticket_snapshots.c.document).where(
            ticket_snapshots.c.ticket_id == ticket_id, ticket_snapshots.c.format == format_
        )
        if as_of is not None:
            query = query.where(ticket_snapshots.c.taken_at <= as_of)
        query = query.order_by(ticket_snapshots.c.version.desc()).limit(1)
        document: dict[str, Any] | None = await self.connection.scalar(query)
        return document

    async def keep_snapshot(
        self, ticket_id: str, version: int, format_: str, taken_at: datetime, document: Any
    ) -> None:
        row = {
            "ticket_id": ticket_id,
            "version": version,
            "format": format_,
            "taken_at": taken_at,
            "document": document,
        }
        await insert_if_absent(self.connection, ticket_snapshots, row)

    async def find_idempotent(self, key: str) -> tuple[str, str] | None:
        result = await self.connection.execute(
            select(idempotency_keys.c.fingerprint, idempotency_keys.c.ticket_id).where(
                idempotency_keys.c.key == key
            )
        )
        row = result.first()
        return (row.fingerprint, row.ticket_id) if row else None

    async def remember_idempotent(
        self, key: str, fingerprint: str, ticket_id: str, at: datetime
    ) -> None:
        try:
            await self.connection.execute(
                idempotency_keys.insert().values(
                    key=key, fingerprint=fingerprint, ticket_id=ticket_id, created_at=at
                )
            )
        except IntegrityError as error:  # the key's primary key: the other request won
            raise DuplicateRequest(key) from error


class SqlTicketStore:
    """``TicketStore`` over an async SQLAlchemy engine (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine, *, max_event_bytes: int | None = None) -> None:
        self.engine = engine
        self.events = SqlEventStore(engine)
        self.max_event_bytes = max_event_bytes

    def _unit(self, connection: AsyncConnection, writable: bool) -> TicketUnitOfWork:
        session = SqlStreamSession(connection, writable=writable)
        records = SqlTicketRecords(connection)
        return TicketUnitOfWork(session, records, Tickets(session, records, self.max_event_bytes))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[TicketUnitOfWork]:
        async with outages_as_unavailable(), self.engine.connect() as connection:
            connection = await writing(connection)
            async with connection.begin():
                yield self._unit(connection, writable=True)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[TicketUnitOfWork]:
        async with outages_as_unavailable(), self.engine.connect() as connection:
            yield self._unit(connection, writable=False)

    async def commit(self, write: DecidedWrite) -> tuple[Ticket, list[RecordedEvent]]:
        """One statement on PostgreSQL; SQLite, one writer at a time anyway, takes the
        transaction of several."""
        if self.engine.dialect.name == "postgresql":
            return await commit_in_one_statement(self.engine, write, self.max_event_bytes)
        return await commit_in_transaction(self, write)

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError:
        return await self.events.with_actual_version(error)


FOLDED = ("type", "schema_version", "data", "version", "recorded_at")
"""The columns a fold reads (``repository.Foldable``): a replay leaves the rest unread."""


async def rebuild_views(engine: AsyncEngine, batch: int = 2000) -> int:
    """Refold every ticket from the event log into the read model; returns the count.

    The log is read once, ticket by ticket (the (stream, version) index gives that
    order), through a server-side cursor inside one snapshot, so memory holds a few
    batches at a time; the next batch is fetched while this one is folded (the fold
    would otherwise wait on PostgreSQL a quarter of the time). The list is replaced in
    one write transaction, so readers see the old list or the new one, never a
    half-built one."""
    reader = await engine.connect()
    writer = await writing(await engine.connect())
    count = 0
    try:
        async with reader.begin(), writer.begin():
            await writer.execute(ticket_views.delete())
            rows: list[dict[str, Any]] = []
            current: list[Row[Any]] = []
            async for part in _read_ahead(reader, batch):
                for row in part:
                    if current and current[0].stream_id != row.stream_id:
                        rows.append(view_row(fold_onto(Ticket(id=current[0].stream_id), current)))
                        current = []
                    current.append(row)
                if len(rows) >= batch:
                    await writer.execute(insert(ticket_views), rows)
                    count, rows = count + len(rows), []
            if current:
                rows.append(view_row(fold_onto(Ticket(id=current[0].stream_id), current)))
            if rows:
                await writer.execute(insert(ticket_views), rows)
                count += len(rows)
    finally:
        await reader.close()
        await writer.close()
    return count


async def _read_ahead(reader: AsyncConnection, batch: int) -> AsyncIterator[Sequence[Row[Any]]]:
    """The log's folded columns in stream order, a batch at a time, the next one being
    fetched by a task of its own while the caller works on this one."""
    folded = events.c.stream_id, *(events.c[name] for name in FOLDED)
    stream = await reader.stream(
        select(*folded)
        .where(events.c.type.in_(list(EVENT_TYPES)))
        .order_by(events.c.stream_id, events.c.version)
        .execution_options(yield_per=batch)
    )
    ahead: asyncio.Queue[Sequence[Row[Any]] | None] = asyncio.Queue(maxsize=2)

    async def fetch() -> None:
        try:
            async for part in stream.partitions(batch):
                await ahead.put(part)
        except Exception:
            await ahead.put(None)  # the caller, still reading, wakes and finds the failure
            raise
        await ahead.put(None)

    fetching = asyncio.create_task(fetch())
    try:
        while (part := await ahead.get()) is not None:
            yield part
        await fetching  # its failure, if any, is the rebuild's
    finally:
        fetching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fetching
