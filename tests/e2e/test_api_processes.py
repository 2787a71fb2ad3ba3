"""``aftercare api`` as it is deployed: several worker processes sharing one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import free_port
from tests.e2e.conftest import KEYS, auth
from tests.e2e.test_ticket_api import complaint
from tests.processes import aftercare


@pytest.fixture
async def live_api(engine: AsyncEngine, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Two API processes on the test database, each with its own cache of tickets."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "AFTERCARE_HTTP_PORT": str(port),
        "AFTERCARE_HTTP_WORKERS": "2",
        "AFTERCARE_API_KEYS": ",".join(f"{key}={role}" for role, key in KEYS.items()),
        "AFTERCARE_LOG_LEVEL": "WARNING",
    }
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
