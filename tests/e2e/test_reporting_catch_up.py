"""The reporting service catching up on a topic that already holds its history, on
SQLite and PostgreSQL: the partitions applied side by side fold every case completely,
and nothing is judged (alarms, quality alerts, scheduled reports) until the group has
applied the log to its end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.consumer import ConsumerTuning
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_reporting.adapters.store import cases_raised
from aftercare_reporting.entrypoints.service import ReportingService
from aftercare_reporting.settings import ReportingSettings
from tests.integration.test_reporting_store import DAY, T0, folded, walk
from tests.support.kafka import eventually, publish

TUNING = ConsumerTuning(
    session_timeout_ms=2000,
    heartbeat_interval_ms=500,
    max_wait=0.05,
    max_batch=7,  # several partitions per fetch, several fetches
    concurrent_partitions=True,
)


async def test_a_history_is_folded_whole_and_judged_only_once_read(
    engine: AsyncEngine, clock: FixedClock, broker: EmbeddedBroker, topic: str
) -> None:
    sla_topic = f"{topic}.sla"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(sla_topic, 4)])
    walks = {f"history-{n}": walk(f"history-{n}") for n in range(12)}
    await publish(broker.bootstrap_servers, topic, [e for w in walks.values() for e in w])
    settings = ReportingSettings(ticket_events_topic=topic, sla_topic=sla_topic)
    service = ReportingService(
        settings,
        engine,
        broker.bootstrap_servers,
        clock=clock,
        tuning=TUNING,
        serve_http=False,
        group_id=f"{topic}-reporting",
    )
    assert not await service.projection_current(within=0.2)  # nothing read: not judged
    service.tasks.run("consumer", service.consumer.run())
    try:
        events = sum(len(w) for w in walks.values())
        await eventually(lambda: service.consumer.stats.processed >= events, message="caught up")
        assert await service.projection_current(within=10)
        await service.tasks.stop()  # the group's only member stops; the log goes on
        await publish(broker.bootstrap_servers, topic, walk("history-late"))
        assert not await service.projection_current(within=0.5)
    finally:
        await service.stop()
    clock.set(T0 + timedelta(hours=3))
    cases = await cases_raised(engine, *DAY, clock.now())
    assert {c.ticket_id: c for c in cases} == {t: folded(w) for t, w in walks.items()}
    assert all(c.resolved for c in cases)
