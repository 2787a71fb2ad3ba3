"""The event store contract, run against SQLite and the real PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.db import writing
from aftercare.eventstore import (
    ConcurrencyError,
    LogCursor,
    NewEvent,
    SqlEventStore,
    append_events,
)


def _event(n: int) -> NewEvent:
    return NewEvent(type="Noted", data={"n": n}, metadata={"actor": "test"})


@pytest.fixture
def store(engine: AsyncEngine, clock: FixedClock) -> SqlEventStore:
    return SqlEventStore(engine, clock)


async def test_append_then_read_back_in_order(store: SqlEventStore) -> None:
    recorded = await store.append("s-1", 0, [_event(1), _event(2)])
    assert [e.version for e in recorded] == [1, 2]
    more = await store.append("s-1", 2, [_event(3)])
    assert more[0].version == 3

    events = await store.read_stream("s-1")
    assert [e.data["n"] for e in events] == [1, 2, 3]
    assert [e.version for e in events] == [1, 2, 3]
    assert events[0].metadata == {"actor": "test"}
    assert events[0].event_id == recorded[0].event_id
    assert events[0].recorded_at.tzinfo is not None
    assert events[0].global_position < events[1].global_position < events[2].global_position


async def test_stale_expected_version_is_refused_and_nothing_is_written(
    store: SqlEventStore,
) -> None:
    await store.append("s-1", 0, [_event(1)])
    with pytest.raises(ConcurrencyError) as caught:
        await store.append("s-1", 0, [_event(2), _event(3)])
    assert caught.value.actual_version == 1
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", 5, [_event(2)])
    assert [e.data["n"] for e in await store.read_stream("s-1")] == [1]


async def test_duplicate_event_id_writes_nothing(store: SqlEventStore) -> None:
    first = _event(1)
    await store.append("s-1", 0, [first])
    with pytest.raises(ConcurrencyError):
        await store.append("s-2", 0, [_event(2), first])
    assert await store.read_stream("s-2") == []


async def test_read_stream_up_to_version_and_time(store: SqlEventStore, clock: FixedClock) -> None:
    start = clock.now()
    await store.append("s-1", 0, [_event(1)])
    clock.advance(timedelta(minutes=5))
    await store.append("s-1", 1, [_event(2)])
    clock.advance(timedelta(minutes=5))
    await store.append("s-1", 2, [_event(3)])

    assert [e.data["n"] for e in await store.read_stream("s-1", up_to_version=2)] == [1, 2]
    as_of = start + timedelta(minutes=7)
    assert [e.data["n"] for e in await store.read_stream("s-1", up_to_time=as_of)] == [1, 2]
    exactly = start + timedelta(minutes=5)
    assert [e.data["n"] for e in await store.read_stream("s-1", up_to_time=exactly)] == [1, 2]
    before = start - timedelta(seconds=1)
    assert await store.read_stream("s-1", up_to_time=before) == []


async def test_read_all_pages_through_every_stream_in_global_order(
    store: SqlEventStore,
) -> None:
    for i in range(5):
        await store.append(f"s-{i}", 0, [_event(i), _event(i + 100)])
    first_page = await store.read_all(LogCursor.START, limit=4)
    rest = await store.read_all(LogCursor.of(first_page[-1]), limit=100)
    everything = first_page + rest
    assert len(everything) == 10
    cursors = [LogCursor.of(e) for e in everything]
    assert cursors == sorted(cursors)
    assert [e.stream_id for e in everything[:2]] == ["s-0", "s-0"]


async def test_fifty_concurrent_appends_one_winner_per_version_none_lost(
    store: SqlEventStore,
) -> None:
    """50 writers race for one stream: each version has exactly one winner, the losers
    retry from the version they read, and every writer's event ends up stored once."""
    writers = 50
    first_try_winners: dict[int, list[int]] = {}

    async def writer(n: int) -> int:
        attempts = 0
        while True:
            version = await store.stream_version("race")
            attempts += 1
            try:
                await store.append("race", version, [_event(n)])
            except ConcurrencyError:
                await asyncio.sleep(0)
                continue
            first_try_winners.setdefault(version + 1, []).append(n)
            return attempts

    attempts = await asyncio.gather(*(writer(n) for n in range(writers)))

    events = await store.read_stream("race")
    assert [e.version for e in events] == list(range(1, writers + 1))
    assert sorted(e.data["n"] for e in events) == list(range(writers))
    assert all(len(winners) == 1 for winners in first_try_winners.values())
    assert sum(attempts) > writers, "the writers never actually collided"


async def test_a_follower_of_the_log_misses_nothing_under_concurrent_appends(
    store: SqlEventStore,
) -> None:
    """A reader following ``read_all`` sees every event once, in log order, while ten
    writers append in parallel and one transaction commits long after later ones."""
    seen: list[LogCursor] = []
    done = asyncio.Event()

    async def follower() -> None:
        cursor = LogCursor.START
        while True:
            finished = done.is_set()
            batch = await store.read_all(cursor, limit=1000)
            for event in batch:
                seen.append(LogCursor.of(event))
                cursor = LogCursor.of(event)
            if finished and not batch:
                return
            await asyncio.sleep(0)

    async def appender(stream: str) -> None:
        for i in range(10):
            await store.append(stream, i, [_event(i)])

    async def slow_committer() -> None:
        """Takes its position first and commits last: the case that loses events."""
        async with store.engine.connect() as connection:
            connection = await writing(connection)
            async with connection.begin():
                await append_events(connection, "slow", 0, [_event(999)], store.clock.now())
                await asyncio.sleep(0.3)

    reader = asyncio.create_task(follower())
    if store.engine.dialect.name == "postgresql":  # SQLite has one writer at a time
        slow = asyncio.create_task(slow_committer())
        await asyncio.sleep(0.05)
    await asyncio.gather(*(appender(f"stream-{uuid4()}") for _ in range(10)))
    if store.engine.dialect.name == "postgresql":
        await slow
    done.set()
    await reader
    everything = await store.read_all(LogCursor.START, limit=10_000)
    expected = 101 if store.engine.dialect.name == "postgresql" else 100
    assert len(everything) == expected
    assert seen == [LogCursor.of(e) for e in everything]
    assert seen == sorted(seen)
