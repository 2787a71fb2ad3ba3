"""A starting API prepares its routes before it serves, without a request of its own
reaching the door: nothing is logged, counted or authenticated for it."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import create_engine
from aftercare.http import prepare_routes
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app


def counted(route: str) -> float:
    total = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("route") == route:
                total += sample.value
    return total


def engine() -> AsyncEngine:
    return create_engine("sqlite+aiosqlite:///:memory:")


async def test_routes_are_prepared_at_start_without_a_request_through_the_door() -> None:
    app = create_app(SystemSettings(api_keys="key-1=admin"), engine=engine())
    before = {route: counted(route) for route in ("/.prepare-routes", "unmatched", "")}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        refused = await client.get("/tickets")  # the prepared routes still authenticate
        assert refused.status_code == 401
    after = {route: counted(route) for route in before}
    assert after == before


async def test_preparing_twice_or_on_a_bare_app_is_harmless() -> None:
    app = create_app(SystemSettings(api_keys="key-1=admin"), engine=engine())
    await prepare_routes(app)
    await prepare_routes(app)
