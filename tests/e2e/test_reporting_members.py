"""Two reporting members in one consumer group on PostgreSQL (each with its own
connections, as two processes would be): they fold a history together, neither judges
until the group has applied it all, and only one of them judges at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_reporting.adapters.store import cases_raised
from aftercare_reporting.entrypoints.service import ReportingService
from aftercare_reporting.settings import ReportingSettings
from tests.conftest import empty_tables
from tests.e2e.test_reporting_catch_up import TUNING
from tests.integration.test_reporting_store import DAY, T0, folded, walk
from tests.support.kafka import eventually, publish

pytestmark = pytest.mark.postgres


class JudgingMember(ReportingService):
    """A member that counts its judgements instead of computing them."""

    judged = 0

    async def refresh_once(self) -> None:
        self.judged += 1


@pytest.fixture
async def members(
    postgres_url: str, clock: FixedClock, broker: EmbeddedBroker, topic: str
) -> AsyncIterator[list[JudgingMember]]:
    sla_topic = f"{topic}.sla"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(sla_topic, 4)])
    settings = ReportingSettings(ticket_events_topic=topic, sla_topic=sla_topic)
    engines: list[AsyncEngine] = [create_engine(postgres_url) for _ in range(2)]
    await empty_tables(engines[0])
    started = [
        JudgingMember(
            settings,
            engine,
            broker.bootstrap_servers,
            clock=clock,
            tuning=TUNING,
            serve_http=False,
            group_id=f"{topic}-reporting",
        )
        for engine in engines
    ]
    try:
        yield started
    finally:
        for member in started:
            await member.stop()
        for engine in engines:
            await engine.dispose()


async def test_two_members_fold_a_history_together(
    members: list[JudgingMember], broker: EmbeddedBroker, topic: str, clock: FixedClock
) -> None:
    for member in members:
        member.tasks.run("consumer", member.consumer.run())
    first, second = (member.consumer for member in members)

    def shared() -> bool:  # eight partitions (two topics), each held by one member
        both = first.assignment | second.assignment
        return bool(first.assignment and second.assignment) and len(both) == 8

    await eventually(shared, within=30, message="the partitions shared")
    walks = {f"shared-{n}": walk(f"shared-{n}") for n in range(24)}
    await publish(broker.bootstrap_servers, topic, [e for w in walks.values() for e in w])
    events = sum(len(w) for w in walks.values())
    await eventually(
        lambda: first.stats.processed + second.stats.processed >= events, message="folded"
    )
    assert first.stats.processed > 0
    assert second.stats.processed > 0
    assert all([await member.projection_current(within=10) for member in members])
    clock.set(T0 + timedelta(hours=3))
    cases = await cases_raised(members[0].engine, *DAY, clock.now())
    assert {c.ticket_id: c for c in cases} == {t: folded(w) for t, w in walks.items()}


async def test_a_member_behind_holds_the_judgement_back(
    members: list[JudgingMember], broker: EmbeddedBroker, topic: str
) -> None:
    ahead = members[0]
    ahead.tasks.run("consumer", ahead.consumer.run())
    await eventually(lambda: len(ahead.consumer.assignment) == 8, message="one member owns all")
    await publish(broker.bootstrap_servers, topic, walk("first"))
    await eventually(lambda: ahead.consumer.stats.processed >= 5, message="first walk folded")
    assert await ahead.projection_current(within=10)
    # A member that joined and has not applied its share yet: the group is behind.
    await ahead.tasks.stop()
    await publish(broker.bootstrap_servers, topic, walk("second"))
    assert not await ahead.projection_current(within=0.5)
    behind = members[1]
    behind.tasks.run("consumer", behind.consumer.run())
    assert await behind.projection_current(within=30)
    assert await ahead.projection_current(within=1)


async def test_one_member_judges_at_a_time_and_another_takes_over(
    members: list[JudgingMember],
) -> None:
    refreshing = [
        asyncio.create_task(member._refresh(every=0.05)) for member in members
    ]  # empty topics: the group is current from the start
    try:
        await eventually(lambda: any(m.judged >= 3 for m in members), message="one judges")
        judge = 0 if members[0].judged else 1
        await asyncio.sleep(0.5)
        assert members[1 - judge].judged == 0
        refreshing[judge].cancel()  # the judging member stops: its lock is given back
        await asyncio.gather(refreshing[judge], return_exceptions=True)
        await eventually(lambda: members[1 - judge].judged >= 3, message="taken over")
    finally:
        for task in refreshing:
            task.cancel()
        await asyncio.gather(*refreshing, return_exceptions=True)
