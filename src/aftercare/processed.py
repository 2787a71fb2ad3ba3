"""What a consumer remembers and what it gives up on: the ids of the events it applied
(``processed_events``, written in the same transaction as the effects, forgotten after
a while), and the messages it sets aside on ``<topic>.dlq`` with why."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Column, Index, MetaData, String, Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock
from aftercare.cloudevents import NotACloudEvent
from aftercare.consuming import INFRASTRUCTURE, ConsumerStats, ConsumerTuning
from aftercare.db import insert_if_absent, transaction
from aftercare.sqltypes import UtcDateTime

log = structlog.get_logger(__name__)

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


@dataclass(frozen=True)
class Failing:
    """Who is giving up on a message, and how patiently."""

    consumer: str
    tuning: ConsumerTuning
    stats: ConsumerStats
    clock: Clock


async def apply_alone(
    record: ConsumerRecord,
    apply: Callable[[list[ConsumerRecord]], Awaitable[list[bool]]],
    producer: AIOKafkaProducer,
    failing: Failing,
) -> None:
    """A message of a batch that failed, on its own: retried with backoff, then set aside
    on ``<topic>.dlq``; one that is not a CloudEvent at all goes there at once."""
    attempts = failing.tuning.max_attempts
    for attempt in range(1, attempts + 1):
        try:
            [fresh] = await apply([record])
        except INFRASTRUCTURE:
            raise
        except NotACloudEvent as error:
            await _set_aside(record, error, attempt, producer, failing)
            return
        except Exception as error:
            if attempt == attempts:
                await _set_aside(record, error, attempt, producer, failing)
                return
            failing.stats.retried()
            log.warning(
                "handler failed; retrying",
                consumer=failing.consumer,
                topic=record.topic,
                offset=record.offset,
                attempt=attempt,
                error=repr(error),
            )
            delay = failing.tuning.retry_backoff * 2 ** (attempt - 1)
            await asyncio.sleep(min(delay, failing.tuning.max_backoff))
        else:
            failing.stats.applied(int(fresh), int(not fresh))
            return


async def _set_aside(
    record: ConsumerRecord,
    error: Exception,
    attempts: int,
    producer: AIOKafkaProducer,
    failing: Failing,
) -> None:
    now = failing.clock.now()
    await send_to_dead_letters(producer, record, error, failing.consumer, attempts, now)
    failing.stats.set_aside()
    log.error(
        "message dead-lettered",
        consumer=failing.consumer,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        error=repr(error),
    )
