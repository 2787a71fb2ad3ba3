"""The topics the system uses: created for the embedded broker, only verified in production.

On a production cluster the platform owns the topics (a ``KafkaTopic`` per topic under
Strimzi, with its partitions, replicas and retention), and brokers run with topic
auto-creation off. A service that created a missing topic there would make it with
whatever it guessed; one that ran on a topic with the wrong partition count would key
tickets to other partitions than its peers expect. So at start-up each part checks the
topics it will use and refuses to start, naming every difference, unless it was told to
create them (the embedded broker, a developer's Kafka).

One quirk of the embedded broker shapes the checks: a metadata request that names an
unknown topic creates it, so only topics already listed are ever described.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from aftercare.kafka_connection import KafkaConnection, KafkaTarget


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = 4
    replication: int = 1
    setting: str | None = "AFTERCARE_TOPIC_PARTITIONS"
    """The setting an operator changes when the partition count differs; None when any
    count will do (a dead-letter topic, read whole)."""


class TopicsNotReady(RuntimeError):
    """The topics are missing or differ from the settings; every problem is listed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def topic_problems(
    wanted: Sequence[TopicSpec], described: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[str]:
    """What differs between the topics ``wanted`` and those ``described`` (each topic's
    partitions as the admin API reports them: ``partition`` and ``replicas``)."""
    problems = []
    for topic in wanted:
        partitions = described.get(topic.name)
        if partitions is None:
            problems.append(
                f"topic {topic.name} does not exist: create it with {topic.partitions} "
                f"partition(s) and {topic.replication} replica(s) (deploy/kubernetes/"
                "topics.yaml), or set AFTERCARE_KAFKA_CREATE_TOPICS=true on a development "
                "Kafka"
            )
            continue
        if topic.setting is not None and len(partitions) != topic.partitions:
            problems.append(
                f"topic {topic.name} has {len(partitions)} partition(s) but {topic.setting} "
                f"says {topic.partitions}: set {topic.setting}={len(partitions)} (the "
                "partition count decides which partition each ticket's events go to)"
            )
        thin = sorted(
            int(partition["partition"])
            for partition in partitions
            if len(partition.get("replicas", ())) < topic.replication
        )
        if thin:
            problems.append(
                f"topic {topic.name} has fewer than {topic.replication} replicas on "
                f"partition(s) {', '.join(map(str, thin))} "
                "(AFTERCARE_KAFKA_REPLICATION_FACTOR): a broker's loss could lose events"
            )
    return problems


async def _admin(target: KafkaTarget) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(**KafkaConnection.of(target).client_options())
    await admin.start()
    return admin


async def ensure_topics(target: KafkaTarget, topics: Sequence[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = await _admin(target)
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        topic.name,
                        num_partitions=topic.partitions,
                        replication_factor=topic.replication,
                    )
                    for topic in missing
                ]
            )
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def verify_topics(target: KafkaTarget, topics: Sequence[TopicSpec]) -> None:
    """Raise ``TopicsNotReady`` unless every topic exists as ``topics`` describe it."""
    admin = await _admin(target)
    try:
        existing = set(await admin.list_topics())
        present = [topic.name for topic in topics if topic.name in existing]
        described = await admin.describe_topics(present) if present else []
    finally:
        await admin.close()
    partitions = {
        str(topic["topic"]): list(topic["partitions"])
        for topic in described
        if topic.get("error_code", 0) == 0
    }
    problems = topic_problems(topics, partitions)
    if problems:
        raise TopicsNotReady(problems)


async def prepare_topics(
    target: KafkaTarget, topics: Sequence[TopicSpec], *, create: bool
) -> list[str]:
    """Create what is missing (``create``), or verify; returns the names created."""
    if create:
        return await ensure_topics(target, topics)
    await verify_topics(target, topics)
    return []
