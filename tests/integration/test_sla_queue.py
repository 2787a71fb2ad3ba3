"""``POST /sla/queue`` on both databases: open tickets in deadline order (a breached one
first, as its deadline has passed), filtered to the tickets named, breached only, paged,
with limits on what a request may name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.migrations import downgrade, upgrade
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_system import SERVICE_PACKAGES
from tests.integration.test_sla_watcher import (
    READER_KEYS,
    cloudevents,
    deliver,
    verdicts,
    watcher_for,
)
from tests.support.sla_scenarios import Scenario, ack, event, later

READER = {"Authorization": "Bearer k"}


def email(raised_minutes: float, *steps: Any) -> Scenario:
    return Scenario(
        "T-EMAIL",
        channel="email",
        steps=list(steps),
        stop=ack(later(raised_minutes + 9)),
        raised_at=later(raised_minutes),
    )


@pytest.fixture
async def queue(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """Three open tickets at 30 minutes: one breached at 10, one due at 35, one waiting on
    its customer (every clock paused); and one whose clock was met."""
    clock.set(later(0))
    watcher = watcher_for(SqlWatcherStore(engine), clock)
    await deliver(watcher, cloudevents("q-late", email(0), met=False))
    await deliver(watcher, cloudevents("q-met", email(1), met=True))
    await deliver(watcher, cloudevents("q-soon", email(25), met=False))
    waiting = email(2, ack(later(3)), event(later(4), "CustomerInfoRequested",
                                               paused_from="acknowledged"))  # fmt: skip
    await deliver(watcher, cloudevents("q-paused", waiting, met=False))
    clock.set(later(30))
    await watcher.fire_due()
    app = create_sla_app(engine, clock, READER_KEYS)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sla", headers=READER
    ) as client:
        yield client


async def test_open_tickets_come_in_deadline_order_breached_first(
    queue: httpx.AsyncClient,
) -> None:
    answer = await queue.post("/sla/queue", json={})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    order = [item["ticket_id"] for item in page["items"]]
    assert order[:2] == ["q-late", "q-soon"]
    assert "q-met" not in order or order.index("q-met") > 1
    late = page["items"][0]["clocks"]
    assert late[0]["rule"] == "T-EMAIL"
    assert late[0]["breached"] is True
    paused = next(i for i in page["items"] if i["ticket_id"] == "q-paused")
    assert all(c["status"] == "paused" for c in paused["clocks"])
    assert order[-1] == "q-paused"  # nothing running: after every deadline
    assert page["total"] == len(order)


async def test_the_queue_keeps_to_the_tickets_named_and_pages(queue: httpx.AsyncClient) -> None:
    named = await queue.post("/sla/queue", json={"tickets": ["q-soon", "q-paused", "nope"]})
    assert [i["ticket_id"] for i in named.json()["items"]] == ["q-soon", "q-paused"]
    assert named.json()["total"] == 2
    breached = await queue.post("/sla/queue", json={"breached_only": True})
    assert [i["ticket_id"] for i in breached.json()["items"]] == ["q-late"]
    first = await queue.post("/sla/queue", json={"limit": 1})
    second = await queue.post("/sla/queue", json={"limit": 1, "offset": 1})
    assert first.json()["items"][0]["ticket_id"] == "q-late"
    assert second.json()["items"][0]["ticket_id"] == "q-soon"
    assert second.json()["total"] == first.json()["total"]


async def test_a_queue_request_out_of_bounds_is_refused(queue: httpx.AsyncClient) -> None:
    too_many = await queue.post("/sla/queue", json={"tickets": [f"t{n}" for n in range(5001)]})
    assert too_many.status_code == 422
    assert too_many.headers["content-type"] == "application/problem+json"
    for body in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"colour": "red"}):
        refused = await queue.post("/sla/queue", json=body)
        assert refused.status_code == 422, body
    long_id = await queue.post("/sla/queue", json={"tickets": ["x" * 65]})
    assert long_id.json() == {"total": 0, "items": []}
    anonymous = await queue.post("/sla/queue", json={}, headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_queue_entries_are_filled_in_for_tickets_watched_before_them(
    queue: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Upgrading a watcher's database puts every ticket it already watches in its place
    in the queue, from the timers it kept."""
    before = (await queue.post("/sla/queue", json={})).json()
    breached = (await queue.post("/sla/queue", json={"breached_only": True})).json()
    await downgrade(engine, SERVICE_PACKAGES, "0204_page_limit")
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("sla_tickets")]
            )
        assert "next_deadline" not in columns
    finally:
        await upgrade(engine, SERVICE_PACKAGES)
    assert (await queue.post("/sla/queue", json={})).json() == before
    assert (await queue.post("/sla/queue", json={"breached_only": True})).json() == breached
    assert [item["ticket_id"] for item in breached["items"]] == ["q-late"]


async def test_deadlines_passing_together_are_breached_once_each_and_queued_first(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """A burst of deadlines judged in one round: each ticket's breach announced once on
    its own stream (the watcher appends them all together), each ticket queued as
    breached, and the next round finds nothing left to say."""
    clock.set(later(0))
    store = SqlWatcherStore(engine)
    watcher = watcher_for(store, clock)
    burst = [f"q-burst-{n:02}" for n in range(40)]
    for ticket in burst:
        await deliver(watcher, cloudevents(ticket, email(0), met=False))
    await deliver(watcher, cloudevents("q-soon", email(25), met=False))
    clock.set(later(30))

    fired = await watcher.fire_due()
    assert await watcher.fire_due() == 0
    said = {ticket: await verdicts(store, ticket) for ticket in [*burst, "q-soon"]}
    assert fired == sum(len(recorded) for recorded in said.values())
    for ticket in burst:
        email_verdicts = [v for v in said[ticket] if v.data["rule"] == "T-EMAIL"]
        assert [v.type for v in email_verdicts] == ["SlaBreached"], ticket
        assert [v.version for v in said[ticket]] == list(range(1, len(said[ticket]) + 1))
    assert said["q-soon"] == []

    app = create_sla_app(engine, clock, READER_KEYS)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sla", headers=READER
    ) as client:
        breached = (await client.post("/sla/queue", json={"breached_only": True})).json()
        everyone = (await client.post("/sla/queue", json={"limit": 200})).json()
    assert sorted(item["ticket_id"] for item in breached["items"]) == burst
    assert [item["ticket_id"] for item in everyone["items"]][-1] == "q-soon"
