"""Load tickets from their streams and save decided events with the read model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import upsert, writing
from aftercare.eventstore import (
    NewEvent,
    RecordedEvent,
    append_events,
    read_stream,
)
from aftercare.eventstore.sql import events, to_recorded
from aftercare.lru import Lru
from aftercare_ticket.adapters.tables import idempotency_keys, ticket_views
from aftercare_ticket.domain.events import EVENT_TYPES, TicketEvent, decode, encode
from aftercare_ticket.domain.ticket import Ticket, evolve


def fold(ticket_id: str, recorded: Sequence[RecordedEvent]) -> Ticket | None:
    """The ticket as of the last of ``recorded``; ``None`` when there are none."""
    if not recorded:
        return None
    ticket = Ticket(id=ticket_id)
    for event in recorded:
        ticket = fold_one(ticket, event)
    return ticket


def fold_one(ticket: Ticket, event: RecordedEvent) -> Ticket:
    return evolve(
        decode(event.type, event.schema_version, event.data),
        ticket,
        version=event.version,
        created_at=ticket.created_at or event.recorded_at,
        updated_at=event.recorded_at,
    )


async def load(
    connection: AsyncConnection, ticket_id: str, as_of: datetime | None = None
) -> tuple[Ticket | None, list[RecordedEvent]]:
    recorded = await read_stream(connection, ticket_id, up_to_time=as_of)
    return fold(ticket_id, recorded), recorded


class Snapshots:
    """Folded states of recently read tickets at every ``every``-th version.

    A past state never changes, so a snapshot stays right for ever; only memory bounds
    how many are kept (``tickets`` most recently used). Reading a long ticket, or its
    state as of a past time, then starts from the nearest snapshot instead of event 1."""

    def __init__(self, every: int = 50, tickets: int = 1000) -> None:
        self.every = every
        self._by_ticket: Lru[str, list[Ticket]] = Lru(tickets)

    def best(self, ticket_id: str, as_of: datetime | None) -> Ticket | None:
        """The latest snapshot that already existed at ``as_of`` (any, without it)."""
        for ticket in reversed(self._by_ticket.get(ticket_id) or []):
            if as_of is None or (ticket.updated_at is not None and ticket.updated_at <= as_of):
                return ticket
        return None

    def remember(self, ticket: Ticket) -> None:
        if ticket.version % self.every:
            return
        kept = self._by_ticket.get(ticket.id) or []
        if not kept or kept[-1].version < ticket.version:
            self._by_ticket.put(ticket.id, [*kept, ticket])


async def load_from_snapshot(
    connection: AsyncConnection,
    ticket_id: str,
    snapshots: Snapshots,
    as_of: datetime | None = None,
) -> Ticket | None:
    """The ticket (as of ``as_of``) from the nearest snapshot and the events after it."""
    base = snapshots.best(ticket_id, as_of)
    recorded = await read_stream(
        connection, ticket_id, up_to_time=as_of, after_version=base.version if base else 0
    )
    ticket = base
    for event in recorded:
        ticket = fold_one(ticket or Ticket(id=ticket_id), event)
        snapshots.remember(ticket)
    return ticket


class EventTooLarge(Exception):
    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(f"a {event_type} event of {size} bytes exceeds {limit} bytes")
        self.event_type = event_type
        self.size = size
        self.limit = limit


async def save(
    connection: AsyncConnection,
    ticket: Ticket,
    decided: Sequence[TicketEvent],
    metadata: dict[str, Any],
    recorded_at: datetime,
    max_event_bytes: int | None = None,
) -> tuple[Ticket, list[RecordedEvent]]:
    """Append ``decided`` at ``ticket.version`` and refresh the read model, in the caller's
    transaction; a stale version raises ``ConcurrencyError``, an event whose JSON exceeds
    ``max_event_bytes`` raises ``EventTooLarge`` (what is recorded must be publishable)."""
    new_events = [
        NewEvent(
            type=event.event_type,
            schema_version=event.schema_version,
            data=encode(event),
            metadata=metadata,
        )
        for event in decided
    ]
    if max_event_bytes is not None:
        for new_event in new_events:
            size = len(orjson.dumps(new_event.data)) + len(orjson.dumps(new_event.metadata))
            if size > max_event_bytes:
                raise EventTooLarge(new_event.type, size, max_event_bytes)
    # ``ticket`` was folded from what the store held, so its version is never ahead of
    # the stream: the unique (stream, version) alone catches a writer that got there first.
    recorded = await append_events(
        connection, ticket.id, ticket.version, new_events, recorded_at, verify=False
    )
    for event in recorded:
        ticket = fold_one(ticket, event)
    await upsert_view(connection, ticket)
    return ticket, recorded


def _view_row(ticket: Ticket) -> dict[str, Any]:
    assert ticket.requested_at is not None
    assert ticket.created_at is not None
    assert ticket.updated_at is not None
    return {
        "id": ticket.id,
        "version": ticket.version,
        "state": ticket.state.value,
        "kind": ticket.kind.value,
        "channel": ticket.channel.value,
        "priority": ticket.priority.value,
        "urgent": ticket.urgent,
        "customer_ref": ticket.customer_ref,
        "assignee": ticket.assignee,
        "subject": ticket.subject,
        "requested_at": ticket.requested_at,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "reopen_count": ticket.reopen_count,
        "summary": {"allowed_commands": ticket.allowed_commands},
    }


async def upsert_view(connection: AsyncConnection, ticket: Ticket) -> None:
    await upsert(connection, ticket_views, _view_row(ticket), "id")


async def list_views(
    connection: AsyncConnection,
    filters: dict[str, Any],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
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
    result = await connection.execute(query.limit(limit))
    return [dict(row._mapping) for row in result]


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def find_idempotent(connection: AsyncConnection, key: str) -> tuple[str, str] | None:
    """The (fingerprint, ticket id) recorded for an idempotency key, if any."""
    result = await connection.execute(
        select(idempotency_keys.c.fingerprint, idempotency_keys.c.ticket_id).where(
            idempotency_keys.c.key == key
        )
    )
    row = result.first()
    return (row.fingerprint, row.ticket_id) if row else None


async def remember_idempotent(
    connection: AsyncConnection, key: str, print_: str, ticket_id: str, at: datetime
) -> None:
    await connection.execute(
        idempotency_keys.insert().values(
            key=key, fingerprint=print_, ticket_id=ticket_id, created_at=at
        )
    )


async def rebuild_views(engine: AsyncEngine, batch: int = 2000) -> int:
    """Refold every ticket from the event log into the read model; returns the count.

    The log is read once, ticket by ticket (the (stream, version) index gives that
    order), through a server-side cursor inside one snapshot, so memory holds one ticket
    at a time; the list is replaced in one write transaction, so readers see the old
    list or the new one, never a half-built one."""
    reader = await engine.connect()
    writer = await writing(await engine.connect())
    count = 0
    try:
        async with reader.begin(), writer.begin():
            await writer.execute(ticket_views.delete())
            rows: list[dict[str, Any]] = []
            ticket: Ticket | None = None
            stream = await reader.stream(
                select(events)
                .where(events.c.type.in_(list(EVENT_TYPES)))
                .order_by(events.c.stream_id, events.c.version)
                .execution_options(yield_per=batch)
            )
            async for row in stream:
                recorded = to_recorded(row)
                if ticket is None or ticket.id != recorded.stream_id:
                    if ticket is not None:
                        rows.append(_view_row(ticket))
                    ticket = Ticket(id=recorded.stream_id)
                ticket = fold_one(ticket, recorded)
                if len(rows) >= batch:
                    await writer.execute(insert(ticket_views), rows)
                    count, rows = count + len(rows), []
            if ticket is not None:
                rows.append(_view_row(ticket))
            if rows:
                await writer.execute(insert(ticket_views), rows)
                count += len(rows)
    finally:
        await reader.close()
        await writer.close()
    return count
