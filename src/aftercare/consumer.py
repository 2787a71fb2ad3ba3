"""The idempotent consumer the services build on: at-least-once in, effects applied once.

Kafka redelivers (a relay republishes after a failure, a consumer restarts before its
commit, a rebalance moves a partition). So each consumer records the ``ce_id`` of every
event it applied in ``processed_events``, in the same database transaction as the
effects of the handler: an event either left its effects and its id, or neither.
Offsets are committed only after that transaction, so a crash repeats work (and the
repeat is skipped) but never loses it.

A message that keeps failing goes to ``<topic>.dlq`` with the error in its headers,
and the partition moves on; infrastructure failures (database or broker unreachable,
``TransientError``) are retried for ever instead, because the message is not at fault.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.applying import RecordApplier
from aftercare.clock import Clock, SystemClock
from aftercare.consuming import (
    INFRASTRUCTURE,
    BetweenPolls,
    ConsumerStats,
    ConsumerTuning,
    Handler,
    KeyedHandler,
    PartitionsChanged,
    Rebalance,
    TransientError,
)
from aftercare.kafka_connection import KafkaConnection, KafkaTarget
from aftercare.partitions import OwnedPartitions
from aftercare.processed import forget_before
from aftercare.shutdown import finish_in_hand

log = structlog.get_logger(__name__)


class IdempotentConsumer:
    def __init__(
        self,
        engine: AsyncEngine,
        kafka: KafkaTarget,
        topics: Sequence[str],
        group_id: str,
        handler: Handler | None,
        *,
        name: str | None = None,
        tuning: ConsumerTuning | None = None,
        clock: Clock | None = None,
        on_assigned: PartitionsChanged | None = None,
        on_revoked: PartitionsChanged | None = None,
        between_polls: BetweenPolls | None = None,
        keyed: KeyedHandler | None = None,
    ) -> None:
        self.engine = engine
        self.kafka = KafkaConnection.of(kafka)
        self.topics = list(topics)
        self.group_id = group_id
        self.name = name or group_id
        self.tuning = tuning or ConsumerTuning()
        self.clock = clock or SystemClock()
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.between_polls = between_polls
        self.stats = ConsumerStats(self.name)
        self.applier = RecordApplier(
            engine, self.name, handler, keyed, self.tuning, self.clock, self.stats
        )
        self.partitions = OwnedPartitions(self.name)
        self.assigned = asyncio.Event()
        """Set once the group has given this consumer its partitions."""
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._uncommitted: dict[TopicPartition, int] = {}
        self._pruned_at: datetime | None = None

    async def run(self) -> None:
        """Consume for ever, recovering from broker and database outages; returns when cancelled."""
        backoff = self.tuning.retry_backoff
        while True:
            try:
                await self._start()
                try:
                    wait = self.tuning.max_wait
                    while True:
                        await self.poll(timeout_ms=int(wait * 1000))
                        backoff = self.tuning.retry_backoff
                        wait = self.tuning.max_wait
                        if self.between_polls is not None:
                            wanted = await self.between_polls()
                            if wanted is not None:
                                wait = min(wait, max(wanted, 0.0))
                        await self._prune_now_and_then()
                finally:
                    await self._stop()
            except INFRASTRUCTURE as error:
                log.warning(
                    "consumer cannot make progress; will retry",
                    consumer=self.name,
                    error=repr(error),
                    retry_in_s=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2 or 0.1, self.tuning.max_backoff)

    async def poll(self, timeout_ms: int = 500) -> int:
        """Fetch one batch, apply it, commit its offsets; returns how many messages came."""
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(
            timeout_ms=timeout_ms, max_records=self.tuning.max_batch
        )
        # A batch fetched is applied and committed even if the part is stopping meanwhile
        # (an empty poll has nothing in hand: no task for it).
        if batches or self._uncommitted:
            await finish_in_hand(self._apply_and_commit(batches))
        for partition in self.assignment:
            position = await self._consumer.position(partition)
            self.partitions.read_to(partition, position, self._consumer.highwater(partition))
        return sum(len(records) for records in batches.values())

    async def _apply_and_commit(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        await self._apply_batches(batches)
        await self._commit(set(self._uncommitted))

    async def prune(self) -> int:
        """Forget applied event ids older than ``remember_for``; returns how many."""
        return await forget_before(
            self.engine, self.name, self.clock.now() - self.tuning.remember_for
        )

    async def _prune_now_and_then(self) -> None:
        now = self.clock.now()
        if self._pruned_at is None or now - self._pruned_at >= self.tuning.prune_every:
            self._pruned_at = now
            forgotten = await self.prune()
            if forgotten:
                log.info("forgot old applied event ids", consumer=self.name, count=forgotten)

    @property
    def assignment(self) -> set[TopicPartition]:
        return self.partitions.assignment

    def owned_partitions(self) -> list[int]:
        """Partition numbers this member holds now (of its single topic)."""
        return self.partitions.owned()

    def settled_partitions(self) -> list[int]:
        """Owned partitions read to the end: state kept per partition (timers) can be
        acted on without a message still on its way overtaking the action."""
        if self._consumer is None:
            return []
        return self.partitions.settled(self._consumer.highwater)

    def caught_up(self, partition: TopicPartition) -> bool:
        return self._consumer is not None and self.partitions.caught_up(
            partition, self._consumer.highwater
        )

    async def _start(self) -> None:
        # The dead-letter topics (``<topic>.dlq``) are prepared with the others at start-up.
        self._producer = AIOKafkaProducer(**self.kafka.producer_options())
        self._consumer = AIOKafkaConsumer(
            **self.kafka.consumer_options(),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.tuning.session_timeout_ms,
            heartbeat_interval_ms=self.tuning.heartbeat_interval_ms,
        )
        self.applier.dead_letters = self._producer
        try:
            await self._producer.start()
            self._consumer.subscribe(self.topics, listener=Rebalance(self._revoked, self._assigned))
            await self._consumer.start()
        except BaseException:
            await self._stop()
            raise

    async def _stop(self) -> None:
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = self.applier.dead_letters = None
        self._uncommitted.clear()
        self.partitions.clear()
        self.assigned.clear()
        for client in (consumer, producer):
            if client is not None:
                with contextlib.suppress(KafkaError, OSError):
                    await client.stop()

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        """Commit what was applied before the partitions move, then forget them."""
        try:
            await self._commit(revoked)
        except KafkaError as error:  # the new owner re-reads; processed_events skips repeats
            log.warning("commit on revoke failed", consumer=self.name, error=repr(error))
        self.partitions.revoke(revoked)
        if self.on_revoked is not None:
            await self.on_revoked(revoked)

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        self.partitions.assign(assigned)
        if self.on_assigned is not None:
            await self.on_assigned(assigned)
        self.assigned.set()

    async def _apply_batches(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Each partition's batch in order; with ``concurrent_partitions``, the partitions
        side by side (each in its own transaction), so one's database round trips overlap
        the others' work. A failure is raised once every partition has finished; those
        that were applied are committed with the next poll."""
        if not self.tuning.concurrent_partitions or len(batches) < 2:
            for partition, records in batches.items():
                await self.applier.apply_partition(records)
                self._uncommitted[partition] = records[-1].offset + 1
            return
        outcomes = await asyncio.gather(
            *(self.applier.apply_partition(records) for records in batches.values()),
            return_exceptions=True,
        )
        for (partition, records), outcome in zip(batches.items(), outcomes, strict=True):
            if not isinstance(outcome, BaseException):
                self._uncommitted[partition] = records[-1].offset + 1
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _commit(self, partitions: Iterable[TopicPartition]) -> None:
        offsets = {tp: self._uncommitted.pop(tp) for tp in partitions if tp in self._uncommitted}
        if offsets and self._consumer is not None:
            await self._consumer.commit(offsets)


__all__ = ["ConsumerStats", "ConsumerTuning", "IdempotentConsumer", "TransientError"]
