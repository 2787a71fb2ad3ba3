"""The event store port in memory: the same contract as the SQL adapter (the store suite
runs on both), for fast tests of service layers and for tools that need no database.

It behaves like SQLite: one write transaction at a time (the others queue), what a
transaction appends is visible to it at once and to everyone else when it commits, a
rolled-back transaction leaves a hole in the positions. Data goes through JSON on the
way in, as it does on its way into a database, so nothing the caller keeps aliases it.
Every call yields to the event loop once, where a database would make a round trip, so
the interleavings of concurrent callers that the services must survive happen here too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

import orjson

from aftercare.clock import Clock, SystemClock
from aftercare.eventstore.model import ConcurrencyError, LogCursor, NewEvent, RecordedEvent


def _through_json(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return copied


@dataclass
class _Pending:
    events: list[RecordedEvent] = field(default_factory=list)


class MemoryStreamSession:
    """``StreamSession`` over the store's committed events and this transaction's own."""

    def __init__(self, store: MemoryEventStore, pending: _Pending | None) -> None:
        self._store = store
        self._pending = pending

    def _stream(self, stream_id: str) -> list[RecordedEvent]:
        own = [e for e in self._pending.events if e.stream_id == stream_id] if self._pending else []
        return [*self._store.committed_stream(stream_id), *own]

    async def lock(self, stream_id: str) -> None:
        """Nothing to do: a write transaction already holds the store's one write lock."""

    async def stream_version(self, stream_id: str) -> int:
        await asyncio.sleep(0)
        stream = self._stream(stream_id)
        return stream[-1].version if stream else 0

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        up_to_time: datetime | None = None,
        after_version: int = 0,
    ) -> list[RecordedEvent]:
        await asyncio.sleep(0)
        return [
            event
            for event in self._stream(stream_id)
            if event.version > after_version
            and (up_to_version is None or event.version <= up_to_version)
            and (up_to_time is None or event.recorded_at <= up_to_time)
        ]

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        recorded_at: datetime,
        *,
        verify: bool = True,
    ) -> list[RecordedEvent]:
        if not events:
            return []
        if self._pending is None:
            raise RuntimeError("appending outside a write transaction")
        actual = await self.stream_version(stream_id)
        if verify and actual != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual)
        if actual > expected_version:  # as in SQL: the version is taken, the race lost
            raise ConcurrencyError(stream_id, expected_version, None)
        taken = self._store.event_ids() | {e.event_id for e in self._pending.events}
        if any(event.event_id in taken for event in events):
            raise ConcurrencyError(stream_id, expected_version, None)
        recorded = [
            RecordedEvent(
                global_position=self._store.next_position(),
                stream_id=stream_id,
                version=expected_version + offset,
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                data=_through_json(event.data),
                metadata=_through_json(event.metadata),
                recorded_at=recorded_at,
            )
            for offset, event in enumerate(events, start=1)
        ]
        self._pending.events.extend(recorded)
        return recorded

    async def append_at_end(
        self, stream_id: str, events: Sequence[NewEvent], recorded_at: datetime
    ) -> list[RecordedEvent]:
        version = await self.stream_version(stream_id)
        return await self.append(stream_id, version, events, recorded_at)

    async def append_at_ends(
        self, appends: Sequence[tuple[str, Sequence[NewEvent]]], recorded_at: datetime
    ) -> list[RecordedEvent]:
        recorded: list[RecordedEvent] = []
        for stream_id, events in appends:
            recorded += await self.append_at_end(stream_id, events, recorded_at)
        return recorded


class MemoryEventStore:
    """``EventStore`` held in this process's memory."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._ids: set[UUID] = set()
        self._positions = 0
        self._writer = asyncio.Lock()

    def committed_stream(self, stream_id: str) -> list[RecordedEvent]:
        return self._streams.get(stream_id, [])

    def event_ids(self) -> set[UUID]:
        return self._ids

    def next_position(self) -> int:
        self._positions += 1
        return self._positions

    def _commit(self, pending: _Pending) -> None:
        for event in pending.events:
            self._log.append(event)
            self._streams.setdefault(event.stream_id, []).append(event)
            self._ids.add(event.event_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryStreamSession]:
        await asyncio.sleep(0)
        async with self._writer:
            pending = _Pending()
            yield MemoryStreamSession(self, pending)
            self._commit(pending)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[MemoryStreamSession]:
        yield MemoryStreamSession(self, None)

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
        return await MemoryStreamSession(self, None).read_stream(
            stream_id, up_to_version=up_to_version, up_to_time=up_to_time
        )

    async def stream_version(self, stream_id: str) -> int:
        return await MemoryStreamSession(self, None).stream_version(stream_id)

    async def read_all(
        self,
        after: LogCursor = LogCursor.START,
        limit: int = 1000,
        types: Collection[str] | None = None,
    ) -> list[RecordedEvent]:
        # Commit order is log order (one writer at a time); positions rise with it.
        await asyncio.sleep(0)
        chosen = (
            e
            for e in self._log
            if e.global_position > after.global_position and (types is None or e.type in types)
        )
        return list(islice(chosen, limit))

    async def log_end(self) -> LogCursor:
        return LogCursor.of(self._log[-1]) if self._log else LogCursor.START

    async def with_actual_version(self, error: ConcurrencyError) -> ConcurrencyError:
        if error.actual_version is not None:
            return error
        actual = await self.stream_version(error.stream_id)
        return ConcurrencyError(error.stream_id, error.expected_version, actual)
