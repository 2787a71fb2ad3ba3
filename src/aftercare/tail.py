"""``aftercare tail``: the events on a topic as JSON lines, the first thing an integrator tries.

It reads without a consumer group (nothing to join, nothing committed), so it starts at
once and never disturbs the services' groups. Without ``--from-beginning`` it shows only
messages that arrive after it started: it seeks to the end and also drops anything older
than its start time, because some Kafka-compatible brokers report stale end offsets.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from aftercare.cloudevents import CloudEvent, NotACloudEvent, from_kafka
from aftercare.kafka_connection import KafkaConnection, KafkaTarget


def type_matches(ce_type: str, wanted: Collection[str]) -> bool:
    """``Acknowledged`` matches ``com.aftercare.ticket.Acknowledged.v1``; so does the full type."""
    if not wanted:
        return True
    return ce_type in wanted or any(f".{name}." in ce_type for name in wanted)


def as_json_line(record: ConsumerRecord, event: CloudEvent) -> bytes:
    line: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode() if record.key else None,
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "sequence": event.sequence,
        "time": event.time,
        "dataschema": event.dataschema,
        "data": event.data,
    }
    return orjson.dumps(line) + b"\n"


async def tail(
    kafka: KafkaTarget,
    topic: str,
    *,
    from_beginning: bool = False,
    types: Collection[str] = (),
    max_events: int | None = None,
    until_idle: float | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print matching events until cancelled, ``max_events`` or ``until_idle`` seconds of quiet."""
    connection = KafkaConnection.of(kafka)
    consumer = AIOKafkaConsumer(
        **connection.consumer_options(), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    printed = 0
    try:
        await consumer._client.force_metadata_update()
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            print(f"topic {topic} does not exist on {connection.bootstrap_servers}", file=err)
            return 0
        consumer.assign([TopicPartition(topic, number) for number in partitions])
        started_ms = int(datetime.now(UTC).timestamp() * 1000)
        if from_beginning:
            await consumer.seek_to_beginning()
        else:
            await consumer.seek_to_end()
        print(f"tailing {topic} on {connection.bootstrap_servers}", file=err, flush=True)
        loop = asyncio.get_running_loop()
        last_message = loop.time()
        while max_events is None or printed < max_events:
            batches = await consumer.getmany(timeout_ms=200)
            if not batches:
                if until_idle is not None and loop.time() - last_message >= until_idle:
                    break
                continue
            last_message = loop.time()
            for record in (record for records in batches.values() for record in records):
                if not from_beginning and record.timestamp < started_ms:
                    continue
                try:
                    event = from_kafka(record.headers, record.value)
                except NotACloudEvent as error:
                    print(f"skipped offset {record.offset}: {error}", file=err)
                    continue
                if not type_matches(event.type, types):
                    continue
                out.buffer.write(as_json_line(record, event))
                out.flush()
                printed += 1
                if max_events is not None and printed >= max_events:
                    break
    finally:
        await consumer.stop()
    return printed
