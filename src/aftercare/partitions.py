"""The partitions one consumer-group member owns and how far it has read each: what
decides whether state kept per partition (the SLA watcher's timers) may be acted on,
and what the consumer-lag metric reports. Both read the same two figures: the member's
position after its last poll and the broker's high-water mark."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.structs import TopicPartition

from aftercare.metrics import CONSUMER_LAG

HighWater = Callable[[TopicPartition], "int | None"]


class OwnedPartitions:
    def __init__(self, name: str) -> None:
        self.name = name
        self.assignment: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}

    def assign(self, partitions: set[TopicPartition]) -> None:
        self.assignment = set(partitions)

    def revoke(self, partitions: set[TopicPartition]) -> None:
        self.assignment -= partitions
        for partition in partitions:
            self._positions.pop(partition, None)

    def clear(self) -> None:
        self.assignment = set()
        self._positions.clear()

    def read_to(self, partition: TopicPartition, position: int, highwater: int | None) -> None:
        """Where the member stands on ``partition`` after a poll; the lag is reported."""
        self._positions[partition] = position
        if highwater is not None:
            lag = CONSUMER_LAG.labels(self.name, partition.topic, str(partition.partition))
            lag.set(max(0, highwater - position))

    def caught_up(self, partition: TopicPartition, highwater: HighWater) -> bool:
        """Everything the broker had for ``partition`` (its high-water mark now: a message
        fetched since the last poll counts) has been applied."""
        if partition not in self.assignment:
            return False
        mark, position = highwater(partition), self._positions.get(partition)
        return mark is not None and position is not None and position >= mark

    def owned(self) -> list[int]:
        return sorted(tp.partition for tp in self.assignment)

    def settled(self, highwater: HighWater) -> list[int]:
        return [tp.partition for tp in sorted(self.assignment) if self.caught_up(tp, highwater)]
