"""The shared idempotent consumer against the real embedded broker and both databases."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.consumer import ConsumerTuning, IdempotentConsumer, TransientError
from aftercare.processed import DEAD_LETTER_SUFFIX, processed_events
from tests.support.kafka import eventually, publish, read_raw

FAST = ConsumerTuning(
    session_timeout_ms=2000, heartbeat_interval_ms=500, max_attempts=3, retry_backoff=0.01
)
effects_metadata = MetaData()
effects = Table(
    "test_consumer_effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("ticket_id", String(100), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
)


@pytest.fixture
async def effects_table(engine: AsyncEngine) -> AsyncEngine:
    """A table for the handler's effects, deliberately without a uniqueness constraint."""
    async with engine.begin() as connection:
        await connection.run_sync(effects_metadata.create_all)
        await connection.execute(effects.delete())
    return engine


def ticket_events(tickets: int, per_ticket: int) -> list[CloudEvent]:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return [
        CloudEvent(
            id=str(uuid.uuid4()),
            source="/aftercare/ticket",
            type="com.aftercare.ticket.ProgressReported.v1",
            time=at,
            subject=f"t-{ticket}",
            sequence=sequence,
            data={"ticket_id": f"t-{ticket}", "message": f"update {sequence}"},
        )
        for sequence in range(1, per_ticket + 1)
        for ticket in range(tickets)
    ]


class RecordingHandler:
    """Writes one effect row per event; fails on demand to exercise retries and the DLQ."""

    def __init__(self, consumer: str, transient_failures: int = 0) -> None:
        self.consumer = consumer
        self.transient_failures = transient_failures
        self.calls = 0

    async def __call__(
        self, connection: AsyncConnection, event: CloudEvent, record: ConsumerRecord
    ) -> None:
        self.calls += 1
        await connection.execute(
            effects.insert().values(
                consumer=self.consumer,
                ticket_id=event.subject,
                sequence=event.sequence,
                event_type=event.type,
            )
        )
        if event.data.get("poison"):
            raise ValueError("cannot apply this event")
        if self.transient_failures:
            self.transient_failures -= 1
            raise TransientError("downstream service unavailable")


async def effect_rows(engine: AsyncEngine, consumer: str) -> list[tuple[str, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(effects.c.ticket_id, effects.c.sequence)
            .where(effects.c.consumer == consumer)
            .order_by(effects.c.id)
        )
        return [(row.ticket_id, row.sequence) for row in rows]


async def count_effects(engine: AsyncEngine, consumer: str) -> int:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(func.count()).select_from(effects).where(effects.c.consumer == consumer)
        )
        return int(result.scalar_one())


@pytest.fixture
async def running() -> AsyncIterator[list[asyncio.Task[Any]]]:
    """Consumer tasks started in a test, cancelled at its end."""
    tasks: list[asyncio.Task[Any]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start(tasks: list[asyncio.Task[Any]], consumer: IdempotentConsumer) -> IdempotentConsumer:
    tasks.append(asyncio.create_task(consumer.run()))
    return consumer


async def test_a_replayed_batch_is_applied_once(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"consumer-{topic}"
    first = ticket_events(tickets=3, per_ticket=4)
    await publish(bootstrap, topic, first)
    handler = RecordingHandler(name)
    consumer = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"group-{topic}", handler, name=name, tuning=FAST
        ),
    )
    await eventually(lambda: consumer.stats.processed == 12, message="first 12 applied")

    # The relay republishes the same batch after a failure, then carries on.
    more = ticket_events(tickets=3, per_ticket=5)[12:]
    await publish(bootstrap, topic, first + more)
    await eventually(lambda: consumer.stats.processed == 15, message="3 new applied")
    await eventually(lambda: consumer.stats.duplicates == 12, message="12 repeats skipped")

    rows = await effect_rows(engine, name)
    assert len(rows) == 15
    for ticket in ("t-0", "t-1", "t-2"):
        assert [seq for tid, seq in rows if tid == ticket] == [1, 2, 3, 4, 5]


async def test_lost_offsets_repeat_no_effect(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    """A consumer that re-reads the topic from the start (offsets lost) applies nothing twice."""
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"consumer-{topic}"
    await publish(bootstrap, topic, ticket_events(tickets=2, per_ticket=3))
    first = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"a-{topic}", RecordingHandler(name), name=name, tuning=FAST
        ),
    )
    await eventually(lambda: first.stats.processed == 6)
    running.pop().cancel()

    again = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"b-{topic}", RecordingHandler(name), name=name, tuning=FAST
        ),
    )
    await eventually(lambda: again.stats.duplicates == 6, message="all 6 recognised")
    assert again.stats.processed == 0
    assert await count_effects(engine, name) == 6


async def test_a_message_that_keeps_failing_goes_to_the_dead_letter_topic(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"consumer-{topic}"
    events = ticket_events(tickets=1, per_ticket=3)
    poison = dataclasses.replace(events[1], data={"poison": True})
    await publish(bootstrap, topic, [events[0], poison, events[2]])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:  # not a CloudEvent at all: no ce_* headers
        await producer.send_and_wait(topic, value=b"garbage", key=b"t-0")
    finally:
        await producer.stop()
    handler = RecordingHandler(name)
    consumer = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"group-{topic}", handler, name=name, tuning=FAST
        ),
    )
    await eventually(lambda: consumer.stats.dead_lettered == 2, message="two dead letters")
    await eventually(lambda: consumer.stats.processed == 2)

    dead = await read_raw(bootstrap, topic + DEAD_LETTER_SUFFIX, expect=2)
    assert len(dead) == 2
    by_value = {record.value: dict(record.headers) for record in dead}
    garbage = by_value[b"garbage"]
    assert garbage["dlq_error"].startswith(b"NotACloudEvent")
    assert garbage["dlq_attempts"] == b"1"
    failing = next(headers for value, headers in by_value.items() if value != b"garbage")
    assert failing["dlq_error"] == b"ValueError: cannot apply this event"
    assert failing["dlq_attempts"] == str(FAST.max_attempts).encode()
    assert failing["ce_id"] == poison.id.encode()
    assert failing["dlq_original_topic"] == topic.encode()
    assert failing["dlq_consumer"] == name.encode()
    assert consumer.stats.retries == FAST.max_attempts - 1
    # The poison's effects were rolled back; its neighbours were applied in order.
    assert await effect_rows(engine, name) == [("t-0", 1), ("t-0", 3)]


async def test_a_transient_failure_is_retried_not_dead_lettered(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"consumer-{topic}"
    await publish(bootstrap, topic, ticket_events(tickets=1, per_ticket=2))
    handler = RecordingHandler(name, transient_failures=FAST.max_attempts + 1)
    consumer = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"group-{topic}", handler, name=name, tuning=FAST
        ),
    )
    await eventually(lambda: consumer.stats.processed == 2, within=30)
    assert consumer.stats.dead_lettered == 0
    assert handler.calls == 2 + FAST.max_attempts + 1, "more failures than max_attempts, no DLQ"
    assert await effect_rows(engine, name) == [("t-0", 1), ("t-0", 2)]


async def test_two_consumers_in_a_group_share_the_partitions_and_apply_each_event_once(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"consumer-{topic}"
    group = f"group-{topic}"
    consumers = [
        start(
            running,
            IdempotentConsumer(
                engine, bootstrap, [topic], group, RecordingHandler(name), name=name, tuning=FAST
            ),
        )
        for _ in range(2)
    ]
    await eventually(
        lambda: (
            all(c.assigned.is_set() and c.assignment for c in consumers)
            and sum(len(c.assignment) for c in consumers) == 4
        ),
        within=30,
        message="both members own partitions",
    )
    assert not consumers[0].assignment & consumers[1].assignment
    await publish(bootstrap, topic, ticket_events(tickets=8, per_ticket=3))
    await eventually(lambda: sum(c.stats.processed for c in consumers) == 24)
    assert all(c.stats.processed for c in consumers), "work was shared"

    # One member leaves: the other takes over its partitions and carries on.
    running[1].cancel()
    await eventually(lambda: len(consumers[0].assignment) == 4, within=30, message="takeover")
    await publish(bootstrap, topic, ticket_events(tickets=8, per_ticket=4)[24:])
    await eventually(lambda: consumers[0].stats.processed + consumers[1].stats.processed == 32)
    rows = await effect_rows(engine, name)
    assert len(rows) == len(set(rows)) == 32


async def test_applied_event_ids_are_forgotten_after_the_retention(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """The de-duplication table does not grow for ever: ids older than ``remember_for``
    (longer than the topic keeps messages) go, other consumers' ids stay."""
    consumer = IdempotentConsumer(
        engine, "unused:9092", ["t"], "g", RecordingHandler("c"), name="mine", clock=clock
    )
    now = clock.now()
    rows = [
        {"consumer": "mine", "event_id": "old", "processed_at": now - timedelta(days=31)},
        {"consumer": "mine", "event_id": "recent", "processed_at": now - timedelta(days=29)},
        {"consumer": "theirs", "event_id": "old", "processed_at": now - timedelta(days=31)},
    ]
    async with engine.begin() as connection:
        await connection.execute(processed_events.insert(), rows)
    assert await consumer.prune() == 1
    async with engine.connect() as connection:
        left = {
            (row.consumer, row.event_id)
            for row in await connection.execute(select(processed_events))
        }
    assert left == {("mine", "recent"), ("theirs", "old")}


async def test_a_keyed_projection_gets_whole_batches_and_still_sets_poison_aside(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    """With a keyed handler the consumer hands over whole batches and records no
    processed_events rows (the projection keys its rows by the events themselves); a
    message that fails the batch is retried alone and dead-lettered alone."""
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"keyed-{topic}"
    events = ticket_events(tickets=4, per_ticket=5)
    poison = dataclasses.replace(events[7], data={"poison": True})
    await publish(bootstrap, topic, [*events[:7], poison, *events[8:]])
    batches: list[int] = []
    seen: set[tuple[str, int | None]] = set()

    async def keyed(connection: AsyncConnection, batch: list[CloudEvent]) -> None:
        batches.append(len(batch))
        for event in batch:
            if event.data.get("poison"):
                raise ValueError("cannot apply this event")
        fresh = [e for e in batch if (e.subject, e.sequence) not in seen]
        for event in fresh:
            await connection.execute(
                effects.insert().values(
                    consumer=name,
                    ticket_id=event.subject,
                    sequence=event.sequence,
                    event_type=event.type,
                )
            )
        seen.update((e.subject, e.sequence) for e in fresh)

    consumer = start(
        running,
        IdempotentConsumer(
            engine,
            bootstrap,
            [topic],
            f"group-{topic}",
            RecordingHandler(name),
            name=name,
            tuning=FAST,
            keyed=keyed,
        ),
    )
    await eventually(lambda: consumer.stats.dead_lettered == 1, message="one dead letter")
    await eventually(lambda: consumer.stats.processed == 19, message="the rest applied")
    assert max(batches) > 1  # whole batches, not one event at a time
    assert sorted(await effect_rows(engine, name)) == sorted(
        (e.subject, e.sequence) for e in events if e.id != events[7].id
    )
    async with engine.connect() as connection:
        remembered = await connection.execute(
            select(func.count())
            .select_from(processed_events)
            .where(processed_events.c.consumer == name)
        )
    assert remembered.scalar_one() == 0


async def test_the_lag_of_each_owned_partition_is_measured(
    effects_table: AsyncEngine,
    broker: EmbeddedBroker,
    topic: str,
    running: list[asyncio.Task[Any]],
) -> None:
    """What the operators' consumer-lag panel and alert read: events on an owned
    partition not applied yet; none once the member has caught up."""
    engine, bootstrap = effects_table, broker.bootstrap_servers
    name = f"lagging-{topic}"
    await publish(bootstrap, topic, ticket_events(tickets=4, per_ticket=3))
    consumer = start(
        running,
        IdempotentConsumer(
            engine, bootstrap, [topic], f"group-{topic}", RecordingHandler(name), name=name,
            tuning=FAST,
        ),
    )  # fmt: skip
    await eventually(lambda: consumer.stats.processed == 12, message="all applied")

    def lag() -> dict[str, float]:
        return {
            sample.labels["partition"]: sample.value
            for family in REGISTRY.collect()
            if family.name == "aftercare_consumer_lag"
            for sample in family.samples
            if sample.labels["consumer"] == name
        }

    await eventually(lambda: len(lag()) == 4, message="every owned partition measured")
    await eventually(lambda: set(lag().values()) == {0.0}, message="caught up")
