"""Helpers to read a topic back in tests: a group-less consumer that starts at once."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from aftercare.cloudevents import CloudEvent, from_kafka


async def read_topic(
    bootstrap: str, topic: str, expect: int, within: float = 20.0
) -> list[tuple[int, CloudEvent]]:
    """(partition, event) for the first ``expect`` messages, in each partition's order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        found: list[tuple[int, CloudEvent]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(found) < expect and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for partition, messages in batches.items():
                for message in messages:
                    found.append(
                        (partition.partition, from_kafka(list(message.headers), message.value))
                    )
        return found
    finally:
        await consumer.stop()
