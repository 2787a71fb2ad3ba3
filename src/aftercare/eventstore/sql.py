"""The event store on SQLAlchemy Core: one code path for PostgreSQL and SQLite.

Ordering. Readers of ``read_all`` (the outbox relay, projections) must never move past
an event that is still to commit: a reader that did would skip it for ever. Positions
alone do not give this on PostgreSQL, because two transactions can take positions 7 and
8 and commit 8 first. A global lock around appends would fix it, but then every append
in the system waits for the one in front to commit, and under load the holder's own
event loop keeps it waiting longer: throughput collapses.

So appends run in parallel, and the log is read in the order of the writing
transaction's id, then position: each event records ``transaction_id`` (PostgreSQL's
``txid_current()``), and a reader takes only events of transactions older than the
oldest one still running (``txid_snapshot_xmin``): that prefix can no longer change. A
cursor is the pair (transaction id, position). Per stream, order is the version order:
a stream's next version is written by a transaction that saw the previous one
committed, hence has a larger id. SQLite has one writer (``BEGIN IMMEDIATE``); its
transaction ids are all 0 and positions are commit order. A rolled-back append leaves
a hole in the positions that nothing fills later. A long write transaction (a session
idle inside one, a rebuild of a read model) holds readers back until it ends: they lose
nothing, they wait.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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
    tuple_,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare.eventstore.model import ConcurrencyError, LogCursor, NewEvent, RecordedEvent
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
    # PostgreSQL: txid_current() of the writing transaction (the migration sets the
    # default); SQLite: 0. See the module docstring.
    Column("transaction_id", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    Index("ix_events_recorded_at", "recorded_at"),
    Index("ix_events_log_order", "transaction_id", "global_position"),
    Index("ix_events_type_log_order", "type", "transaction_id", "global_position"),
    sqlite_autoincrement=True,
)


def to_recorded(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        global_position=row.global_position,
        transaction_id=row.transaction_id,
        stream_id=row.stream_id,
        version=row.version,
        event_id=row.event_id,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
    )


def _row(stream_id: str, version: int, event: NewEvent, recorded_at: datetime) -> dict[str, Any]:
    return {
        "stream_id": stream_id,
        "version": version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": recorded_at,
    }


async def stream_version(connection: AsyncConnection, stream_id: str) -> int:
    result = await connection.execute(
        select(func.coalesce(func.max(events.c.version), 0)).where(events.c.stream_id == stream_id)
    )
    return int(result.scalar_one())


async def lock_stream(connection: AsyncConnection, stream_id: str) -> None:
    """Hold the stream's lock until the transaction ends (re-entrant; SQLite: a no-op,
    since ``BEGIN IMMEDIATE`` already holds the database's single write lock).

    Appends to the stream take it, so writers of one stream queue instead of failing on
    the version; a writer that lost a race takes it before reading again, so that its
    second decision rests on a state nobody can change underneath it. Other streams
    are not held up."""
    await lock_streams(connection, [stream_id])


async def lock_streams(connection: AsyncConnection, stream_ids: Sequence[str]) -> None:
    """``lock_stream`` for each of ``stream_ids`` in one statement, taken in one order
    (sorted), so two writers of overlapping sets queue instead of deadlocking."""
    if connection.dialect.name == "postgresql" and stream_ids:
        await connection.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(stream, 0)) "
                "FROM (SELECT unnest(CAST(:streams AS text[])) AS stream ORDER BY 1) AS ordered"
            ),
            {"streams": list(stream_ids)},
        )


async def append_events(
    connection: AsyncConnection,
    stream_id: str,
    expected_version: int,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
    *,
    verify: bool = True,
) -> list[RecordedEvent]:
    """Append inside the caller's transaction, so other rows can commit with the events.

    The caller decided on the stream at ``expected_version``; if another writer got
    there first the insert violates (stream_id, version) and ``ConcurrencyError`` says
    so (its ``actual_version`` is unknown inside the aborted transaction). ``verify``
    also refuses an expected version *ahead* of the stream; a caller that has just read
    the stream in this transaction can skip that round trip (``verify=False``)."""
    if not new_events:
        return []
    if verify:
        actual = await stream_version(connection, stream_id)
        if actual != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual)
    rows = [
        _row(stream_id, expected_version + offset, event, recorded_at)
        for offset, event in enumerate(new_events, start=1)
    ]
    try:
        return await _inserted(connection, rows)
    except IntegrityError as error:
        # The unique (stream_id, version) decides races: the first writer of a version
        # wins, a concurrent one waits for it and then fails here. No lock, no read first.
        raise ConcurrencyError(stream_id, expected_version, None) from error


async def _inserted(connection: AsyncConnection, rows: list[dict[str, Any]]) -> list[RecordedEvent]:
    result = await connection.execute(
        insert(events).returning(
            events.c.global_position, events.c.transaction_id, sort_by_parameter_order=True
        ),
        rows,
    )
    return [
        RecordedEvent(
            **row, global_position=stored.global_position, transaction_id=stored.transaction_id
        )
        for row, stored in zip(rows, result, strict=True)
    ]


async def append_at_end(
    connection: AsyncConnection,
    stream_id: str,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Append after whatever the stream holds: for streams with a single writer, whose
    decisions do not depend on the stream's own history (a watcher's verdicts)."""
    return await append_at_ends(connection, [(stream_id, new_events)], recorded_at)


async def append_at_ends(
    connection: AsyncConnection,
    appends: Sequence[tuple[str, Sequence[NewEvent]]],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """``append_at_end`` for many streams in three statements whatever their number: the
    streams' locks (``lock_streams``), their versions read under them, and one insert
    (a watcher announcing a few hundred verdicts at once spent three round trips on
    each before). Only a writer that skips the lock can still take a version first:
    ``ConcurrencyError`` then names the first of the streams."""
    wanted: dict[str, list[NewEvent]] = {}
    for stream_id, new_events in appends:
        wanted.setdefault(stream_id, []).extend(new_events)
    streams = sorted(stream for stream, new_events in wanted.items() if new_events)
    if not streams:
        return []
    await lock_streams(connection, streams)
    versions = dict(
        (
            await connection.execute(
                select(events.c.stream_id, func.max(events.c.version))
                .where(events.c.stream_id.in_(streams))
                .group_by(events.c.stream_id)
            )
        ).all()
    )
    rows = [
        _row(stream, versions.get(stream, 0) + offset, event, recorded_at)
        for stream in streams
        for offset, event in enumerate(wanted[stream], start=1)
    ]
    try:
        return await _inserted(connection, rows)
    except IntegrityError as error:
        raise ConcurrencyError(streams[0], versions.get(streams[0], 0), None) from error


async def read_stream(
    connection: AsyncConnection,
    stream_id: str,
    *,
    up_to_version: int | None = None,
    up_to_time: datetime | None = None,
    after_version: int = 0,
) -> list[RecordedEvent]:
    query = select(events).where(events.c.stream_id == stream_id)
    if after_version:
        query = query.where(events.c.version > after_version)
    if up_to_version is not None:
        query = query.where(events.c.version <= up_to_version)
    if up_to_time is not None:
        query = query.where(events.c.recorded_at <= up_to_time)
    result = await connection.execute(query.order_by(events.c.version))
    return [to_recorded(row) for row in result]


async def read_all(
    connection: AsyncConnection,
    after: LogCursor = LogCursor.START,
    limit: int = 1000,
    types: Collection[str] | None = None,
) -> list[RecordedEvent]:
    """The log after ``after``, in log order, only as far as nothing can still change;
    ``types`` keeps only those event types (an index serves it, so a follower of a few
    types does not wade through everyone else's events)."""
    query = select(events)
    if types is not None:
        query = query.where(events.c.type.in_(list(types)))
    if connection.dialect.name == "postgresql":
        settled = text("txid_snapshot_xmin(txid_current_snapshot())")
        query = query.where(
            tuple_(events.c.transaction_id, events.c.global_position)
            > tuple_(after.transaction_id, after.global_position),
            events.c.transaction_id < settled,
        ).order_by(events.c.transaction_id, events.c.global_position)
    else:
        query = query.where(events.c.global_position > after.global_position).order_by(
            events.c.global_position
        )
    result = await connection.execute(query.limit(limit))
    return [to_recorded(row) for row in result]


async def log_end(connection: AsyncConnection) -> LogCursor:
    """The cursor of the last event in log order (the start when the log is empty)."""
    row = (
        await connection.execute(
            select(events.c.transaction_id, events.c.global_position)
            .order_by(events.c.transaction_id.desc(), events.c.global_position.desc())
            .limit(1)
        )
    ).first()
    return LogCursor(row.transaction_id, row.global_position) if row else LogCursor.START
