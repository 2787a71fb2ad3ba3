"""What the idempotent consumer is made of besides its loop: the handler's shape, which
failures are not the message's fault, its tuning and counters, and what it does when
partitions move."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from aiokafka import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare.cloudevents import CloudEvent
from aftercare.eventstore import StoreUnavailable
from aftercare.metrics import CONSUMED, CONSUMER_RETRIES

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncConnection, CloudEvent, ConsumerRecord], Awaitable[None]]
"""Applies one event; writes its effects through the given connection (one transaction)."""
KeyedHandler = Callable[[AsyncConnection, list[CloudEvent]], Awaitable[None]]
"""Applies a whole batch at once, for a projection that keeps every event under its own
identity (a redelivered one changes nothing): no ``processed_events`` row is needed."""
PartitionsChanged = Callable[[set[TopicPartition]], Awaitable[None]]
BetweenPolls = Callable[[], Awaitable[float | None]]
"""Work done in the consumer's loop between fetches (timers); returns how soon (seconds)
it wants to run again, which shortens the next fetch's wait."""


class TransientError(Exception):
    """Raised by a handler when something outside the message failed: retry, never DLQ."""


TRANSIENT = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    TimeoutError,
    StoreUnavailable,
    TransientError,
)
"""Retried in place, for ever: the database or a downstream service is away."""
INFRASTRUCTURE = (*TRANSIENT, OSError, KafkaError)
"""Not the message's fault: never a reason to dead-letter it."""


@dataclass
class ConsumerStats:
    """What a consumer did, for tests and logs; the same counts go to Prometheus."""

    name: str = ""
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0

    def applied(self, fresh: int, repeated: int = 0) -> None:
        self.processed += fresh
        self.duplicates += repeated
        if fresh:
            CONSUMED.labels(self.name, "processed").inc(fresh)
        if repeated:
            CONSUMED.labels(self.name, "duplicate").inc(repeated)

    def retried(self) -> None:
        self.retries += 1
        CONSUMER_RETRIES.labels(self.name).inc()

    def set_aside(self) -> None:
        self.dead_lettered += 1
        CONSUMED.labels(self.name, "dead_lettered").inc()


@dataclass(frozen=True)
class ConsumerTuning:
    """Broker timings; the defaults suit Kafka, tests shorten them for the embedded broker."""

    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_batch: int = 500
    concurrent_partitions: bool = False
    """Apply the partitions of a fetch side by side, for a handler whose writes to the
    same key from two partitions serialise themselves (row locks); off by default."""
    max_attempts: int = 5
    retry_backoff: float = 0.2
    max_backoff: float = 10.0
    max_wait: float = 0.5
    """Longest a fetch waits for messages before the loop goes round."""
    remember_for: timedelta = timedelta(days=30)
    """How long applied event ids are kept: longer than the topic keeps messages (a
    redelivery older than that cannot happen), so the table does not grow for ever."""
    prune_every: timedelta = timedelta(hours=1)


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands partition moves to the consumer that owns the subscription."""

    def __init__(self, revoked: PartitionsChanged, assigned: PartitionsChanged) -> None:
        self.revoked = revoked
        self.assigned = assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.assigned(set(assigned))
