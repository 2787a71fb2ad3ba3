"""The event store contract, one suite for every adapter of the port: SQLite, the real
PostgreSQL, and the in-memory store the service layers' unit tests use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import pytest

from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare.eventstore import (
    ConcurrencyError,
    EventStore,
    LogCursor,
    MemoryEventStore,
    NewEvent,
    RecordedEvent,
    SqlEventStore,
)
from tests.conftest import empty_tables


def _event(n: int) -> NewEvent:
    return NewEvent(type="Noted", data={"n": n}, metadata={"actor": "test"})


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest) -> str:
    """Which adapter: ``memory``, or the URL of the database behind the SQL one."""
    if request.param == "memory":
        return "memory"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def store(adapter: str, clock: FixedClock) -> AsyncIterator[EventStore]:
    """The same test on each adapter of the port."""
    if adapter == "memory":
        yield MemoryEventStore(clock)
        return
    engine = create_engine(adapter)
    await empty_tables(engine)
    try:
        yield SqlEventStore(engine, clock)
    finally:
        await engine.dispose()


async def test_append_then_read_back_in_order(store: EventStore) -> None:
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
    store: EventStore,
) -> None:
    await store.append("s-1", 0, [_event(1)])
    with pytest.raises(ConcurrencyError) as caught:
        await store.append("s-1", 0, [_event(2), _event(3)])
    assert caught.value.actual_version == 1
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", 5, [_event(2)])
    assert [e.data["n"] for e in await store.read_stream("s-1")] == [1]


async def test_duplicate_event_id_writes_nothing(store: EventStore) -> None:
    first = _event(1)
    await store.append("s-1", 0, [first])
    with pytest.raises(ConcurrencyError):
        await store.append("s-2", 0, [_event(2), first])
    assert await store.read_stream("s-2") == []


async def test_read_stream_up_to_version_and_time(store: EventStore, clock: FixedClock) -> None:
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


async def settled(store: EventStore, count: int = 1, within: float = 10.0) -> list[RecordedEvent]:
    """The log once ``count`` committed events are settled for followers: on PostgreSQL
    a transaction open anywhere on the server (txids are cluster-wide) holds them back
    for as long as it lasts."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    found = await store.read_all(limit=10_000)
    while len(found) < count and loop.time() < deadline:
        await asyncio.sleep(0.02)
        found = await store.read_all(limit=10_000)
    return found


async def test_read_all_pages_through_every_stream_in_global_order(
    store: EventStore,
) -> None:
    for i in range(5):
        await store.append(f"s-{i}", 0, [_event(i), _event(i + 100)])
    await settled(store, 10)
    first_page = await store.read_all(LogCursor.START, limit=4)
    rest = await store.read_all(LogCursor.of(first_page[-1]), limit=100)
    everything = first_page + rest
    assert len(everything) == 10
    cursors = [LogCursor.of(e) for e in everything]
    assert cursors == sorted(cursors)
    assert [e.stream_id for e in everything[:2]] == ["s-0", "s-0"]


async def test_fifty_concurrent_appends_one_winner_per_version_none_lost(
    store: EventStore,
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
    store: EventStore, clock: FixedClock
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
        """Takes its position first and commits last: the case that loses events (on a
        single-writer store the others queue behind it instead)."""
        async with store.transaction() as session:
            await session.append("slow", 0, [_event(999)], clock.now())
            await asyncio.sleep(0.3)

    reader = asyncio.create_task(follower())
    slow = asyncio.create_task(slow_committer())
    await asyncio.sleep(0.05)
    await asyncio.gather(*(appender(f"stream-{uuid4()}") for _ in range(10)))
    await slow
    done.set()
    await reader
    everything = await store.read_all(LogCursor.START, limit=10_000)
    assert len(everything) == 101
    assert seen == [LogCursor.of(e) for e in everything]
    assert seen == sorted(seen)


async def test_a_transaction_sees_its_own_appends_and_a_rollback_leaves_none(
    store: EventStore, clock: FixedClock
) -> None:
    class Abandoned(Exception):
        pass

    async def abandoned_transaction() -> None:
        async with store.transaction() as session:
            await session.lock("s-1")
            await session.append("s-1", 0, [_event(1)], clock.now())
            assert await session.stream_version("s-1") == 1
            assert [e.data["n"] for e in await session.read_stream("s-1")] == [1]
            assert await store.read_stream("s-1") == []  # not committed: nobody else sees it
            raise Abandoned

    with pytest.raises(Abandoned):
        await abandoned_transaction()
    assert await store.read_stream("s-1") == []
    assert await store.read_all() == []
    assert await store.log_end() == LogCursor.START

    await store.append("s-1", 0, [_event(2)])
    (kept,) = await settled(store)
    assert (kept.data, kept.version) == ({"n": 2}, 1)
    assert await store.log_end() == LogCursor.of(kept)


async def test_append_at_end_and_unverified_appends(store: EventStore, clock: FixedClock) -> None:
    async with store.transaction() as session:
        await session.append_at_end("verdicts", [_event(1)], clock.now())
        await session.append_at_end("verdicts", [_event(2), _event(3)], clock.now())
    assert [e.version for e in await store.read_stream("verdicts")] == [1, 2, 3]

    # An unverified append trusts the version it was given; only a taken one fails.
    with pytest.raises(ConcurrencyError) as caught:
        async with store.transaction() as session:
            await session.append("verdicts", 2, [_event(4)], clock.now(), verify=False)
    assert (await store.with_actual_version(caught.value)).actual_version == 3
    assert len(await store.read_stream("verdicts")) == 3


async def test_appending_at_the_ends_of_many_streams_at_once(
    store: EventStore, clock: FixedClock
) -> None:
    async with store.transaction() as session:
        await session.append_at_end("verdicts-a", [_event(1), _event(2)], clock.now())
    async with store.transaction() as session:
        recorded = await session.append_at_ends(
            [
                ("verdicts-b", [_event(3)]),  # a new stream
                ("verdicts-a", [_event(4)]),  # after what it holds
                ("verdicts-c", []),  # nothing to add: no stream
                ("verdicts-b", [_event(5), _event(6)]),  # named twice: after the first
            ],
            clock.now(),
        )
    assert sorted((e.stream_id, e.version) for e in recorded) == [
        ("verdicts-a", 3),
        ("verdicts-b", 1),
        ("verdicts-b", 2),
        ("verdicts-b", 3),
    ]
    assert all(e.global_position > 0 for e in recorded)
    assert [e.data["n"] for e in await store.read_stream("verdicts-a")] == [1, 2, 4]
    assert [e.data["n"] for e in await store.read_stream("verdicts-b")] == [3, 5, 6]
    assert await store.read_stream("verdicts-c") == []
    async with store.transaction() as session:
        assert await session.append_at_ends([("verdicts-c", [])], clock.now()) == []


async def test_reading_cannot_append_and_read_all_filters_by_type(
    store: EventStore, clock: FixedClock
) -> None:
    await store.append("s-1", 0, [_event(1), NewEvent(type="Other", data={}), _event(2)])
    await settled(store, 3)
    assert [e.type for e in await store.read_all(types={"Other"})] == ["Other"]
    assert [e.data["n"] for e in await store.read_all(types={"Noted"}, limit=1)] == [1]
    assert await store.stream_version("s-1") == 3
    assert await store.stream_version("nothing") == 0
    with pytest.raises(RuntimeError, match="outside a write transaction"):
        async with store.reading() as session:
            await session.append("s-1", 3, [_event(3)], clock.now())
    assert await store.stream_version("s-1") == 3


async def test_recorded_events_cannot_be_rewritten_or_deleted(
    database_url: str, clock: FixedClock
) -> None:
    """P-RETENTION: complaint records are kept for good; the database itself refuses to
    rewrite the log (and, on PostgreSQL, to delete from it). The in-memory store has no
    operation that could."""
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from aftercare.eventstore.sql import events

    engine = create_engine(database_url)
    await empty_tables(engine)
    try:
        store = SqlEventStore(engine, clock)
        await store.append(
            "complaint-1", 0, [NewEvent(type="RequestRaised", data={"kind": "complaint"})]
        )
        with pytest.raises(DBAPIError, match="P-RETENTION"):
            async with engine.begin() as connection:
                await connection.execute(update(events).values(data={"kind": "support"}))
        if engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="P-RETENTION"):
                async with engine.begin() as connection:
                    await connection.execute(delete(events))
        [kept] = await store.read_stream("complaint-1")
        assert kept.data == {"kind": "complaint"}
    finally:
        await engine.dispose()
