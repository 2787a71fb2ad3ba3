"""One holder at a time of a named duty among the processes sharing a database: the
relay that publishes, the reporting member that judges (alarms, quality alerts,
scheduled reports). On PostgreSQL a session advisory lock held on a connection of its
own; SQLite deployments run one process, so there it is always held."""

from __future__ import annotations

import asyncio
import contextlib
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class NotLeading(Exception):
    """Stopped waiting to hold the duty: the process is stopping (``give_up`` was set)."""


class Leadership:
    """``async with Leadership(engine, name) as held:`` waits until this process holds
    ``name``; it is given back on leaving, or by the server when the connection dies.
    A standby waits for ever unless ``give_up`` is set: then it raises ``NotLeading``, so
    that a stopping process does not wait for a duty it will never perform."""

    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        *,
        retry_every: float = 1.0,
        give_up: asyncio.Event | None = None,
    ) -> None:
        self.engine = engine
        # The relays' keys are kept as they were, so old and new relays exclude each other.
        self.name = name
        self.key = zlib.crc32(f"relay:{name}".encode())
        self.retry_every = retry_every
        self.give_up = give_up
        self.connection: AsyncConnection | None = None

    async def __aenter__(self) -> Leadership:
        if self.engine.dialect.name != "postgresql":
            return self
        self.connection = await self.engine.connect()
        try:
            while not (self.give_up is not None and self.give_up.is_set()):
                result = await self.connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                )
                await self.connection.commit()
                if result.scalar_one():
                    return self
                await self._pause()
            raise NotLeading(self.name)
        except BaseException:  # cancelled while waiting: give the connection back
            await self.connection.close()
            self.connection = None
            raise

    async def _pause(self) -> None:
        """``retry_every`` seconds, or less if told to give up meanwhile."""
        if self.give_up is None:
            await asyncio.sleep(self.retry_every)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.give_up.wait(), self.retry_every)

    async def confirm(self) -> None:
        """Raise the database's error if the lock's connection is gone (and the lock with
        it: another process may hold it now), before acting as its holder again."""
        if self.connection is not None:
            await self.connection.execute(text("SELECT 1"))
            await self.connection.commit()

    async def __aexit__(self, *_: object) -> None:
        if self.connection is not None:
            try:
                await self.connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
                await self.connection.commit()
            finally:
                await self.connection.close()
                self.connection = None
