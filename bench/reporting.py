"""Section 7: the reporting projection catching up from an empty read model over the
ticket topic, a quarter's KPIs over that data (the first query, which folds the
quarter's snapshots, then repeated queries over HTTP), and a quarterly report (HTML +
PDF + XLSX + CSV) published on demand."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from aftercare.broker import free_port
from aftercare.cloudevents import CloudEvent, to_kafka
from aftercare_ticket.adapters.publishing import SOURCE as CLOUDEVENT_SOURCE
from aftercare_ticket.contract import ce_type
from bench.env import API_KEY, Environment, percentile
from bench.replay import EVENTS_PER_TICKET, ticket_template

TOPIC = "bench.reporting.ticket-events.v1"
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
KPI_QUERIES = 30
STEPS = (timedelta(0), timedelta(minutes=4), timedelta(minutes=40), timedelta(hours=3))


def ticket_events(number: int, template: list[tuple[str, dict[str, Any]]]) -> list[CloudEvent]:
    """One ticket's five published events, raised at a moment spread over the year."""
    ticket = f"bench-{number}"
    raised = YEAR + timedelta(minutes=(number * 263) % (365 * 24 * 60))
    events = []
    for version, (event_type, data) in enumerate(template, start=1):
        at = raised + (STEPS[version - 1] if version <= len(STEPS) else timedelta(hours=4))
        payload = {**data, "ticket_id": ticket, "occurred_at": at.isoformat()}
        if event_type == "RequestRaised":
            payload["requested_at"] = raised.isoformat()
            payload["region"] = ("华东", "华北", "华南", "西南")[number % 4]
        events.append(
            CloudEvent(
                id=str(uuid.uuid4()),
                source=CLOUDEVENT_SOURCE,
                type=ce_type(event_type, 1),
                time=at,
                subject=ticket,
                sequence=version,
                data=payload,
            )
        )
    return events


async def seed_topic(environment: Environment, count: int) -> int:
    """``count`` ticket events on a fresh topic, keyed by ticket as the relay does."""
    await environment.topic(TOPIC, partitions=4)
    template = ticket_template()
    producer = AIOKafkaProducer(
        bootstrap_servers=environment.broker.bootstrap_servers,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    sent = 0
    try:
        pending: list[asyncio.Future[Any]] = []
        for number in range(count // EVENTS_PER_TICKET):
            for event in ticket_events(number, template):
                headers, value = to_kafka(event)
                pending.append(
                    await producer.send(
                        TOPIC, value=value, key=event.subject.encode(), headers=headers
                    )
                )
                sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


PROCESSED = 'aftercare_consumer_events_total{consumer="reporting",outcome="processed"}'


async def _facts(clients: list[httpx.AsyncClient]) -> int:
    """Events the members have applied and committed, from their own metrics (a count
    over the projection's tables would compete with them for the database)."""
    applied = 0
    for client in clients:
        for line in (await client.get("/metrics")).text.splitlines():
            if line.startswith(PROCESSED):
                applied += int(float(line.split()[-1]))
    return applied


@dataclass(frozen=True)
class CatchUp:
    """How long the members took to start and join their group (until the first facts
    were in), and then how fast they folded the rest."""

    start_s: float
    total_s: float
    first_facts: int

    def rate(self, expected: int) -> float:
        """Events a second from the first fact in to the last; when the first look
        already found every fact (a small run), the rate counting the start instead."""
        folding = self.total_s - self.start_s
        if folding <= 0 or self.first_facts >= expected:
            return expected / self.total_s
        return (expected - self.first_facts) / folding


async def catch_up(environment: Environment, expected: int, urls: list[str]) -> CatchUp:
    """Start the reporting members (one consumer group) on the seeded topic; timings
    until every fact is in."""
    started = time.monotonic()
    members = [
        environment.spawn(
            "reporting",
            AFTERCARE_TICKET_EVENTS_TOPIC=TOPIC,
            AFTERCARE_REPORTING_PORT=url.rsplit(":", 1)[1],
        )
        for url in urls
    ]
    for url, member in zip(urls, members, strict=True):
        await environment.wait_http(f"{url}/healthz", member)
    deadline = started + 900
    first: tuple[float, int] | None = None
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
    try:
        while (done := await _facts(clients)) < expected:
            if time.monotonic() > deadline or any(m.poll() is not None for m in members):
                raise RuntimeError(f"reporting caught up {done} of {expected} facts")
            if first is None and done > 0:
                first = (time.monotonic() - started, done)
            await asyncio.sleep(0.2)
    finally:
        for client in clients:
            await client.aclose()
    total = time.monotonic() - started
    start_s, first_facts = first or (total, expected)
    return CatchUp(start_s, total, first_facts)


async def reporting(environment: Environment) -> dict[str, Any]:
    count = environment.options.scaled(1_000_000, least=2_000)
    seeded_at = time.monotonic()
    events = await seed_topic(environment, count)
    seed_s = time.monotonic() - seeded_at
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(environment.options.reporting_members)]
    caught_up = await catch_up(environment, events, urls)
    url = urls[0]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    params = {"from": QUARTER[0].isoformat(), "to": QUARTER[1].isoformat()}
    latencies = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        began = time.perf_counter()
        (await client.get("/kpis", params=params)).raise_for_status()
        first_s = time.perf_counter() - began
        for _ in range(KPI_QUERIES):
            began = time.perf_counter()
            answer = await client.get("/kpis", params=params)
            latencies.append(time.perf_counter() - began)
            answer.raise_for_status()
        cases = answer.json()["rows"][0]["cases"]
        began = time.perf_counter()
        published = await client.post(
            "/reports", json={"start": params["from"], "end": params["to"]}
        )
        report_s = time.perf_counter() - began
        published.raise_for_status()
        files = published.json()["files"]
    return {
        "events": events,
        "members": len(urls),
        "seed_s": round(seed_s, 1),
        "catch_up_s": round(caught_up.total_s, 1),
        "start_s": round(caught_up.start_s, 1),
        "events_per_s": round(caught_up.rate(events)),
        "events_per_s_with_start": round(events / caught_up.total_s),
        "quarter_cases": cases,
        "quarter_kpis_first_ms": round(first_s * 1000, 1),
        "quarter_kpis_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "quarter_kpis_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "report_s": round(report_s, 2),
        "report_bytes": {name: file["size"] for name, file in files.items()},
    }
