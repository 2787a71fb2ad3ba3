"""The system started the way the manifests start it, then rolled part by part under load.

As on Kubernetes: a database of its own migrated by a one-shot ``aftercare migrate`` (the
Job), topics made beforehand with three partitions (the platform's ``KafkaTopic``s), and
every part its own process that only verifies the topics (``AFTERCARE_KAFKA_CREATE_TOPICS``
false): two API replicas, two relays (one publishes, one stands by), two SLA watchers,
two notifiers, a reporting service. While customers' requests keep coming, one process of
each part gets SIGTERM, must exit cleanly within its grace period, and is started again.
Nothing may be lost: every accepted request is a ticket (once), every stored event is on
the topic, every consumer applied every event, every customer heard exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker, free_port
from aftercare.db import create_engine
from aftercare.eventstore.sql import events
from aftercare.processed import DEAD_LETTER_SUFFIX, processed_events
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_reporting.adapters.tables import report_snapshots
from aftercare_ticket.domain.events import EVENT_TYPES
from tests.support.processes import AFTERCARE, wait_until_up
from tests.support.receivers import SmtpSink, smtp_sink

TICKETS = 120
SPACING = 0.2  # seconds between customers: the load lasts about half a minute
GRACE = 15  # AFTERCARE_SHUTDOWN_GRACE_SECONDS
PORT_SETTING = {
    "api": "AFTERCARE_HTTP_PORT",
    "relay": None,
    "sla-watcher": "AFTERCARE_SLA_PORT",
    "notifier": "AFTERCARE_NOTIFIER_PORT",
    "reporting": "AFTERCARE_REPORTING_PORT",
}


class Part:
    """One process of a part, on its own port (the relay: its metrics port)."""

    def __init__(
        self, command: str, env: dict[str, str], logs: Path, port: int | None = None
    ) -> None:
        self.command = command
        self.logs = logs
        self.port = port or free_port()
        setting = PORT_SETTING[command]
        self.env = {**env, setting: str(self.port)} if setting else env
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        extra = ("--metrics-port", str(self.port)) if self.command == "relay" else ()
        self.log = self.logs / f"{self.command}-{self.port}.log"
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                AFTERCARE,
                self.command,
                *extra,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
            )
        ready = "/metrics" if self.command == "relay" else "/healthz"
        await wait_until_up(self.url + ready, self.process, within=90)

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit status and the seconds it took to stop."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.process.wait(), GRACE + 10)
        except TimeoutError:
            self.process.kill()
            status = await self.process.wait()
        return status, time.monotonic() - started

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest.fixture
async def own_broker() -> AsyncIterator[EmbeddedBroker]:
    """A broker of its own, as the cluster would have: the rolling restarts leave the
    embedded broker's consumer groups in a state its coordinator does not recover from
    ("Unknown": later joins of the same group never complete), which must not reach the
    tests that run after this one on the shared broker."""
    broker = EmbeddedBroker()
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture
async def own_database(postgres_url: str) -> AsyncIterator[str]:
    """An empty database on the real server: the migration Job's to fill."""
    base, _ = postgres_url.rsplit("/", 1)
    name = f"aftercare_prod_{uuid.uuid4().hex[:10]}"
    admin_dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def settings_of(
    database_url: str, broker: EmbeddedBroker, tag: str, smtp: SmtpSink
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        **broker.client_environment(create_topics=False),
        "AFTERCARE_TOPIC_PARTITIONS": "3",
        "AFTERCARE_TICKET_EVENTS_TOPIC": f"tickets-{tag}",
        "AFTERCARE_SLA_TOPIC": f"sla-{tag}",
        "AFTERCARE_QUALITY_TOPIC": f"quality-{tag}",
        "AFTERCARE_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "AFTERCARE_API_KEYS": "ops:admin-key=admin,notifier:notifier-key=notifier",
        "AFTERCARE_SMTP_HOST": "127.0.0.1",
        "AFTERCARE_SMTP_PORT": str(smtp.port),
        "AFTERCARE_NOTIFIER_COALESCE_SECONDS": "0.5",
        "AFTERCARE_LOG_LEVEL": "INFO",
    }


async def make_topics(broker: EmbeddedBroker, tag: str) -> None:
    """What the platform does before the parts start (Strimzi's KafkaTopics)."""
    names = (f"tickets-{tag}", f"sla-{tag}", f"quality-{tag}")
    await ensure_topics(
        broker.bootstrap_servers,
        [TopicSpec(name, 3) for name in names]
        + [TopicSpec(name + DEAD_LETTER_SUFFIX, 1) for name in names[:2]],
    )


def request(number: int) -> dict[str, Any]:
    return {
        "kind": "support",
        "channel": "email",
        "customer": {"id": f"C-{number}", "name": "Li Na", "email": f"c{number}@example.com"},
        "subject": "Printer offline",
        "description": "Since this morning",
    }


class Customers:
    """The call centre: raises and acknowledges tickets, each request with an
    Idempotency-Key, failing over to the other API replica when one is going away."""

    def __init__(self, apis: list[Part]) -> None:
        self.apis = apis
        self.tickets: list[str] = []
        self.refused: list[str] = []
        self.failovers = 0

    async def send(self, client: httpx.AsyncClient, path: str, body: Any, key: str) -> Any:
        for attempt in range(40):
            api = self.apis[attempt % len(self.apis)]
            try:
                response = await client.post(
                    api.url + path, json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError:
                self.failovers += 1
                await asyncio.sleep(0.1)
                continue
            if response.status_code >= 500:
                self.failovers += 1
                await asyncio.sleep(0.1)
                continue
            if response.status_code >= 400:
                self.refused.append(f"{path}: {response.status_code} {response.text}")
            return response.json()
        raise AssertionError(f"{path}: no API replica answered")

    async def run(self, tag: str) -> None:
        expected = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        headers = {"Authorization": "Bearer admin-key"}
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            for number in range(TICKETS):
                raised = await self.send(client, "/tickets", request(number), f"{tag}-r{number}")
                ticket = raised["id"]
                self.tickets.append(ticket)
                plan = {"plan": "Remote check", "expected_resolution_at": expected}
                await self.send(client, f"/tickets/{ticket}/acknowledge", plan, f"{tag}-a{number}")
                await asyncio.sleep(SPACING)


async def roll(parts: dict[str, list[Part]], stops: dict[str, tuple[int, float, str]]) -> None:
    """One process of each part: SIGTERM, then started again, a few seconds apart."""
    for name in ("api", "relay", "sla-watcher", "notifier", "reporting"):
        await asyncio.sleep(3)
        part = parts[name][0]
        status, seconds = await part.terminate()
        stops[name] = (status, seconds, part.log_tail())
        await part.start()


async def ticket_event_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        query = select(events.c.event_id).where(events.c.type.in_(list(EVENT_TYPES)))
        return {str(row[0]) for row in await connection.execute(query)}


async def tickets_raised(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).where(events.c.type == "RequestRaised")
        return int(await connection.scalar(query) or 0)


async def not_folded(engine: AsyncEngine) -> set[str]:
    """Tickets the reporting service has not folded every event of (it keeps no event
    ids: each case's facts are kept under their own keys)."""
    async with engine.connect() as connection:
        counts = select(events.c.stream_id, func.count()).where(
            events.c.type.in_(list(EVENT_TYPES))
        )
        rows = await connection.execute(counts.group_by(events.c.stream_id))
        written: dict[str, int] = {str(ticket): int(count) for ticket, count in rows}
        folded_query = select(report_snapshots.c.ticket_id, report_snapshots.c.folded)
        folded = {str(ticket): int(n) for ticket, n in await connection.execute(folded_query)}
    return {ticket for ticket, count in written.items() if folded.get(ticket, 0) < count}


async def applied_by(engine: AsyncEngine, consumer: str) -> set[str]:
    async with engine.connect() as connection:
        query = select(processed_events.c.event_id).where(processed_events.c.consumer == consumer)
        return {str(row[0]) for row in await connection.execute(query)}


async def ids_on_topic(bootstrap: str, topic: str) -> set[str]:
    """Every CloudEvent id on the topic now: each partition read until a fetch finds
    nothing more (the embedded broker's ``end_offsets`` cannot be trusted)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [TopicPartition(topic, n) for n in range(3)]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        found: set[str] = set()
        while batches := await reader.getmany(timeout_ms=500):
            for records in batches.values():
                found.update(dict(r.headers)["ce_id"].decode() for r in records)
        return found
    finally:
        await reader.stop()


async def settled(
    engine: AsyncEngine, bootstrap: str, tag: str, customers: Customers, smtp: SmtpSink
) -> dict[str, set[str]]:
    """Wait (two minutes at most) until every part has caught up; what each one lacks."""
    missing: dict[str, set[str]] = {}
    for _ in range(240):
        stored = await ticket_event_ids(engine)
        missing = {
            "topic": stored - await ids_on_topic(bootstrap, f"tickets-{tag}"),
            "sla-watcher": stored - await applied_by(engine, "sla-watcher"),
            "notifier": stored - await applied_by(engine, "notifier"),
            "reporting": await not_folded(engine),
            "customers told": set(customers.tickets) - told(smtp),
        }
        if not any(missing.values()):
            break
        await asyncio.sleep(0.5)
    return missing


def told(smtp: SmtpSink) -> set[str]:
    return {str(message["X-Aftercare-Ticket"]) for _, message in smtp.messages}


@pytest.mark.postgres
async def test_rolling_every_part_under_load_loses_nothing(
    own_database: str, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    broker = own_broker
    tag = uuid.uuid4().hex[:8]
    await make_topics(broker, tag)
    async with smtp_sink() as smtp:
        env = settings_of(own_database, broker, tag, smtp)
        migrate = await asyncio.create_subprocess_exec(
            AFTERCARE, "migrate", env={**os.environ, **env}
        )
        assert await migrate.wait() == 0
        apis = [Part("api", env, tmp_path), Part("api", env, tmp_path)]
        env = {**env, "AFTERCARE_TICKET_API_URL": apis[1].url, "AFTERCARE_PUBLIC_URL": apis[1].url}
        apis = [Part("api", env, tmp_path, apis[0].port), Part("api", env, tmp_path, apis[1].port)]
        parts = {
            "api": apis,
            "relay": [Part("relay", env, tmp_path)],
            "sla-watcher": [Part("sla-watcher", env, tmp_path), Part("sla-watcher", env, tmp_path)],
            "notifier": [Part("notifier", env, tmp_path), Part("notifier", env, tmp_path)],
            "reporting": [Part("reporting", env, tmp_path)],
        }
        every = [part for group in parts.values() for part in group]
        engine = create_engine(own_database)
        try:
            await asyncio.gather(*(part.start() for part in every))
            standby = Part("relay", env, tmp_path)  # started once the first holds the lock
            await standby.start()
            parts["relay"].append(standby)
            every.append(standby)
            customers = Customers(apis)
            stops: dict[str, tuple[int, float, str]] = {}
            await asyncio.gather(customers.run(tag), roll(parts, stops))
            loaded = time.monotonic()
            missing = await settled(engine, broker.bootstrap_servers, tag, customers, smtp)
            caught_up = time.monotonic() - loaded
            raised = await tickets_raised(engine)
        finally:
            running = [p for p in every if p.process and p.process.returncode is None]
            ended = await asyncio.gather(*(part.terminate() for part in running))
            final = {
                f"{p.command}:{p.port}": (e, p.log_tail())
                for p, e in zip(running, ended, strict=True)
            }
            await engine.dispose()
    assert not customers.refused, customers.refused[:3]
    assert len(set(customers.tickets)) == TICKETS
    assert raised == TICKETS, "a repeated request made a second ticket"
    for name, (status, seconds, log) in stops.items():
        assert status == 0, f"{name} exited with {status} on SIGTERM:\n{log}"
        assert seconds < GRACE, f"{name} took {seconds:.1f} s to stop:\n{log}"
    assert {name: len(ids) for name, ids in missing.items() if ids} == {}
    for name, ((status, seconds), log) in final.items():  # and all of them at the end
        assert status == 0, f"{name} exited with {status} on SIGTERM:\n{log}"
        assert seconds < GRACE, f"{name} took {seconds:.1f} s to stop:\n{log}"
    per_ticket = Counter(str(m["X-Aftercare-Ticket"]) for _, m in smtp.messages)
    assert set(per_ticket.values()) == {1}, "a customer was told twice"
    print(
        f"rolled {', '.join(f'{n} in {s:.1f} s' for n, (_, s, _) in stops.items())}; "
        f"{customers.failovers} requests failed over; all caught up {caught_up:.1f} s after"
    )
