"""Section 6: the state of a long-lived ticket as of a past moment, over HTTP."""

from __future__ import annotations

import random
import time
import uuid
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
    events = environment.options.scaled(1_000, least=100)
    ticket_id, start = await long_ticket(environment, events)
    port = free_port()
    api = environment.spawn("api", AFTERCARE_HTTP_PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    await environment.wait_http(f"{url}/readyz", api)
    latencies = []
    versions = []
    randomness = random.Random(7)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        for _ in range(QUERIES):
            moment = start + timedelta(minutes=randomness.randint(events // 2, events))
            began = time.perf_counter()
            response = await client.get(
                f"/tickets/{ticket_id}", params={"as_of": moment.isoformat()}
            )
            latencies.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
            versions.append(response.json()["version"])
    environment.stop(api)
    return {
        "events": events,
        "queries": QUERIES,
        "first_read_ms": round(latencies[0], 2),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "versions_seen": [min(versions), max(versions)],
    }
