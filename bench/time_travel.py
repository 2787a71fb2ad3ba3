"""Section 6: the state of a long-lived ticket as of a past moment, over HTTP."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from aftercare.broker import free_port
from aftercare_ticket.domain.decide import raise_request
from aftercare_ticket.domain.events import ProgressReported, encode
from aftercare_ticket.examples import context, raise_body
from bench.env import API_KEY, Environment, copy_events, percentile

QUERIES = 1000


async def long_ticket(environment: Environment, events: int) -> tuple[str, datetime]:
    ticket_id = f"long-{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    first = encode(raise_request(ticket_id, raise_body(requested_at=start), context(now=start)))
    records = [
        (ticket_id, 1, uuid.uuid4(), "RequestRaised", 1, orjson.dumps(first).decode(), "{}", start)
    ]
    for version in range(2, events + 1):
        at = start + timedelta(minutes=version)
        data = encode(
            ProgressReported(
                ticket_id=ticket_id, occurred_at=at, message=f"update {version}", channel="email"
            )
        )
        records.append(
            (
                ticket_id,
                version,
                uuid.uuid4(),
                "ProgressReported",
                1,
                orjson.dumps(data).decode(),
                "{}",
                at,
            )
        )
    await copy_events(environment, records)
    return ticket_id, start


async def time_travel(environment: Environment) -> dict[str, Any]:
    """A first API process reads the ticket once (the first read ever: no snapshot
    anywhere), keeping its snapshots in the store; a second, newly started one then
    answers ``QUERIES`` reads as of random past moments, its first one cold."""
    events = environment.options.scaled(1_000, least=100)
    ticket_id, start = await long_ticket(environment, events)
    randomness = random.Random(7)

    def moment() -> datetime:
        return start + timedelta(minutes=randomness.randint(events // 2, events))

    async with _api(environment) as client:
        first_ever = await _read(client, ticket_id, moment())
        await _read(client, ticket_id, None)  # through to the end: every snapshot kept
    latencies, versions = [], []
    async with _api(environment) as client:
        for _ in range(QUERIES):
            latency, version = await _timed(client, ticket_id, moment())
            latencies.append(latency)
            versions.append(version)
    return {
        "events": events,
        "queries": QUERIES,
        "first_read_ever_ms": round(first_ever, 2),
        "first_read_ms": round(latencies[0], 2),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "versions_seen": [min(versions), max(versions)],
    }


@asynccontextmanager
async def _api(environment: Environment) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    api = environment.spawn("api", AFTERCARE_HTTP_PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    await environment.wait_http(f"{url}/readyz", api)
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as client:
            yield client
    finally:
        environment.stop(api)


async def _read(client: httpx.AsyncClient, ticket_id: str, as_of: datetime | None) -> float:
    return (await _timed(client, ticket_id, as_of))[0]


async def _timed(
    client: httpx.AsyncClient, ticket_id: str, as_of: datetime | None
) -> tuple[float, int]:
    params = {"as_of": as_of.isoformat()} if as_of else {}
    began = time.perf_counter()
    response = await client.get(f"/tickets/{ticket_id}", params=params)
    elapsed = (time.perf_counter() - began) * 1000
    response.raise_for_status()
    return elapsed, int(response.json()["version"])
