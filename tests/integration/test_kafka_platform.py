"""The parts on a cluster they do not own: the topics are the platform's (verified, never
created), and the brokers may speak only TLS. Real embedded broker; the TLS listener is a
terminating proxy in front of it, advertised to the clients as the broker's address."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.kafka_connection import KafkaConnection
from aftercare.relay import OutboxRelay
from aftercare.topics import TopicsNotReady, TopicSpec, ensure_topics, verify_topics
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.service_layer.service import TicketService
from tests.integration.test_outbox_relay import walk_tickets
from tests.support.kafka import read_raw, relay_until
from tests.support.tcpproxy import TcpProxy

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


async def listed(bootstrap: str) -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_a_missing_topic_is_reported_and_not_created(broker: EmbeddedBroker) -> None:
    name = f"platform-{uuid.uuid4().hex[:8]}"
    with pytest.raises(TopicsNotReady) as refused:
        await verify_topics(broker.bootstrap_servers, [TopicSpec(name, 3)])
    assert f"topic {name} does not exist" in refused.value.problems[0]
    assert name not in await listed(broker.bootstrap_servers), "the check created the topic"


async def test_a_topic_made_with_other_partitions_is_refused(broker: EmbeddedBroker) -> None:
    name = f"platform-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(name, 6)])
    with pytest.raises(TopicsNotReady, match="has 6 partition"):
        await verify_topics(broker.bootstrap_servers, [TopicSpec(name, 3)])
    await verify_topics(broker.bootstrap_servers, [TopicSpec(name, 6)])


async def test_a_part_refuses_to_start_without_its_topics(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``aftercare sla-watcher`` on a cluster whose topics were not made: it exits at
    once, listing each missing topic, and creates none of them."""
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        **broker.client_environment(create_topics=False),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}",
        "AFTERCARE_TICKET_EVENTS_TOPIC": f"tickets-{tag}",
        "AFTERCARE_SLA_TOPIC": f"sla-{tag}",
        "AFTERCARE_QUALITY_TOPIC": f"quality-{tag}",
        "AFTERCARE_TOPIC_PARTITIONS": "3",
    }
    part = await asyncio.create_subprocess_exec(
        AFTERCARE, "sla-watcher", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(part.communicate(), 60)
    message = stderr.decode()
    assert part.returncode == 1, message
    for topic in (f"tickets-{tag}", f"sla-{tag}", f"quality-{tag}", f"tickets-{tag}.dlq"):
        assert f"topic {topic} does not exist" in message
    assert "Traceback" not in message
    assert not {t for t in await listed(broker.bootstrap_servers) if tag in t}


@pytest.fixture
async def tls_broker(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedBroker, Path]]:
    """A broker reachable only over TLS (its plaintext port is not advertised)."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    ca.cert_pem.write_to_path(tmp_path / "ca.crt")
    inner = EmbeddedBroker()
    proxy = TcpProxy(inner.host, inner.port, ssl=server)
    broker = EmbeddedBroker(port=inner.port, advertised_port=proxy.port)
    await broker.start()
    await proxy.start()
    try:
        yield broker, tmp_path / "ca.crt"
    finally:
        await proxy.stop()
        await broker.stop()


async def test_the_relay_publishes_over_tls(
    engine: AsyncEngine, tls_broker: tuple[EmbeddedBroker, Path]
) -> None:
    broker, ca_file = tls_broker
    connection = KafkaConnection(
        broker.bootstrap_servers, security_protocol="SSL", ssl_ca_file=ca_file
    )
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    await ensure_topics(connection, [TopicSpec(topic, 3)])
    await verify_topics(connection, [TopicSpec(topic, 3)])
    clock = FixedClock(datetime.now(UTC))
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    written = await walk_tickets(service, clock, 4)
    relay = OutboxRelay(engine, connection, topic, ticket_cloudevent, name=f"tls-{topic}")
    await relay_until(relay, written, "published over TLS")
    assert len(await read_raw(connection, topic, expect=written)) == written
    with pytest.raises(KafkaConnectionError):  # the same port without TLS: no answer
        await ensure_topics(KafkaConnection(broker.bootstrap_servers), [TopicSpec(topic, 3)])
