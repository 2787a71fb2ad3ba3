"""What a consumer remembers and what it gives up on: the ids of the events it applied
(``processed_events``, written in the same transaction as the effects, forgotten after
a while), and the messages it sets aside on ``<topic>.dlq`` with why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Column, Index, MetaData, String, Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import insert_if_absent, transaction
from aftercare.sqltypes import UtcDateTime

DEAD_LETTER_SUFFIX = ".dlq"

metadata = MetaData()
processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(100), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
    Index("ix_processed_events_processed_at", "processed_at"),
)


async def remember(connection: AsyncConnection, row: dict[str, Any]) -> bool:
    """Record an applied event id; False when it was applied before (a redelivery)."""
    return await insert_if_absent(connection, processed_events, row)


async def forget_before(engine: AsyncEngine, consumer: str, before: datetime) -> int:
    """Forget ``consumer``'s applied ids older than ``before``; returns how many."""
    async with transaction(engine) as connection:
        result = await connection.execute(
            delete(processed_events).where(
                processed_events.c.consumer == consumer,
                processed_events.c.processed_at < before,
            )
        )
    return int(result.rowcount or 0)


async def send_to_dead_letters(
    producer: AIOKafkaProducer,
    record: ConsumerRecord,
    error: Exception,
    consumer: str,
    attempts: int,
    now: datetime,
) -> None:
    """The message as it came, with ``dlq_*`` headers saying who gave up, where, and why."""
    headers = [
        *record.headers,
        ("dlq_error", f"{type(error).__name__}: {error}"[:2000].encode()),
        ("dlq_consumer", consumer.encode()),
        ("dlq_original_topic", record.topic.encode()),
        ("dlq_original_partition", str(record.partition).encode()),
        ("dlq_original_offset", str(record.offset).encode()),
        ("dlq_attempts", str(attempts).encode()),
        ("dlq_failed_at", now.isoformat().encode()),
    ]
    await producer.send_and_wait(
        record.topic + DEAD_LETTER_SUFFIX, value=record.value, key=record.key, headers=headers
    )
