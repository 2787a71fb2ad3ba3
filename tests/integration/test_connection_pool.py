"""A service's connections to PostgreSQL outlive the burst that opened them: the next
burst finds them open instead of paying for new ones (TLS, authentication and the
driver's type queries, 50-100 ms each, the event loop blocked during part of it)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import create_engine

pytestmark = pytest.mark.postgres

BURST = 32
"""As many requests in flight at once as the benchmark's clients."""


async def burst(engine: AsyncEngine, size: int) -> set[int]:
    """``size`` transactions at once, each holding its connection for a moment: the
    server processes that served them."""

    async def one() -> int:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await connection.execute(text("SELECT pg_sleep(0.05)"))
            return int(pid)

    return set(await asyncio.gather(*(one() for _ in range(size))))


async def test_bursts_past_twenty_requests_reuse_the_connections_the_first_one_opened(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        first = await burst(engine, BURST)
        assert len(first) == BURST  # opened as the load asked
        for _ in range(3):
            await asyncio.sleep(0)  # a lull: every connection back in the pool
            assert await burst(engine, BURST) <= first
    finally:
        await engine.dispose()


async def test_a_burst_beyond_the_pool_waits_for_a_connection_instead_of_failing(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        served = await burst(engine, 60)
        assert len(served) == 40  # the pool's size: the rest waited their turn
    finally:
        await engine.dispose()
