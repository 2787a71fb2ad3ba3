"""Section 8: the console's pages with 10,000 open tickets, timed in the server (the
ticket service and the SLA watcher's API in one process over ASGI, so the figure is the
pages' own time: no network, no browser). The queue in deadline order, the queue
filtered on the ticket side (thousands of ids sent to the watcher to order), a ticket
page, and a customer's status page."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from aftercare.clock import SystemClock
from aftercare.customer_links import StatusLinks
from aftercare.db import create_engine
from aftercare_sla.adapters.tables import sla_tickets, sla_timers
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.entrypoints.app import create_app
from aftercare_ticket.examples import raise_body
from bench.env import API_KEY, Environment, percentile

REQUESTS = 50
PRIORITIES = ("urgent", "high", "normal", "low")


Rows = list[dict[str, Any]]


def open_ticket_rows(count: int, now: datetime) -> tuple[Rows, Rows, Rows]:
    """``count`` open tickets in the list read model, each with a running T-EMAIL clock
    due between an hour ago (breached) and ten hours from ``now``, and its queue entry."""
    views: Rows = []
    timers: Rows = []
    entries: Rows = []
    for number in range(count):
        ticket = f"bench-console-{number:06d}"
        created = now - timedelta(minutes=number)
        views.append({
            "id": ticket, "version": 1, "state": "raised", "kind": "support", "channel": "email",
            "priority": PRIORITIES[number % 4], "urgent": False, "customer_ref": f"C-{number}",
            "assignee": None, "region": None, "subject": f"Case {number}", "requested_at": created,
            "created_at": created, "updated_at": created, "reopen_count": 0, "summary": {},
        })  # fmt: skip
        deadline = now + timedelta(minutes=random.randint(-60, 600))
        timers.append({
            "ticket_id": ticket, "rule": "T-EMAIL", "cycle": 1, "partition": number % 4,
            "title": "E-mail answered", "clock": "24x7", "budget_seconds": 600,
            "status": "running", "started_at": created, "deadline": deadline, "warn_at": deadline,
            "stopped_at": None, "running_since": created, "paused_since": None,
            "pause_reasons": "", "consumed_seconds": 0, "total_seconds": 600, "facts": {},
            "policy_version": "bench", "warned": deadline < now, "breached": deadline < now,
            "met_reported": False, "breached_at": deadline if deadline < now else None,
            "next_due": None, "updated_at": now,
        })  # fmt: skip
        entries.append({
            "ticket_id": ticket, "partition": number % 4, "terminal": False,
            "policy_version": "bench", "updated_at": now, "open_clocks": 1,
            "next_deadline": deadline, "breached": deadline < now,
        })  # fmt: skip
    return views, timers, entries


async def _timed(client: httpx.AsyncClient, path: str) -> dict[str, float]:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return {
        "p50_ms": round(percentile(samples, 0.5), 1),
        "p99_ms": round(percentile(samples, 0.99), 1),
    }


async def console_pages(environment: Environment) -> dict[str, Any]:
    count = environment.options.scaled(10_000, least=200)
    engine = create_engine(environment.database_url)
    now = datetime.now(UTC)
    views, timers, entries = open_ticket_rows(count, now)
    async with engine.begin() as connection:
        await connection.execute(insert(ticket_views), views)
        await connection.execute(insert(sla_timers), timers)
        await connection.execute(insert(sla_tickets), entries)
    settings = SystemSettings(api_keys=f"bench:{API_KEY}=admin", console_api_key=API_KEY)
    clock = SystemClock()
    sla_app = create_sla_app(engine, clock, settings.key_ring)
    app = create_app(
        settings, engine=engine, clock=clock, sla_transport=httpx.ASGITransport(sla_app)
    )
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept-Language": "en"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://bench", headers=headers
        ) as client:
            raised = await client.post(
                "/tickets",
                json=raise_body(requested_at=now).model_dump(mode="json", exclude_none=True),
            )
            assert raised.status_code == 201, raised.text
            ticket = raised.json()["id"]
            await _sign_in(client)
            links = StatusLinks(settings.status_secret, "http://bench", clock)
            status_path = links.for_ticket(ticket, "en").removeprefix("http://bench")
            return {
                "open_tickets": count,
                "queue": await _timed(client, "/console/queue"),
                "queue_filtered": await _timed(client, "/console/queue?priority=high"),
                "ticket_page": await _timed(client, f"/console/tickets/{ticket}"),
                "status_page": await _timed(client, status_path),
            }
    finally:
        await engine.dispose()


async def _sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/sign-in")
    token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post("/console/sign-in", data={"token": token, "api_key": API_KEY})
    assert answer.status_code == 303, answer.text
