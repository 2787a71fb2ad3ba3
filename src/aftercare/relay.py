"""The outbox relay: committed events → Kafka, nothing lost, per-stream order kept.

The event log is the outbox (the notification-log pattern): the relay reads it by
log order past its stored checkpoint, publishes a batch with ``acks=all``, waits for
every acknowledgement, and only then moves the checkpoint. The store hands out only
the part of the log that can no longer change (see ``eventstore.sql``), so reading
"after the checkpoint" never skips a late commit. A failure republishes from the
checkpoint: delivery is at-least-once and consumers de-duplicate by ``ce_id``. Several
relays may run; on PostgreSQL a session advisory lock lets one publish at a time
(SQLite: run one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.cloudevents import CloudEvent, to_kafka
from aftercare.db import DATABASE_ERRORS, one_statement
from aftercare.deadletters import record_dead_letters
from aftercare.eventstore import LogCursor, RecordedEvent, SqlEventStore, StoreUnavailable
from aftercare.eventstore.sql import events
from aftercare.follower import (
    LogFollower,
    relay_checkpoints,
    store_checkpoint,
)
from aftercare.kafka_connection import KafkaConnection, KafkaTarget
from aftercare.metrics import (
    PUBLISH_LAG,
    PUBLISHED,
    RECENT_PUBLISH_LAG,
    RELAY_CHECKPOINT,
    RELAY_FAILURES,
)

log = structlog.get_logger(__name__)

UNPUBLISHABLE: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,  # larger than the producer's or the broker's limit
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    ValueError,  # a stored event that no longer maps to a CloudEvent
    TypeError,
)
"""Failures that publishing the same event again would repeat: set aside, not retried."""

ToCloudEvent = Callable[[RecordedEvent], CloudEvent | None]
"""Maps a stored event to what goes on the wire; ``None`` leaves it off the topic."""


@dataclass
class RelayStats:
    published: int = 0
    failures: int = 0
    lag_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    """Commit → broker acknowledgement of the most recent published events."""


async def restart_relay(engine: AsyncEngine, name: str, types: Collection[str]) -> int:
    """Move relay ``name`` back to the start of the log (its topic lost what it held);
    returns how many events of ``types`` the log holds: it will publish them all again."""
    async with engine.begin() as connection:
        await connection.execute(delete(relay_checkpoints).where(relay_checkpoints.c.name == name))
        count = (
            await connection.execute(
                select(func.count()).select_from(events).where(events.c.type.in_(list(types)))
            )
        ).scalar_one()
    return int(count)


def message_key(cloud_event: CloudEvent, stream_id: str) -> bytes:
    """Keyed by the ticket (the CloudEvent's subject), not by the stream: a ticket's
    verdicts and alerts land in the same partition as its own events on a topic of the
    same size, so a consumer joins them per ticket without repartitioning."""
    return (cloud_event.subject or stream_id).encode()


class OutboxRelay(LogFollower):
    def __init__(
        self,
        engine: AsyncEngine,
        kafka: KafkaTarget,
        topic: str,
        to_cloudevent: ToCloudEvent,
        *,
        name: str = "ticket-events",
        batch_size: int = 500,
        idle_wait: float = 0.05,
        max_backoff: float = 30.0,
        clock: Clock | None = None,
        event_types: Collection[str] | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.event_types = event_types
        self.store = SqlEventStore(engine)
        self.kafka = KafkaConnection.of(kafka)
        self.topic = topic
        self.to_cloudevent = to_cloudevent
        self.name = name
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.max_backoff = max_backoff
        self.clock = clock or SystemClock()
        self.stats = RelayStats()
        RECENT_PUBLISH_LAG.track(name, self.stats.lag_ms)

    # The broker or the database is away: nothing moved, try again later.
    outages = (KafkaError, OSError, TimeoutError, StoreUnavailable, *DATABASE_ERRORS)

    def _producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self.kafka.producer_options(),
            request_timeout_ms=5000,
            linger_ms=2,
        )

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[AIOKafkaProducer]:
        producer = self._producer()
        await producer.start()
        try:
            yield producer
        finally:
            await producer.stop()

    async def step(self, resource: Any, checkpoint: LogCursor) -> LogCursor:
        return await self.publish_batch(resource, checkpoint)

    def failed(self, error: BaseException, retry_in: float) -> None:
        self.stats.failures += 1
        RELAY_FAILURES.labels(self.name).inc()
        log.warning("relay cannot publish; will retry", error=repr(error), retry_in_s=retry_in)

    async def publish_batch(self, producer: AIOKafkaProducer, checkpoint: LogCursor) -> LogCursor:
        """Publish what follows ``checkpoint`` and store the new one, which it returns.

        An event the broker can never take is set aside (see ``aftercare.deadletters``)
        rather than retried for ever; anything else that fails stops the batch, and it
        is published again from the old checkpoint."""
        batch = await self.store.read_all(checkpoint, self.batch_size, self.event_types)
        if not batch:
            return checkpoint
        pending, dead = [], []
        for event in batch:
            try:
                cloud_event = self.to_cloudevent(event)
                if cloud_event is None:
                    continue
                headers, value = to_kafka(cloud_event)
                key = message_key(cloud_event, event.stream_id)
                future = await producer.send(self.topic, value=value, key=key, headers=headers)
            except UNPUBLISHABLE as error:
                dead.append((event, error))
                continue
            pending.append((event, future))
        lag_histogram = PUBLISH_LAG.labels(self.name)
        published = 0
        for index, (event, future) in enumerate(pending):
            try:
                await asyncio.wait_for(future, timeout=30)
            except UNPUBLISHABLE as error:
                dead.append((event, error))
                continue
            except BaseException:
                # The batch will be published again; the rest's outcome no longer matters.
                for _, later in pending[index + 1 :]:
                    later.add_done_callback(_outcome_ignored)
                raise
            published += 1
            lag = (self.clock.now() - event.recorded_at).total_seconds()
            self.stats.lag_ms.append(lag * 1000)
            lag_histogram.observe(lag)
        reached = LogCursor.of(batch[-1])
        now = self.clock.now()
        if dead:  # set aside and passed in one transaction
            async with self.engine.begin() as connection:
                await record_dead_letters(connection, self.name, dead, now)
                await store_checkpoint(connection, self.name, reached, now)
        else:  # one round trip
            async with one_statement(self.engine) as connection:
                await store_checkpoint(connection, self.name, reached, now)
        self.stats.published += published
        PUBLISHED.labels(self.name).inc(published)
        for event, reason in dead:
            log.error(
                "event dead-lettered: the broker cannot take it",
                relay=self.name,
                event_id=str(event.event_id),
                stream_id=event.stream_id,
                version=event.version,
                type=event.type,
                error=type(reason).__name__,
            )
        RELAY_CHECKPOINT.labels(self.name).set(reached.global_position)
        return reached


def _outcome_ignored(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()
