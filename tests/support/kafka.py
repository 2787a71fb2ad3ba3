"""Helpers to read a topic back in tests: a group-less consumer that starts at once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from aftercare.broker import EmbeddedBroker
from aftercare.cloudevents import CloudEvent, from_kafka, to_kafka
from aftercare.kafka_connection import KafkaConnection, KafkaTarget
from aftercare.relay import OutboxRelay


async def read_topic(
    bootstrap: str, topic: str, expect: int, within: float = 20.0
) -> list[tuple[int, CloudEvent]]:
    """(partition, event) for the first ``expect`` messages, in each partition's order."""
    return [
        (record.partition, from_kafka(list(record.headers), record.value))
        for record in await read_raw(bootstrap, topic, expect, within)
    ]


async def eventually(
    condition: Callable[[], bool], within: float = 20.0, message: str = "condition"
) -> None:
    """Wait until ``condition()`` holds (broker work is asynchronous), failing after ``within``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{message} did not happen within {within} s")
        await asyncio.sleep(0.02)


async def relay_until(relay: OutboxRelay, published: int, message: str) -> None:
    """Run ``relay`` until it has published ``published`` events, then stop it."""
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: relay.stats.published >= published, 30, message)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def publish(bootstrap: str, topic: str, events: list[CloudEvent]) -> None:
    """Send CloudEvents keyed by subject, as the relay does."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            headers, value = to_kafka(event)
            await producer.send_and_wait(
                topic, value=value, key=event.subject.encode(), headers=headers
            )
    finally:
        await producer.stop()


async def read_raw(
    bootstrap: KafkaTarget, topic: str, expect: int, within: float = 20.0
) -> list[ConsumerRecord]:
    """The first ``expect`` raw records of ``topic`` (all partitions)."""
    return await read_raw_until(bootstrap, topic, lambda found: len(found) >= expect, within)


async def read_topic_until(
    bootstrap: str,
    topic: str,
    enough: Callable[[list[tuple[int, CloudEvent]]], bool],
    within: float = 20.0,
) -> list[tuple[int, CloudEvent]]:
    """(partition, event) from the start of ``topic`` until ``enough`` says so (or time
    is up): for a topic that may hold an event twice (at-least-once), where a count of
    records says nothing about which events arrived."""

    def decoded(records: list[ConsumerRecord]) -> list[tuple[int, CloudEvent]]:
        return [(r.partition, from_kafka(list(r.headers), r.value)) for r in records]

    records = await read_raw_until(bootstrap, topic, lambda found: enough(decoded(found)), within)
    return decoded(records)


async def read_raw_until(
    bootstrap: KafkaTarget,
    topic: str,
    enough: Callable[[list[ConsumerRecord]], bool],
    within: float = 20.0,
) -> list[ConsumerRecord]:
    """Raw records of ``topic`` (all partitions) from the start until ``enough``."""
    consumer = AIOKafkaConsumer(
        **KafkaConnection.of(bootstrap).client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not enough(found) and loop.time() < deadline:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(messages)
        return found
    finally:
        await consumer.stop()


@contextmanager
def frozen(broker: EmbeddedBroker) -> Iterator[None]:
    """An outage that loses nothing: the broker stopped (SIGSTOP) and resumed (SIGCONT); a
    restart would empty the memory-only broker instead."""
    assert broker.process is not None
    broker.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        broker.process.send_signal(signal.SIGCONT)
