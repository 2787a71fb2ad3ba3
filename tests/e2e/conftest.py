"""The ticket API in-process over ASGI, on each database, with a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app
from tests.conftest import empty_tables

KEYS = {
    "admin": "k-admin",
    "engineer": "k-engineer",
    "intake": "k-intake",
    "reader": "k-reader",
    "notifier": "k-notifier",
}


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


@pytest.fixture
async def api(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = SystemSettings(api_keys=",".join(f"{key}={role}" for role, key in KEYS.items()))
    app = create_app(settings, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=auth("admin")
    ) as client:
        yield client


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine straight to the test database on PostgreSQL, its tables emptied: for
    tests whose services run in their own processes or behind a proxy."""
    engine = create_engine(postgres_url)
    await empty_tables(engine)
    yield engine
    await engine.dispose()
