"""Following the event log, as the relay and the pager do: one follower of a name at a
time (on PostgreSQL a session advisory lock; SQLite deployments run one), from its stored
checkpoint, a batch at a time, waiting when there is nothing new and backing off, capped,
while the database or what it feeds is away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import upsert
from aftercare.eventstore import LogCursor, SqlEventStore
from aftercare.leadership import Leadership, NotLeading
from aftercare.shutdown import finish_in_hand
from aftercare.sqltypes import Position, UtcDateTime

metadata = MetaData()
relay_checkpoints = Table(
    "relay_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Position, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("transaction_id", BigInteger, nullable=False, server_default=text("0")),
)


async def load_checkpoint(connection: AsyncConnection, name: str) -> LogCursor | None:
    """Where the follower ``name`` has got to; None before its first save."""
    row = (
        await connection.execute(
            select(relay_checkpoints.c.transaction_id, relay_checkpoints.c.position).where(
                relay_checkpoints.c.name == name
            )
        )
    ).first()
    return LogCursor(row.transaction_id, row.position) if row else None


async def store_checkpoint(
    connection: AsyncConnection, name: str, cursor: LogCursor, now: datetime
) -> None:
    row = {
        "name": name,
        "transaction_id": cursor.transaction_id,
        "position": cursor.global_position,
        "updated_at": now,
    }
    await upsert(connection, relay_checkpoints, row, "name")


async def saved_or_log_end(engine: AsyncEngine, name: str, now: datetime) -> LogCursor:
    """Where a follower that must not act on the past starts (a pager: old verdicts page
    nobody): its saved checkpoint, or on its first start the log's end, saved at once."""
    async with engine.connect() as connection:
        saved = await load_checkpoint(connection, name)
    if saved is not None:
        return saved
    end = await SqlEventStore(engine).log_end()
    await save_checkpoint(engine, name, end, now)
    return end


async def save_checkpoint(engine: AsyncEngine, name: str, cursor: LogCursor, now: datetime) -> None:
    async with engine.begin() as connection:
        await store_checkpoint(connection, name, cursor, now)


class LogFollower:
    """Subclasses say where a term starts, what a step does, and which failures are an
    outage to wait out; ``run`` does the rest, once for every follower."""

    name: str
    engine: AsyncEngine
    idle_wait: float
    max_backoff: float
    outages: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """New events were committed: look now rather than after the idle wait."""
        self._wake.set()

    def request_stop(self) -> None:
        """Finish the step in hand, then return from ``run``."""
        self._stopping.set()
        self._wake.set()

    async def start_position(self) -> LogCursor:
        """The saved checkpoint (only the leader writes it: read once per term)."""
        async with self.engine.connect() as connection:
            saved = await load_checkpoint(connection, self.name)
        return saved or LogCursor.START

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[Any]:
        """What a term needs besides the log (the relay: a producer)."""
        yield None

    async def step(self, resource: Any, checkpoint: LogCursor) -> LogCursor:
        raise NotImplementedError

    def failed(self, error: BaseException, retry_in: float) -> None:
        """Count and log an outage; the term ends and a new one starts after ``retry_in``."""

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                async with Leadership(self.engine, self.name, give_up=self._stopping):
                    checkpoint = await self.start_position()
                    async with self.opened() as resource:
                        while not self._stopping.is_set():
                            # a batch sent is checkpointed, even when stopping
                            reached = await finish_in_hand(self.step(resource, checkpoint))
                            backoff = 0.1
                            if reached == checkpoint:
                                await self._idle()
                            checkpoint = reached
            except NotLeading:  # a standby asked to stop: nothing in hand
                return
            except self.outages as error:
                self.failed(error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _idle(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.idle_wait)
