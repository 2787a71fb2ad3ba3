"""A decided command stored in one statement on PostgreSQL: one round trip.

A command decided without reading the store (a new ticket, or one this process wrote
last) needs nothing from the database but its writes. As a transaction of separate
statements that is five round trips (BEGIN, the stream's lock, the events, the read
model's row, COMMIT), each with its share of driver and interpreter time; as one
statement run outside an explicit transaction it is one, and just as atomic: a
statement is its own transaction, and a failure anywhere in it leaves nothing behind.

The order inside the statement is the order the other writers rely on: the stream's
advisory lock is an init plan of the events' insert, so it is held before any event row
is made (a writer retrying under the lock after a lost race cannot lose to this one
again); the read model's row is written only after the events (it reads their count);
the idempotency record's primary key and the events' unique (stream, version) turn a
concurrent writer's win into an error that rolls the whole statement back.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import statement_by_statement
from aftercare.eventstore import ConcurrencyError, NewEvent, RecordedEvent
from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_ticket.adapters.repository import after_decided, new_events_of, view_row
from aftercare_ticket.adapters.unit_of_work import DecidedWrite, DuplicateRequest
from aftercare_ticket.domain.ticket import Ticket

VIEW_COLUMNS = (
    "version",
    "state",
    "kind",
    "channel",
    "priority",
    "urgent",
    "customer_ref",
    "assignee",
    "region",
    "subject",
    "requested_at",
    "created_at",
    "updated_at",
    "reopen_count",
)
_VIEW_TYPES = (
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "boolean",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "integer",
)
_FIRST_VIEW = 10  # $1 stream, $2–$6 the events' arrays, $7 metadata, $8 recorded at, $9 summary
_KEY = _FIRST_VIEW + len(VIEW_COLUMNS)

_VIEW_VALUES = ", ".join(
    f"${index}::{kind}" for index, kind in enumerate(_VIEW_TYPES, start=_FIRST_VIEW)
)
_VIEW_UPDATES = ", ".join(f"{column} = excluded.{column}" for column in (*VIEW_COLUMNS, "summary"))

STATEMENT = f"""
WITH locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))
),
appended AS (
    INSERT INTO events
        (stream_id, version, event_id, type, schema_version, data, metadata, recorded_at)
    SELECT $1::text, e.version, e.event_id, e.type, e.schema_version, e.data::jsonb,
           ($7::text)::jsonb, $8::timestamptz
    FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::smallint[], $6::text[])
        AS e(version, event_id, type, schema_version, data)
    WHERE (SELECT count(*) FROM locked) = 1
    RETURNING version, global_position, transaction_id
),
viewed AS (
    INSERT INTO ticket_views (id, {", ".join(VIEW_COLUMNS)}, summary)
    SELECT $1::text, {_VIEW_VALUES}, ($9::text)::jsonb
    FROM (SELECT count(*) AS stored FROM appended) AS a
    WHERE a.stored > 0
    ON CONFLICT (id) DO UPDATE SET {_VIEW_UPDATES}
),
remembered AS (
    INSERT INTO idempotency_keys (key, fingerprint, ticket_id, created_at)
    SELECT ${_KEY}::text, ${_KEY + 1}::text, $1::text, $8::timestamptz
    WHERE ${_KEY}::text IS NOT NULL
)
SELECT version, global_position, transaction_id FROM appended
"""

EVENTS_UNIQUE = "uq_events_stream_version"
KEYS_UNIQUE = "idempotency_keys_pkey"


def parameters(
    write: DecidedWrite, events: list[NewEvent], view: dict[str, Any]
) -> tuple[Any, ...]:
    key, fingerprint = write.idempotency or (None, None)
    return (
        write.ticket.id,
        [write.ticket.version + offset for offset in range(1, len(events) + 1)],
        [event.event_id for event in events],
        [event.type for event in events],
        [event.schema_version for event in events],
        [orjson.dumps(event.data).decode() for event in events],
        orjson.dumps(write.metadata).decode(),
        write.recorded_at,
        orjson.dumps(view["summary"]).decode(),
        *(view[column] for column in VIEW_COLUMNS),
        key,
        fingerprint,
    )


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the unique constraint the driver reported (asyncpg keeps it on the
    exception SQLAlchemy wraps)."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None


async def commit_in_one_statement(
    engine: AsyncEngine, write: DecidedWrite, max_event_bytes: int | None
) -> tuple[Ticket, list[RecordedEvent]]:
    """``TicketStore.commit`` on PostgreSQL (see the module docstring)."""
    if not write.decided:
        raise ValueError("nothing to write")
    events = new_events_of(write.decided, write.metadata, max_event_bytes)
    ticket = after_decided(write.ticket, write.decided, write.recorded_at)
    values = parameters(write, events, view_row(ticket))
    async with outages_as_unavailable(), engine.connect() as connection:
        connection = await statement_by_statement(connection)
        try:
            result = await connection.exec_driver_sql(STATEMENT, values)
        except IntegrityError as error:
            constraint = violated_constraint(error)
            if constraint == KEYS_UNIQUE and write.idempotency:
                raise DuplicateRequest(write.idempotency[0]) from error
            if constraint == EVENTS_UNIQUE:
                raise ConcurrencyError(ticket.id, write.ticket.version, None) from error
            raise
        stored = {row.version: row for row in result}
    recorded = [
        RecordedEvent(
            global_position=stored[version].global_position,
            transaction_id=stored[version].transaction_id,
            stream_id=ticket.id,
            version=version,
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
            recorded_at=write.recorded_at,
        )
        for version, event in enumerate(events, start=write.ticket.version + 1)
    ]
    return ticket, recorded
