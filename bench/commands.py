"""Sections 1–3: commands over HTTP, the database's own limit, and publish lag."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from aftercare.broker import free_port
from bench.env import API_KEY, CpuMeter, Environment, Options, percentile, postgres_pids
from bench.http import RawClient, Response

WALK = ("acknowledge", "diagnose", "resolve", "revisit")


def raise_body(client: int, n: int) -> dict[str, Any]:
    return {
        "kind": "support",
        "channel": "api",
        "priority": "normal",
        "customer": {"id": f"CUST-{client}", "name": "Bench Customer", "email": "b@example.com"},
        "product": {"sku": "WF-200", "model": "W200", "order_ref": f"SO-{client}-{n}"},
        "subject": "Yield dropped after the last batch",
        "description": "Yield fell from 92% to 70% on line 3 after the wafer batch change.",
    }


def command_body(name: str) -> dict[str, Any]:
    if name == "acknowledge":
        due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        return {"plan": "Remote log analysis", "expected_resolution_at": due}
    if name == "diagnose":
        return {"findings": "Contaminated batch", "method": "remote"}
    if name == "resolve":
        return {
            "solution": "Replaced the batch",
            "verification": {"method": "Yield test", "result": "92%", "passed": True},
        }
    return {"satisfaction": 5}


@dataclass
class WalkResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    commands: int = 0
    issued: int = 0
    """Commands sent, the warm-up's included: what the server's CPU time was spent on."""
    error_samples: list[str] = field(default_factory=list)


async def walk_one(client: RawClient, number: int, n: int) -> list[tuple[Response, float]]:
    """One ticket raised and walked: each answer with the moment its request was sent."""
    started = time.perf_counter()
    response = await client.request("POST", "/tickets", orjson.dumps(raise_body(number, n)))
    steps = [(response, started)]
    if response.status == 201:
        ticket, etag = orjson.loads(response.body)["id"], response.headers["etag"]
        for name in WALK:
            started = time.perf_counter()
            response = await client.request(
                "POST",
                f"/tickets/{ticket}/{name}",
                orjson.dumps(command_body(name)),
                {"If-Match": etag},
            )
            steps.append((response, started))
            if response.status != 200:
                break
            etag = response.headers["etag"]
    return steps


async def walker(
    client: RawClient, number: int, deadline: float, warmup_until: float, result: WalkResult
) -> None:
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            try:
                steps = await walk_one(client, number, n)
            except ConnectionError as error:  # counted as an error; the next walk reconnects
                await client.close()
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"connection: {error}")
                continue
            finished = time.perf_counter()
            result.issued += len(steps)
            for index, (answer, began) in enumerate(steps):
                end = steps[index + 1][1] if index + 1 < len(steps) else finished
                if time.monotonic() < warmup_until:
                    continue
                result.commands += 1
                result.latencies_ms.append((end - began) * 1000)
                if answer.status not in (200, 201):
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{answer.status} {answer.body[:200]!r}")
    finally:
        await client.close()


async def drive(port: int, headers: dict[str, str], options: Options) -> tuple[WalkResult, float]:
    """``options.clients`` clients walking tickets on ``port`` for ``options.seconds``
    after a warm-up: what they saw, and the seconds measured (the warm-up's excluded)."""
    result = WalkResult()
    warmup = min(2.0, options.seconds / 5)
    start = time.monotonic()
    await asyncio.gather(
        *(
            walker(
                RawClient("127.0.0.1", port, headers),
                number,
                start + warmup + options.seconds,
                start + warmup,
                result,
            )
            for number in range(options.clients)
        )
    )
    return result, time.monotonic() - start - warmup


async def walk_tickets(environment: Environment, options: Options | None = None) -> dict[str, Any]:
    """Section 1 (and 3): concurrent clients walking tickets over HTTP, relay running
    (``options`` in place of the run's: the scaling section's other process counts)."""
    options = options or environment.options
    port = free_port()
    api = environment.spawn(
        "api", AFTERCARE_HTTP_PORT=str(port), AFTERCARE_HTTP_WORKERS=str(options.workers)
    )
    relay_metrics = free_port()
    relay = environment.spawn("relay", "--metrics-port", str(relay_metrics))
    await environment.wait_http(f"http://127.0.0.1:{port}/readyz", api)
    await environment.wait_http(f"http://127.0.0.1:{relay_metrics}/metrics", relay)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    server_cpu = CpuMeter([api.pid])
    client_cpu = CpuMeter([os.getpid()], children=False)
    database_cpu = CpuMeter(postgres_pids())
    result, elapsed = await drive(port, headers, options)
    cpu = {
        "server_cpu_ms_per_command": round(server_cpu.seconds() * 1000 / max(1, result.issued), 2),
        "server_cpu_percent": round(server_cpu.percent(), 1),
        "client_cpu_percent": round(client_cpu.percent(), 1),
        "postgres_cpu_percent": round(database_cpu.percent(), 1),
    }
    lag = await _relay_lag(f"http://127.0.0.1:{relay_metrics}/metrics")
    environment.stop(api)
    environment.stop(relay)
    return {
        "commands": result.commands,
        "commands_per_s": round(result.commands / elapsed, 1),
        "p50_ms": round(percentile(result.latencies_ms, 0.50), 2),
        "p95_ms": round(percentile(result.latencies_ms, 0.95), 2),
        "p99_ms": round(percentile(result.latencies_ms, 0.99), 2),
        "errors": result.errors,
        "error_samples": result.error_samples,
        "clients": options.clients,
        "api_workers": options.workers,
        **cpu,
        **lag,
    }


async def _relay_lag(metrics_url: str) -> dict[str, Any]:
    """Section 3: the relay's own p50/p99 of commit → broker acknowledgement, read once
    it has drained (two scrapes in a row agree)."""
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 30
        last: dict[str, float] = {}
        while time.monotonic() < deadline:
            samples = [
                sample
                for family in text_string_to_metric_families((await client.get(metrics_url)).text)
                for sample in family.samples
            ]
            values = {
                sample.labels["quantile"]: sample.value
                for sample in samples
                if sample.name == "aftercare_relay_publish_lag_recent_seconds"
            }
            published = sum(
                sample.value
                for sample in samples
                if sample.name == "aftercare_relay_published_events_total"
            )
            if values and values == last:
                return {
                    "publish_lag_p50_ms": round(values["0.5"] * 1000, 1),
                    "publish_lag_p99_ms": round(values["0.99"] * 1000, 1),
                    "events_published": int(published),
                }
            last = values
            await asyncio.sleep(1.0)
    return {"publish_lag_p50_ms": None, "publish_lag_p99_ms": None, "events_published": 0}


LIMIT_TABLES = """
CREATE TABLE bench_events (
    global_position bigserial PRIMARY KEY,
    stream_id text NOT NULL,
    version integer NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TABLE bench_outbox (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    created_at timestamptz NOT NULL
);
"""
PAYLOAD = orjson.dumps(
    {"ticket_id": "x", "plan": "Remote log analysis", "findings": "Contaminated batch" * 10}
).decode()


async def database_limit(environment: Environment) -> dict[str, Any]:
    """Section 2: the same number of clients appending straight through asyncpg: one
    transaction per command with the version check, the event row and the outbox row."""
    options = environment.options
    setup = await asyncpg.connect(environment.asyncpg_dsn)
    await setup.execute(LIMIT_TABLES)
    await setup.close()
    pool = await asyncpg.create_pool(
        environment.asyncpg_dsn, min_size=options.clients, max_size=options.clients
    )
    appends = 0
    conflicts = 0
    warmup = min(2.0, options.seconds / 5)
    start = time.monotonic()

    async def appender() -> None:
        nonlocal appends, conflicts
        async with pool.acquire() as connection:
            while time.monotonic() < start + warmup + options.seconds:
                stream = str(uuid.uuid4())
                for expected in range(5):
                    async with connection.transaction():
                        version = await connection.fetchval(
                            "SELECT coalesce(max(version), 0) FROM bench_events "
                            "WHERE stream_id = $1",
                            stream,
                        )
                        if version != expected:
                            conflicts += 1
                            continue
                        event_id = uuid.uuid4()
                        now = datetime.now(UTC)
                        await connection.execute(
                            "INSERT INTO bench_events (stream_id, version, event_id, type, data, "
                            "metadata, recorded_at) VALUES ($1, $2, $3, $4, $5, '{}', $6)",
                            stream,
                            version + 1,
                            event_id,
                            "Acknowledged",
                            PAYLOAD,
                            now,
                        )
                        await connection.execute(
                            "INSERT INTO bench_outbox (event_id, created_at) VALUES ($1, $2)",
                            event_id,
                            now,
                        )
                    if time.monotonic() >= start + warmup:
                        appends += 1

    database_cpu = CpuMeter(postgres_pids())
    await asyncio.gather(*(appender() for _ in range(options.clients)))
    elapsed = time.monotonic() - start - warmup
    await pool.close()
    return {
        "limit_appends": appends,
        "limit_appends_per_s": round(appends / elapsed, 1),
        "limit_conflicts": conflicts,
        "limit_postgres_cpu_percent": round(database_cpu.percent(), 1),
    }
