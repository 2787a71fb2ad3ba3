"""Applying a partition's records to the database once each: the consumer's other half.

A batch is applied in one transaction, each event's id recorded in ``processed_events``
beside its effects (a repeat is skipped); transient failures are waited out; a batch
that fails for another reason is applied one message at a time, so the message at
fault goes to the dead-letter topic and the rest are applied. ``IdempotentConsumer``
owns the Kafka side: polling, rebalances, offsets.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock
from aftercare.cloudevents import from_kafka
from aftercare.consuming import (
    INFRASTRUCTURE,
    TRANSIENT,
    ConsumerStats,
    ConsumerTuning,
    Handler,
    KeyedHandler,
)
from aftercare.db import transaction
from aftercare.processed import Failing, apply_alone, remember

log = structlog.get_logger(__name__)


class RecordApplier:
    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        handler: Handler | None,
        keyed: KeyedHandler | None,
        tuning: ConsumerTuning,
        clock: Clock,
        stats: ConsumerStats,
    ) -> None:
        if handler is None and keyed is None:
            raise ValueError("a consumer needs a handler or a keyed handler")
        self.engine = engine
        self.name = name
        self.handler = handler
        self.keyed = keyed
        """If given, batches go to it whole instead of one ``handler`` call per event."""
        self.tuning = tuning
        self.clock = clock
        self.stats = stats
        self.failing = Failing(name, tuning, stats, clock)
        self.dead_letters: AIOKafkaProducer | None = None
        """The producer a message at fault is set aside with (the consumer's, while it runs)."""

    async def apply_partition(self, records: list[ConsumerRecord]) -> None:
        """One transaction for the batch; if it fails, one message at a time to find the culprit."""
        try:
            outcomes = await self._in_transaction(records)
        except INFRASTRUCTURE:
            raise
        except Exception:
            for record in records:
                await self._apply_alone(record)
            return
        fresh = sum(outcomes)
        self.stats.applied(fresh, len(outcomes) - fresh)

    async def _in_transaction(self, records: list[ConsumerRecord]) -> list[bool]:
        """Apply ``records`` in one transaction, waiting out transient failures."""
        backoff = self.tuning.retry_backoff
        while True:
            try:
                async with transaction(self.engine) as connection:
                    if self.keyed is not None:
                        return await self._apply_keyed(connection, records)
                    return [await self._apply(connection, record) for record in records]
            except TRANSIENT as error:
                log.warning("transient failure; retrying", consumer=self.name, error=repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.tuning.max_backoff)

    async def _apply_keyed(
        self, connection: AsyncConnection, records: list[ConsumerRecord]
    ) -> list[bool]:
        assert self.keyed is not None
        events = [from_kafka(record.headers, record.value) for record in records]
        await self.keyed(connection, events)
        return [True] * len(records)

    async def _apply(self, connection: AsyncConnection, record: ConsumerRecord) -> bool:
        """Apply one message inside ``connection``'s transaction; False if seen before."""
        event = from_kafka(record.headers, record.value)
        row = {"consumer": self.name, "event_id": event.id, "processed_at": self.clock.now()}
        if not await remember(connection, row):
            return False
        assert self.handler is not None  # without one, every batch goes to ``keyed``
        await self.handler(connection, event, record)
        return True

    async def _apply_alone(self, record: ConsumerRecord) -> None:
        assert self.dead_letters is not None
        await apply_alone(record, self._in_transaction, self.dead_letters, self.failing)
