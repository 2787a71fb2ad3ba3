"""Section 4: SLA detection delay with many open tickets, watcher memory, restart catch-up.

The watcher runs as its own process with the default policy, except that T-EMAIL's
budget is 15 s so deadlines pass during the run. ``open_tickets`` timers are loaded into
its tables first (deadlines a day away: they are what the scheduler must not scan).
Then probe tickets are raised on the topic, spread over 10 s; their deadlines pass one
after another from 15 s on, when the watcher has taken them all in, so what is measured
is detection, not intake. Each must be declared breached: the delay is the time from
its deadline to the SlaBreached on ticket.sla.v1, read by a consumer.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from aftercare.broker import free_port
from aftercare.cloudevents import CloudEvent, to_kafka
from aftercare_sla.adapters.policy_file import parse_policy
from bench.env import Environment, peak_rss_mb, percentile

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = int(os.environ.get("BENCH_SLA_BUDGET", "15"))


def bench_policy(folder: Path) -> tuple[Path, str]:
    text = (ROOT / "deploy" / "sla-policy.yaml").read_text(encoding="utf-8")
    text = text.replace("    budget: 10m\n", f"    budget: {BUDGET_SECONDS}s\n", 1)
    path = folder / "bench-sla-policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path, parse_policy(text, str(path), {}).version


def _deadline(i: int, now: datetime) -> datetime:
    """Open ticket ``i``'s deadline: in a day, spread over an hour."""
    return now + timedelta(days=1, seconds=i % 3600)


def _open_timer(i: int, policy_version: str, now: datetime) -> dict[str, Any]:
    """One running T-EMAIL timer due in a day, spread over an hour of deadlines."""
    far = now + timedelta(days=1)
    return {
        "ticket_id": f"open-{i}",
        "rule": "T-EMAIL",
        "cycle": 1,
        "partition": i % 4,
        "title": "Email request replied to",
        "clock": "24x7",
        "budget_seconds": 600,
        "status": "running",
        "started_at": now,
        "deadline": _deadline(i, now),
        "warn_at": far,
        "running_since": now,
        "pause_reasons": "",
        "consumed_seconds": 0,
        "total_seconds": 600,
        "facts": orjson.dumps({"customer_ref": "CUST-1", "priority": "normal"}).decode(),
        "policy_version": policy_version,
        "warned": False,
        "breached": False,
        "met_reported": False,
        "next_due": far,
        "updated_at": now,
    }


async def seed_open_tickets(environment: Environment, count: int, policy_version: str) -> None:
    """``count`` open tickets with one running timer each, in place of any already there;
    copied in chunks so a million never sit in this process's memory at once."""
    now = datetime.now(UTC)
    columns = list(_open_timer(0, policy_version, now))
    connection = await asyncpg.connect(environment.asyncpg_dsn)
    try:
        await connection.execute("TRUNCATE sla_timers, sla_tickets")
        for start in range(0, count, 100_000):
            numbers = range(start, min(count, start + 100_000))
            await connection.copy_records_to_table(
                "sla_tickets",
                records=[
                    (f"open-{i}", i % 4, False, policy_version, now, 1, _deadline(i, now), False)
                    for i in numbers
                ],
                columns=[
                    "ticket_id",
                    "partition",
                    "terminal",
                    "policy_version",
                    "updated_at",
                    "open_clocks",
                    "next_deadline",
                    "breached",
                ],
            )
            await connection.copy_records_to_table(
                "sla_timers",
                records=[tuple(_open_timer(i, policy_version, now).values()) for i in numbers],
                columns=columns,
            )
        await connection.execute("ANALYZE sla_timers; ANALYZE sla_tickets")
    finally:
        await connection.close()


def raised(ticket_id: str) -> CloudEvent:
    now = datetime.now(UTC)
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/aftercare/ticket",
        type="com.aftercare.ticket.RequestRaised.v1",
        time=now,
        subject=ticket_id,
        sequence=1,
        data={
            "ticket_id": ticket_id,
            "kind": "support",
            "channel": "email",
            "priority": "normal",
            "urgent": False,
            "customer_ref": "CUST-1",
            "language": "en",
            "product": {"sku": "WF-200"},
            "subject": "probe",
            "description": "probe",
            "requested_at": now.isoformat(),
        },
    )


class BreachWatch:
    """Reads ticket.sla.v1 from the start and notes when each breach arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.arrivals: dict[str, tuple[float, datetime]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # The instrument reads as soon as a breach is on the topic: the embedded broker
        # holds a fetch for its whole wait (KafkaConnection.fetch_max_wait_ms).
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
        )
        await consumer.start()
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(self.topic) or set()
        consumer.assign([TopicPartition(self.topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=50)
                arrived = time.time()
                for messages in batches.values():
                    for message in messages:
                        headers = dict(message.headers)
                        if headers.get("ce_type", b"").endswith(b".SlaBreached.v1"):
                            data = orjson.loads(message.value)
                            deadline = datetime.fromisoformat(data["deadline"])
                            self.arrivals.setdefault(data["ticket_id"], (arrived, deadline))
        finally:
            await consumer.stop()

    async def wait_for(self, tickets: set[str], within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if tickets <= set(self.arrivals):
                return True
            await asyncio.sleep(0.1)
        return False

    def delays_ms(self, tickets: set[str]) -> list[float]:
        return [
            (self.arrivals[t][0] - self.arrivals[t][1].timestamp()) * 1000
            for t in tickets
            if t in self.arrivals
        ]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def publish_probes(
    producer: AIOKafkaProducer, topic: str, prefix: str, count: int, spread: float
) -> set[str]:
    tickets = set()
    for number in range(count):
        ticket = f"{prefix}-{number}"
        headers, value = to_kafka(raised(ticket))
        await producer.send_and_wait(topic, value=value, key=ticket.encode(), headers=headers)
        tickets.add(ticket)
        await asyncio.sleep(spread / count)
    return tickets


async def sla_detection(environment: Environment, folder: Path) -> dict[str, Any]:
    """Section 4: detection with 100,000 open tickets, and a restarted watcher's catch-up."""
    options = environment.options
    return await detection(
        environment,
        folder,
        options.scaled(100_000, least=100),
        options.scaled(1_000, least=20),
        restart=True,
    )


async def detection(
    environment: Environment, folder: Path, open_tickets: int, probes: int, *, restart: bool
) -> dict[str, Any]:
    """Detection delay with ``open_tickets`` timers in the watcher's tables (they replace
    whatever an earlier run left there); with ``restart``, how a restarted watcher
    reports the deadlines that passed while none was running."""
    options = environment.options
    tag = uuid.uuid4().hex[:8]
    tickets_topic = await environment.topic(f"bench.tickets.{tag}")
    sla_topic = await environment.topic(f"bench.sla.{tag}")
    policy, version = bench_policy(folder)
    loaded = time.monotonic()
    await seed_open_tickets(environment, open_tickets, version)
    seed_s = time.monotonic() - loaded

    settings = {
        "AFTERCARE_TICKET_EVENTS_TOPIC": tickets_topic,
        "AFTERCARE_SLA_TOPIC": sla_topic,
        "AFTERCARE_SLA_POLICY": str(policy),
        "AFTERCARE_SLA_PORT": str(free_port()),
    }
    watch = BreachWatch(environment.broker.bootstrap_servers, sla_topic)
    await watch.start()
    producer = AIOKafkaProducer(bootstrap_servers=environment.broker.bootstrap_servers, acks="all")
    await producer.start()
    catch_up: dict[str, Any] = {}
    try:
        watcher = environment.spawn("sla-watcher", **settings)
        # A canary shows when the watcher has joined its group and reads the topic.
        canary = await publish_probes(producer, tickets_topic, f"canary-{tag}", 1, 0.01)
        if not await watch.wait_for(canary, within=120):
            raise RuntimeError("the SLA watcher never declared the canary breached")
        spread = min(options.seconds, 10.0)
        live = await publish_probes(producer, tickets_topic, f"probe-{tag}", probes, spread)
        await watch.wait_for(live, within=BUDGET_SECONDS + spread + 30)
        rss = peak_rss_mb(watcher.pid)
        environment.stop(watcher)
        if restart:
            catch_up = await _restarted(environment, settings, producer, watch, tag, probes)
    finally:
        await producer.stop()
        await watch.stop()
    delays = watch.delays_ms(live)
    return {
        "open_tickets": open_tickets,
        "seed_s": round(seed_s, 1),
        "probes": len(live),
        "breaches_seen": len(delays),
        "detect_p50_ms": round(percentile(delays, 0.50), 1),
        "detect_p99_ms": round(percentile(delays, 0.99), 1),
        "watcher_rss_mb": round(rss, 1),
        **catch_up,
    }


async def _restarted(
    environment: Environment,
    settings: dict[str, str],
    producer: AIOKafkaProducer,
    watch: BreachWatch,
    tag: str,
    probes: int,
) -> dict[str, Any]:
    """Deadlines that pass while the watcher is down are reported by the next one."""
    tickets_topic = settings["AFTERCARE_TICKET_EVENTS_TOPIC"]
    down = await publish_probes(producer, tickets_topic, f"down-{tag}", max(10, probes // 10), 1.0)
    await asyncio.sleep(BUDGET_SECONDS + 1)
    restarted_at = time.monotonic()
    restarted = environment.spawn("sla-watcher", **settings)
    caught_up = await watch.wait_for(down, within=120)
    catch_up_s = time.monotonic() - restarted_at
    environment.stop(restarted)
    return {
        "catch_up_s": round(catch_up_s, 1) if caught_up else None,
        "caught_up_breaches": len(watch.delays_ms(down)),
    }
