"""``aftercare api`` as it is deployed: several worker processes sharing one port."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import free_port, port_in_use
from tests.e2e.conftest import KEYS, auth
from tests.support.kafka import eventually
from tests.support.processes import aftercare
from tests.support.ticket_api import complaint


def api_env(database_url: str, port: int) -> dict[str, str]:
    """``aftercare api`` with two worker processes on ``port``."""
    return {
        "DATABASE_URL": database_url,
        "AFTERCARE_HTTP_PORT": str(port),
        "AFTERCARE_HTTP_WORKERS": "2",
        "AFTERCARE_API_KEYS": ",".join(f"{key}={role}" for role, key in KEYS.items()),
        "AFTERCARE_LOG_LEVEL": "ERROR",
    }


@pytest.fixture
async def live_api(engine: AsyncEngine, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Two API processes on the test database, each with its own cache of tickets."""
    port = free_port()
    env = api_env(database_url, port)
    base = f"http://127.0.0.1:{port}"
    async with aftercare("api", env=env, ready_url=f"{base}/healthz"):
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=base, headers=auth("admin"), timeout=30, limits=limits
        ) as client:
            yield client


async def test_concurrent_writers_across_processes_never_get_a_conflict(
    live_api: httpx.AsyncClient,
) -> None:
    """Ten rounds of 50 simultaneous updates without a version, spread over two processes
    on new connections: every one lands, in one unbroken history."""
    for _ in range(10):
        raised = await live_api.post("/tickets", json=complaint())
        ticket_id = raised.json()["id"]
        responses = await asyncio.gather(
            *(
                live_api.post(f"/tickets/{ticket_id}/report-progress", json={"message": f"{n}"})
                for n in range(50)
            )
        )
        statuses = [response.status_code for response in responses]
        assert statuses.count(200) == 50, [r.text for r in responses if r.status_code != 200]
        events = (await live_api.get(f"/tickets/{ticket_id}/events")).json()["events"]
        assert [event["version"] for event in events] == list(range(1, 52))


async def test_an_api_killed_mid_load_loses_nothing_it_acknowledged(
    engine: AsyncEngine, database_url: str
) -> None:
    """``kill -9`` of the API (its supervisor: the workers die with it) while 16 clients
    write; once restarted, every command that was answered 2xx is in the history."""
    port = free_port()
    env = api_env(database_url, port)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[tuple[str, int]] = []
    running = True

    async def client(api: httpx.AsyncClient) -> None:
        while running:
            try:
                raised = await api.post("/tickets", json=complaint())
                if raised.status_code != 201:
                    continue
                ticket_id = raised.json()["id"]
                acknowledged.append((ticket_id, 1))
                answer = await api.post(
                    f"/tickets/{ticket_id}/report-progress", json={"message": "m"}
                )
                if answer.status_code == 200:
                    acknowledged.append((ticket_id, int(answer.headers["ETag"].strip('"'))))
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # the server is gone: keep trying

    async with (
        aftercare("api", env=env, ready_url=f"{base}/healthz") as first,
        httpx.AsyncClient(base_url=base, headers=auth("admin"), timeout=5) as api,
    ):
        clients = [asyncio.create_task(client(api)) for _ in range(16)]
        await asyncio.sleep(2)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await eventually(lambda: not port_in_use("127.0.0.1", port), 10, "workers gone")
        killed_with = len(acknowledged)
        async with aftercare("api", env=env, ready_url=f"{base}/healthz"):
            await eventually(lambda: len(acknowledged) > killed_with + 20, 30, "served again")
            running = False
            await asyncio.gather(*clients)
            for ticket_id, version in set(acknowledged):
                history = (await api.get(f"/tickets/{ticket_id}/events")).json()["events"]
                assert len(history) >= version, ticket_id
    assert killed_with > 0
