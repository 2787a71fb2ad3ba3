"""How far a consumer group has applied its topics, all of its members together.

A member knows only the partitions it owns. Whatever judges the whole projection (the
reporting service's alarms and scheduled reports) needs to know that every member has
read to the end: a rebuild by several members, or one member still catching up after a
restart, must not be mistaken for the figures. The group's committed offsets come from
the group coordinator; each partition's end from the high-water mark of a fetch by a
reader outside the group (ListOffsets answers are not trusted: the embedded broker's
are wrong, and a fetch gives the same figure on any Kafka)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from aftercare.kafka_connection import KafkaConnection, KafkaTarget

Marks = dict[TopicPartition, int]


class GroupProgress:
    def __init__(self, kafka: KafkaTarget, group_id: str, topics: Sequence[str]) -> None:
        self.kafka = KafkaConnection.of(kafka)
        self.group_id = group_id
        self.topics = list(topics)
        self._admin: AIOKafkaAdminClient | None = None

    async def ends(self) -> Marks | None:
        """Each partition's high-water mark now; None while a topic's partitions are
        not known yet (nothing can be said of a log whose size is unknown). A reader of
        its own each time: a mark is never one remembered from an earlier fetch."""
        reader = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            fetch_max_wait_ms=50,  # an empty partition's answer need not be waited for
        )
        await reader.start()
        try:
            return await self._read_ends(reader)
        finally:
            await reader.stop()

    async def _read_ends(self, reader: AIOKafkaConsumer) -> Marks | None:
        await reader.topics()  # the metadata of every topic
        partitions = []
        for topic in self.topics:
            numbers = reader.partitions_for_topic(topic)
            if not numbers:
                return None
            partitions += [TopicPartition(topic, number) for number in sorted(numbers)]
        reader.assign(partitions)
        for partition, offset in (await self.committed(partitions)).items():
            reader.seek(partition, offset)  # a fetch from there: little to read back
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        marks: Marks = {}
        while len(marks) < len(partitions) and loop.time() < deadline:
            await reader.getmany(timeout_ms=50, max_records=1)
            for partition in partitions:
                mark = reader.highwater(partition)
                if mark is not None:
                    marks[partition] = mark
        return marks if len(marks) == len(partitions) else None

    async def committed(self, partitions: Sequence[TopicPartition]) -> Marks:
        """The group's committed offset of each partition (0 where it has none)."""
        if self._admin is None:
            admin = AIOKafkaAdminClient(**self.kafka.client_options())
            await admin.start()
            self._admin = admin
        offsets = await self._admin.list_consumer_group_offsets(
            self.group_id, partitions=list(partitions)
        )
        return {partition: max(offsets[partition].offset, 0) for partition in partitions}

    async def reached(self, marks: Marks) -> bool:
        """Every partition's committed offset is at or past its mark."""
        committed = await self.committed(list(marks))
        return all(committed[partition] >= mark for partition, mark in marks.items())

    async def caught_up(self, within: float, poll_every: float = 0.5) -> bool:
        """The group applies, within ``within`` seconds, everything the log held now."""
        marks = await self.ends()
        if marks is None:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await self.reached(marks):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(poll_every)
        return True

    async def stop(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            await admin.close()
