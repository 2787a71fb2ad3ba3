"""What an operator runs now and then: migrations, rebuilding the ticket list, the events the
relays set aside, and refilling topics that lost what they held."""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from typing import Any

import structlog

from aftercare.clock import SystemClock
from aftercare.processed import DEAD_LETTER_SUFFIX
from aftercare.settings import Settings
from aftercare.topics import TopicSpec
from aftercare_system import SERVICE_PACKAGES

log = structlog.get_logger("aftercare")


async def migrate(settings: Settings) -> None:
    from aftercare.db import create_engine
    from aftercare.migrations import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine, SERVICE_PACKAGES)
    finally:
        await engine.dispose()


async def rebuild_views(settings: Settings) -> int:
    from aftercare.db import create_engine
    from aftercare_ticket.adapters.sql_store import rebuild_views as rebuild

    engine = create_engine(settings.database_url)
    try:
        return await rebuild(engine)
    finally:
        await engine.dispose()


def _relay_routes(settings: Settings) -> dict[str, tuple[str, Any]]:
    """Each relay's topic and event mapping, by relay name (what a replay needs)."""
    from aftercare_reporting.adapters.publishing import quality_cloudevent
    from aftercare_sla.adapters.publishing import sla_cloudevent
    from aftercare_ticket.adapters.publishing import ticket_cloudevent

    return {
        "ticket-events": (settings.ticket_events_topic, ticket_cloudevent),
        "sla-events": (settings.sla_topic, sla_cloudevent),
        "quality-alerts": (settings.quality_topic, quality_cloudevent),
    }


async def dead_letters_command(settings: Settings, replay: bool, ids: list[int]) -> int:
    """List the events the relays set aside; with ``replay``, publish them again."""
    from aiokafka import AIOKafkaProducer

    from aftercare.cloudevents import to_kafka
    from aftercare.db import create_engine
    from aftercare.deadletters import DeadLetter, dead_letters, replay_dead_letters
    from aftercare.eventstore import RecordedEvent
    from aftercare.relay import message_key

    engine = create_engine(settings.database_url)
    try:
        if not replay:
            letters = await dead_letters(engine)
            for letter in letters:
                if not ids or letter.id in ids:
                    print(
                        f"{letter.id}\t{letter.relay}\t{letter.stream_id} v{letter.version}"
                        f"\t{letter.type}\t{letter.dead_at.isoformat()}\t{letter.error}"
                    )
            print(f"{len(letters)} event(s) set aside by the relays", file=sys.stderr)
            return 0
        routes = _relay_routes(settings)
        bootstrap = settings.kafka_bootstrap_servers or settings.embedded_bootstrap_servers
        producer = AIOKafkaProducer(
            **settings.kafka_connection(bootstrap).producer_options(),
            max_request_size=settings.max_request_bytes,
        )
        await producer.start()

        async def republish(letter: DeadLetter, event: RecordedEvent) -> None:
            topic, to_cloudevent = routes[letter.relay]
            cloud_event = to_cloudevent(event)
            if cloud_event is None:
                raise ValueError("this event is not published on the topic")
            headers, value = to_kafka(cloud_event)
            key = message_key(cloud_event, event.stream_id)
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)

        try:
            outcomes = await replay_dead_letters(
                engine, republish, SystemClock().now(), ids or None
            )
        finally:
            await producer.stop()
        for letter, problem in outcomes:
            print(f"{letter.id}\t{letter.stream_id} v{letter.version}\t{problem or 'published'}")
        return 1 if any(problem for _, problem in outcomes) else 0
    finally:
        await engine.dispose()


async def refill_new_topics(settings: Settings, created: Sequence[str]) -> None:
    """A topic that did not exist (a fresh embedded broker keeps nothing) gets the whole log
    again: its relay starts over from the beginning, and consumers de-duplicate by event id."""
    from aftercare.db import create_engine
    from aftercare.relay import restart_relay
    from aftercare_reporting.domain.events import QUALITY_EVENT_TYPES
    from aftercare_sla.adapters.publishing import TOPIC_EVENT_TYPES as SLA_TOPIC_TYPES
    from aftercare_ticket.domain.events import EVENT_TYPES

    relays: dict[str, tuple[str, Collection[str]]] = {
        settings.ticket_events_topic: ("ticket-events", list(EVENT_TYPES)),
        settings.sla_topic: ("sla-events", list(SLA_TOPIC_TYPES)),
        settings.quality_topic: ("quality-alerts", list(QUALITY_EVENT_TYPES)),
    }
    engine = create_engine(settings.database_url)
    try:
        for topic in created:
            if topic in relays:
                count = await restart_relay(engine, *relays[topic])
                if count:
                    print(f"  {topic} is new: republishing {count} events from the log", flush=True)
    finally:
        await engine.dispose()


def topics_of(settings: Settings) -> list[TopicSpec]:
    """Every topic the parts use: the three event topics, and the dead-letter topics of
    the two that are consumed (a message that keeps failing is set aside there)."""
    replication = settings.kafka_topic_replication
    published = (settings.ticket_events_topic, settings.sla_topic, settings.quality_topic)
    consumed = (settings.ticket_events_topic, settings.sla_topic)
    return [
        *(TopicSpec(name, settings.topic_partitions, replication) for name in published),
        *(TopicSpec(name + DEAD_LETTER_SUFFIX, 1, replication, setting=None) for name in consumed),
    ]


async def prepare_system_topics(settings: Settings, bootstrap_servers: str) -> list[str]:
    """Create the topics (embedded broker, ``AFTERCARE_KAFKA_CREATE_TOPICS``) or verify
    them, refusing to start on any difference; returns the names created."""
    from aftercare.topics import TopicsNotReady, prepare_topics

    try:
        return await prepare_topics(
            settings.kafka_connection(bootstrap_servers),
            topics_of(settings),
            create=settings.kafka_create_topics,
        )
    except TopicsNotReady as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise SystemExit(
            f"the Kafka topics at {bootstrap_servers} are not ready:\n{lines}"
        ) from None
