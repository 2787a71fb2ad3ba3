"""PostgreSQL unreachable for 30 s under load: the API answers 503 problem+json (never a
500), and the API, the relay and the SLA watcher all recover on their own; every command
that was acknowledged is in the log, on the topic, and seen by the watcher."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import SystemClock
from aftercare.consumer import ConsumerTuning
from aftercare.db import create_engine
from aftercare.eventstore.sql import events
from aftercare.relay import OutboxRelay
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_sla.adapters.tables import sla_timers
from aftercare_sla.entrypoints.service import SlaService
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.domain.events import EVENT_TYPES
from aftercare_ticket.entrypoints.app import create_app
from tests.support.kafka import eventually, read_topic_until
from tests.support.tcpproxy import TcpProxy, tcp_proxy
from tests.support.ticket_api import PROBLEM, complaint

OUTAGE_SECONDS = 30
FAST = ConsumerTuning(session_timeout_ms=3000, heartbeat_interval_ms=500, max_wait=0.05)


@dataclass
class Load:
    acknowledged: list[tuple[str, int]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    running: bool = True

    async def client(self, api: httpx.AsyncClient) -> None:
        """Raise a ticket, report progress on it three times, again and again."""
        while self.running:
            ticket_id = await self._send(api, "/tickets", complaint())
            for n in range(3):
                if ticket_id is None or not self.running:
                    break
                await self._send(api, f"/tickets/{ticket_id}/report-progress", {"message": f"{n}"})

    async def _send(self, api: httpx.AsyncClient, path: str, body: dict[str, object]) -> str | None:
        response = await api.post(path, json=body)
        self.statuses[response.status_code] += 1
        if response.status_code in (200, 201):
            ticket_id = str(response.json()["id"])
            self.acknowledged.append((ticket_id, int(response.headers["ETag"].strip('"'))))
            return ticket_id
        if response.status_code != 503 or response.headers["content-type"] != PROBLEM:
            self.bad.append(f"{response.status_code} {response.text[:300]}")
        await asyncio.sleep(0.05)
        return None


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(postgres_url)
    async with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


async def cut_under_load(api: httpx.AsyncClient, proxy: TcpProxy, load: Load) -> tuple[int, int]:
    """Six clients write; the database is cut for OUTAGE_SECONDS, then comes back.
    Returns how many commands were acknowledged before the cut and how many 503s during."""
    clients = [asyncio.create_task(load.client(api)) for _ in range(6)]
    try:
        await asyncio.sleep(3)
        before = len(load.acknowledged)
        await proxy.cut()
        await asyncio.sleep(OUTAGE_SECONDS)
        during = load.statuses[503]
        await proxy.restore()
        await eventually(lambda: len(load.acknowledged) > before + 50, 60, "recovery")
    finally:
        load.running = False
        await asyncio.gather(*clients, return_exceptions=True)
    return before, during


async def stored_versions(pg_engine: AsyncEngine) -> set[tuple[str, int]]:
    async with pg_engine.connect() as connection:
        return {
            (row.stream_id, row.version)
            for row in await connection.execute(select(events.c.stream_id, events.c.version))
        }


async def the_watcher_has_read_every_ticket(pg_engine: AsyncEngine, tickets: int) -> None:
    async def timers_for() -> int:
        async with pg_engine.connect() as connection:
            query = select(func.count(sla_timers.c.ticket_id.distinct()))
            return int((await connection.execute(query)).scalar_one())

    for _ in range(300):  # within a minute
        if await timers_for() >= tickets:
            break
        await asyncio.sleep(0.2)
    assert await timers_for() == tickets


def parts_behind_the_proxy(
    engine: AsyncEngine, broker: EmbeddedBroker, settings: SystemSettings, suffix: str
) -> tuple[OutboxRelay, SlaService]:
    relay = OutboxRelay(
        engine,
        broker.bootstrap_servers,
        settings.ticket_events_topic,
        ticket_cloudevent,
        name=f"outage-{suffix}",
        event_types=EVENT_TYPES,
        idle_wait=0.05,
        max_backoff=1.0,
    )
    watcher = SlaService(
        settings,
        engine,
        broker.bootstrap_servers,
        clock=SystemClock(),
        tuning=FAST,
        serve_http=False,
        relay_idle_wait=0.05,
    )
    return relay, watcher


@pytest.mark.postgres
async def test_a_database_outage_answers_503_and_everything_recovers(
    postgres_url: str, pg_engine: AsyncEngine, proxy: TcpProxy, broker: EmbeddedBroker
) -> None:
    through_proxy = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    engine = create_engine(through_proxy.render_as_string(hide_password=False), pool_timeout=5)
    suffix = uuid.uuid4().hex[:8]
    topics = (f"ticket.events.outage-{suffix}", f"ticket.sla.outage-{suffix}")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(t, 4) for t in topics])
    settings = SystemSettings(
        api_keys="k=admin", ticket_events_topic=topics[0], sla_topic=topics[1]
    )
    relay, watcher = parts_behind_the_proxy(engine, broker, settings, suffix)
    background = [asyncio.create_task(relay.run()), asyncio.create_task(watcher.run_forever())]
    load = Load()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, engine=engine)),
        base_url="http://t",
        headers={"Authorization": "Bearer k"},
        timeout=30,
    ) as api:
        before, during = await cut_under_load(api, proxy, load)
    assert load.bad == []
    assert before > 0
    assert during > 0
    assert set(load.statuses) <= {200, 201, 503}

    stored = await stored_versions(pg_engine)
    assert set(load.acknowledged) <= stored  # nothing acknowledged was lost
    # (A command whose COMMIT was cut may be stored though its client got a 503.)
    try:
        # At least once: an event published before a checkpoint the cut lost is published
        # again, so read until every stored event is there, not a count of records.
        found = await read_topic_until(
            broker.bootstrap_servers,
            topics[0],
            lambda events: {(e.subject, e.sequence) for _, e in events} >= stored,
            within=60,
        )
        assert {(e.subject, e.sequence) for _, e in found} == stored
        await the_watcher_has_read_every_ticket(pg_engine, len({t for t, _ in stored}))
    finally:
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await engine.dispose()
