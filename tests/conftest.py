"""Fixtures shared by every test: databases (PostgreSQL and SQLite), clocks, the app.

PostgreSQL is a real server. Under ``CI=true`` its absence fails the run; elsewhere
the PostgreSQL half of each parametrised test is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare.migrations import upgrade
from aftercare.processed import DEAD_LETTER_SUFFIX
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_system import SERVICE_PACKAGES

PG_ADMIN_DSN = os.environ.get("AFTERCARE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
STUCK_AFTER = 180.0  # seconds; pytest-timeout fails the test at 240


def _print_tasks(test: str) -> None:
    print(f"{test} still running after {STUCK_AFTER:.0f} s; its tasks:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=sys.stderr)


@pytest.fixture(autouse=True)
async def report_stuck_tasks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """A test waiting on something that never comes shows where each task waits (the
    timeout's own dump shows only the event loop's select)."""
    handle = asyncio.get_running_loop().call_later(STUCK_AFTER, _print_tasks, request.node.nodeid)
    try:
        yield
    finally:
        handle.cancel()


async def _pg_reachable() -> str | None:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, migrated database on the real server, dropped at the end of the session."""
    problem = await _pg_reachable()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_DSN} is not reachable ({problem})"
        if IN_CI:
            pytest.fail(message + "; CI requires it")
        pytest.skip(message)
    name = f"aftercare_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    engine = create_engine(url)
    await upgrade(engine, SERVICE_PACKAGES)
    await engine.dispose()
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "aftercare.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await upgrade(engine, SERVICE_PACKAGES)
    await engine.dispose()
    return url


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            rows = await connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            names = ", ".join(f'"{row[0]}"' for row in rows)
            if names:
                await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            rows = await connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT IN ('alembic_version', 'sqlite_sequence')"
                )
            )
            for (name,) in rows.all():
                await connection.execute(text(f'DELETE FROM "{name}"'))
            await connection.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await empty_tables(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """The embedded Kafka-protocol broker on a free port, for the whole session."""
    embedded = EmbeddedBroker()
    await embedded.start()
    try:
        yield embedded
    finally:
        await embedded.stop()


@pytest.fixture
async def topic(broker: EmbeddedBroker) -> str:
    """A fresh topic per test, created before use with 4 partitions, and its dead-letter
    topic (the parts prepare theirs at start-up; a consumer alone creates none)."""
    name = f"ticket.events.test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(
        broker.bootstrap_servers, [TopicSpec(name, 4), TopicSpec(name + DEAD_LETTER_SUFFIX, 1)]
    )
    return name
