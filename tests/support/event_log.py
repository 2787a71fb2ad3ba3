"""Every event in the log, committed or not yet settled for followers: on PostgreSQL
``read_all`` holds back what a transaction older than it might still precede (txids are
cluster-wide, so any open transaction on the server can hold a follower back for a
moment). Tests that only want "everything written so far" read it stream by stream."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.eventstore import RecordedEvent, SqlEventStore
from aftercare.eventstore.sql import events


async def every_event(engine: AsyncEngine) -> list[RecordedEvent]:
    async with engine.connect() as connection:
        query = select(events.c.stream_id).distinct()
        streams = [row[0] for row in await connection.execute(query)]
    store = SqlEventStore(engine)
    found = [event for stream in streams for event in await store.read_stream(stream)]
    return sorted(found, key=lambda event: event.global_position)
