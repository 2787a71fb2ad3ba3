"""The ticket API under concurrent callers, on SQLite and PostgreSQL: idempotency keys
raced, commands without a version that never conflict, one winner per version, two API
processes writing one ticket."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app
from tests.e2e.conftest import KEYS, auth
from tests.support.ticket_api import PROBLEM, complaint, expected_time, raise_ticket, send


async def test_idempotency_key_returns_the_same_ticket(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "crm-call-77"}
    first = await api.post("/tickets", json=complaint(), headers=headers)
    again = await api.post("/tickets", json=complaint(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]

    different = await api.post("/tickets", json=complaint(subject="Other"), headers=headers)
    assert different.status_code == 422
    assert different.headers["content-type"] == PROBLEM
    assert different.json()["field"] == "Idempotency-Key"
    listed = (await api.get("/tickets")).json()["items"]
    assert len(listed) == 1


async def test_same_idempotency_key_sent_concurrently_creates_one_ticket(
    api: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "dup-burst"}
    responses = await asyncio.gather(
        *(api.post("/tickets", json=complaint(), headers=headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len((await api.get("/tickets")).json()["items"]) == 1


async def test_stale_version_is_a_conflict(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ticket = await raise_ticket(api, kind="support")
    ack = {"plan": "p", "expected_resolution_at": expected_time(clock)}
    assert (
        await send(api, ticket, "acknowledge", ack, headers={"If-Match": '"1"'})
    ).status_code == 200
    stale = await send(api, ticket, "assign", {"assignee": "a"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == PROBLEM
    assert (stale.json()["expected_version"], stale.json()["actual_version"]) == (1, 2)
    assert stale.headers["ETag"] == '"2"'
    in_body = await send(api, ticket, "assign", {"assignee": "a", "expected_version": 1})
    assert in_body.status_code == 409
    assert (await api.get(f"/tickets/{ticket['id']}")).json()["version"] == 2


async def test_concurrent_commands_without_a_version_all_land(api: httpx.AsyncClient) -> None:
    """Writers of one ticket queue: without a version none of them may get a 409."""
    ticket = await raise_ticket(api)
    responses = await asyncio.gather(
        *(send(api, ticket, "report-progress", {"message": f"update {n}"}) for n in range(50))
    )
    assert sorted({r.status_code for r in responses}) == [200]
    history = (await api.get(f"/tickets/{ticket['id']}/events")).json()["events"]
    assert [event["version"] for event in history] == list(range(1, 52))


async def test_two_api_processes_writing_one_ticket_never_conflict(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    """Each API process caches the tickets it wrote last; the other's writes make that
    copy stale, which must cost a re-decision, never a 409 the caller did not ask for."""
    ticket = await raise_ticket(api)
    settings = SystemSettings(api_keys=",".join(f"{key}={role}" for role, key in KEYS.items()))
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, engine=engine, clock=clock)),
        base_url="http://testserver",
        headers=auth("admin"),
    )
    async with other:
        clients = [api, other]
        responses = await asyncio.gather(
            *(
                send(clients[n % 2], ticket, "report-progress", {"message": f"{n}"})
                for n in range(40)
            )
        )
    assert sorted({r.status_code for r in responses}) == [200]
    history = (await api.get(f"/tickets/{ticket['id']}/events")).json()["events"]
    assert len(history) == 41


async def test_concurrent_commands_with_one_version_have_one_winner(
    api: httpx.AsyncClient,
) -> None:
    ticket = await raise_ticket(api)
    responses = await asyncio.gather(
        *(
            send(api, ticket, "report-progress", {"message": f"{n}"}, headers={"If-Match": '"1"'})
            for n in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert (conflict["expected_version"], conflict["actual_version"]) == (1, 2)


async def test_one_idempotency_key_raced_on_two_tickets_is_refused_once(
    api: httpx.AsyncClient,
) -> None:
    first, second = await raise_ticket(api), await raise_ticket(api)
    headers = {"Idempotency-Key": "progress-42", "If-Match": '"1"'}
    responses = await asyncio.gather(
        send(api, first, "report-progress", {"message": "m"}, headers=headers),
        send(api, second, "report-progress", {"message": "m"}, headers=headers),
    )
    assert sorted(r.status_code for r in responses) == [200, 422]
    refused = next(r for r in responses if r.status_code == 422)
    assert refused.json()["field"] == "Idempotency-Key"
    versions = [(await api.get(f"/tickets/{t['id']}")).json()["version"] for t in (first, second)]
    assert sorted(versions) == [1, 2]  # the refused one wrote nothing
