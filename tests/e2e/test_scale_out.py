"""Replicas in one consumer group on PostgreSQL, one killed with SIGKILL mid-work: three
SLA watchers while 300 deadlines pass (every breach declared once, paged once), two
notifiers while updates go out (every customer told, each update one message)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from bench.sla import raised
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker, free_port
from aftercare.cloudevents import to_kafka
from aftercare.eventstore.sql import events
from aftercare.topics import TopicSpec, ensure_topics
from tests.support.processes import AFTERCARE, aftercare, stop, wait_until_up
from tests.support.receivers import SmtpSink, WebhookReceiver, smtp_sink, webhook_receiver

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 20  # seconds: T-EMAIL's budget in this test's policy
TICKETS = 300


def short_policy(folder: Path) -> Path:
    text_ = (ROOT / "deploy" / "sla-policy.yaml").read_text(encoding="utf-8")
    assert "  - rule: T-EMAIL\n" in text_
    head, tail = text_.split("  - rule: T-EMAIL\n", 1)
    tail = tail.replace("    budget: 10m\n", f"    budget: {BUDGET}s\n", 1)
    path = folder / "policy.yaml"
    path.write_text(head + "  - rule: T-EMAIL\n" + tail, encoding="utf-8")
    return path


async def replica(command: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """``aftercare <command>`` with its own HTTP port, once it answers."""
    port = free_port()
    port_variable = {"sla-watcher": "AFTERCARE_SLA_PORT", "notifier": "AFTERCARE_NOTIFIER_PORT"}
    process = await asyncio.create_subprocess_exec(
        AFTERCARE,
        command,
        env={**os.environ, **env, port_variable[command]: str(port)},
        stdout=asyncio.subprocess.DEVNULL,
    )
    await wait_until_up(f"http://127.0.0.1:{port}/healthz", process, within=60)
    return process


async def dispatcher_leader(engine: AsyncEngine) -> int:
    """How many sessions hold an advisory lock (the alert dispatcher's leadership)."""
    async with engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND a.datname = current_database()"
        )
        return int((await connection.execute(query)).scalar_one())


def pages(hook: WebhookReceiver, verdict: str) -> Counter[str]:
    return Counter(
        r.json()["ticket_id"]
        for r in hook.received
        if r.path == "/oncall" and r.json()["verdict"] == verdict
    )


async def three_watchers(
    pg_engine: AsyncEngine, env: dict[str, str]
) -> tuple[asyncio.subprocess.Process, list[asyncio.subprocess.Process]]:
    """The first holds the pager's leadership; the other two share the partitions."""
    first = await replica("sla-watcher", env)
    for _ in range(300):
        if await dispatcher_leader(pg_engine) >= 2:  # the relay's and the pager's locks
            break
        await asyncio.sleep(0.1)
    others = [await replica("sla-watcher", env), await replica("sla-watcher", env)]
    await asyncio.sleep(8)  # the group settles on three members
    return first, others


async def raise_tickets_over_ten_seconds(broker: EmbeddedBroker, topic: str, tag: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for number in range(TICKETS):
            ticket = f"scale-{tag}-{number}"
            headers, value = to_kafka(raised(ticket))
            await producer.send_and_wait(topic, value=value, key=ticket.encode(), headers=headers)
            await asyncio.sleep(10 / TICKETS)
    finally:
        await producer.stop()


async def breaches_declared(pg_engine: AsyncEngine) -> list[Any]:
    """(verdict stream, how many SlaBreached it holds)."""
    async with pg_engine.connect() as connection:
        query = (
            select(events.c.stream_id, func.count())
            .where(events.c.type == "SlaBreached")
            .group_by(events.c.stream_id)
        )
        return list((await connection.execute(query)).all())


@pytest.mark.postgres
async def test_a_killed_watcher_is_taken_over_and_nothing_is_paged_twice(
    postgres_url: str, pg_engine: AsyncEngine, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    topics = (f"tickets.scale-{tag}", f"sla.scale-{tag}")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(t, 6) for t in topics])
    async with webhook_receiver() as hook:
        env = {
            "DATABASE_URL": postgres_url,
            **broker.client_environment(),
            "AFTERCARE_TICKET_EVENTS_TOPIC": topics[0],
            "AFTERCARE_SLA_TOPIC": topics[1],
            "AFTERCARE_SLA_POLICY": str(short_policy(tmp_path)),
            "AFTERCARE_ONCALL_WEBHOOK_URL": f"{hook.url}/oncall",
            "AFTERCARE_API_KEYS": "k=reader",
            "AFTERCARE_LOG_LEVEL": "WARNING",
        }
        first, others = await three_watchers(pg_engine, env)
        started = time.monotonic()
        await raise_tickets_over_ten_seconds(broker, topics[0], tag)
        await asyncio.sleep(max(0.0, BUDGET + 4 - (time.monotonic() - started)))
        others[0].send_signal(signal.SIGKILL)  # while the deadlines pass
        killed_at = time.time()
        await others[0].wait()
        for _ in range(600):  # two minutes at most
            if len(pages(hook, "SlaBreached")) >= TICKETS:
                break
            await asyncio.sleep(0.2)
        last_page = time.time()
        for process in (first, others[1]):
            await stop(process)

    breached = pages(hook, "SlaBreached")
    assert len(breached) == TICKETS, f"{len(breached)} of {TICKETS} breaches paged"
    assert set(breached.values()) == {1}, "a breach was paged twice"
    assert set(pages(hook, "SlaWarning").values()) == {1}
    declared = await breaches_declared(pg_engine)
    assert len(declared) == TICKETS
    assert {count for _, count in declared} == {1}
    print(f"takeover: every breach paged {last_page - killed_at:.1f} s after the SIGKILL")


@pytest.mark.postgres
async def test_two_notifiers_one_killed_every_customer_told_once(
    postgres_url: str, pg_engine: AsyncEngine, broker: EmbeddedBroker
) -> None:
    """Two notifier processes share the work; one is killed with SIGKILL while updates go
    out. The survivor takes over its partitions and, after the lease, its claimed
    updates: every customer hears of the acknowledgement, each update is one message."""
    tag = uuid.uuid4().hex[:8]
    topic = f"tickets.notify-{tag}"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 6)])
    api_port = free_port()
    async with smtp_sink() as smtp:
        env = {
            "DATABASE_URL": postgres_url,
            **broker.client_environment(),
            "AFTERCARE_TICKET_EVENTS_TOPIC": topic,
            "AFTERCARE_API_KEYS": "ops:admin-key=admin,notifier:notifier-key=notifier",
            "AFTERCARE_HTTP_PORT": str(api_port),
            "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "AFTERCARE_SMTP_HOST": "127.0.0.1",
            "AFTERCARE_SMTP_PORT": str(smtp.port),
            "AFTERCARE_NOTIFIER_COALESCE_SECONDS": "0.5",
            "AFTERCARE_NOTIFIER_LEASE_SECONDS": "5",
            "AFTERCARE_LOG_LEVEL": "WARNING",
        }
        base = f"http://127.0.0.1:{api_port}"
        async with (
            aftercare("api", env=env, ready_url=f"{base}/healthz"),
            aftercare("relay", env=env),
        ):
            notifiers = [await replica("notifier", env), await replica("notifier", env)]
            await asyncio.sleep(8)  # the group settles on two members
            tickets = []
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": "Bearer admin-key"}
            ) as api:
                for number in range(TICKETS // 5):
                    raised = await api.post("/tickets", json=support_request(number))
                    tickets.append(raised.json()["id"])
                for number, ticket_id in enumerate(tickets):
                    acknowledged = await api.post(
                        f"/tickets/{ticket_id}/acknowledge",
                        json={"plan": "Remote check", "expected_resolution_at": soon()},
                    )
                    assert acknowledged.status_code == 200, acknowledged.text
                    if number == len(tickets) // 2:
                        notifiers[0].send_signal(signal.SIGKILL)
            await notifiers[0].wait()
            for _ in range(600):
                if set(tickets) <= told(smtp):
                    break
                await asyncio.sleep(0.2)
            await stop(notifiers[1])
    missing = set(tickets) - told(smtp)
    assert not missing, f"{len(missing)} customers never heard"
    messages = Counter(
        (str(m["X-Aftercare-Ticket"]), str(m["Message-ID"])) for _, m in smtp.messages
    )
    per_ticket = Counter(ticket for ticket, _ in messages)
    assert set(per_ticket.values()) == {1}, "an update was sent as two different messages"
    resent = sum(messages.values()) - len(messages)
    assert resent <= 1, f"{resent} messages sent again (at most the one in flight may be)"
    print(f"updates: {len(messages)} messages, {resent} sent again after the SIGKILL")


def told(smtp: SmtpSink) -> set[str]:
    """Tickets whose customer got mail (here only the acknowledgement is sent at once)."""
    return {str(message["X-Aftercare-Ticket"]) for _, message in smtp.messages}


def support_request(number: int) -> dict[str, object]:
    return {
        "kind": "support",
        "channel": "email",
        "customer": {
            "id": f"CUST-{number}",
            "name": "Li Na",
            "email": f"c{number}@example.com",
            "language": "en",
        },
        "subject": "Printer offline",
        "description": "Since this morning",
    }


def soon() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()
