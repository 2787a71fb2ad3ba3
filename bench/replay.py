"""Section 5: rebuild the read model from the event log (``aftercare rebuild-views``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import psutil

from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.events import TicketEvent, encode
from aftercare_ticket.examples import context, raise_body, raised, run, sample
from bench.env import Environment, copy_events

EVENTS_PER_TICKET = 5


def ticket_template() -> list[tuple[str, dict[str, Any]]]:
    """One real ticket's events (raise → acknowledge → diagnose → resolve → revisit)."""
    ticket = raised()
    events: list[TicketEvent] = [raise_request("t", raise_body(), context())]
    for name in ("acknowledge", "diagnose", "resolve", "revisit"):
        events += decide(ticket, sample(name), context())
        ticket = run(ticket, sample(name))
    return [(event.event_type, encode(event)) for event in events[:EVENTS_PER_TICKET]]


async def seed_events(environment: Environment, count: int) -> int:
    template = ticket_template()
    tickets = count // EVENTS_PER_TICKET
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chunk = 20_000
    for first in range(0, tickets, chunk):
        records = []
        for number in range(first, min(first + chunk, tickets)):
            stream = f"replay-{number}"
            for version, (event_type, data) in enumerate(template, start=1):
                records.append(
                    (
                        stream,
                        version,
                        uuid.uuid4(),
                        event_type,
                        1,
                        orjson.dumps({**data, "ticket_id": stream}).decode(),
                        "{}",
                        start + timedelta(seconds=number, milliseconds=version),
                    )
                )
        await copy_events(environment, records)
    return tickets * EVENTS_PER_TICKET


async def replay(environment: Environment) -> dict[str, Any]:
    count = environment.options.scaled(1_000_000, least=1_000)
    seeded_at = time.monotonic()
    events = await seed_events(environment, count)
    seed_s = time.monotonic() - seeded_at
    connection = await asyncpg.connect(environment.asyncpg_dsn)
    total = await connection.fetchval("SELECT count(*) FROM events")
    await connection.close()

    started = time.monotonic()
    process = environment.spawn("rebuild-views")
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"rebuild-views failed: {error[-2000:]}")
    return {
        "events": int(total),
        "seeded_events": events,
        "seed_s": round(seed_s, 1),
        "rebuild_s": round(elapsed, 2),
        "events_per_s": round(total / elapsed, 0),
        "peak_rss_mb": round(peak / 2**20, 1),
    }
