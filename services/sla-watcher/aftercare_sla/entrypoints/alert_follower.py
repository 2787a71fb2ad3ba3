"""Drives the alert keeper from the watcher's log: its verdicts in order (from a saved
checkpoint, one follower at a time under the advisory lock), then the steps now due.
A first start begins at the log's end: old verdicts raise no new alerts."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock
from aftercare.db import DATABASE_ERRORS
from aftercare.eventstore import LogCursor, SqlEventStore, StoreUnavailable
from aftercare.follower import LogFollower, save_checkpoint, saved_or_log_end
from aftercare_sla.service_layer.alert_keeper import VERDICTS, AlertKeeper

log = structlog.get_logger(__name__)


class AlertFollower(LogFollower):
    outages = (*DATABASE_ERRORS, StoreUnavailable, OSError)

    def __init__(
        self,
        engine: AsyncEngine,
        keeper: AlertKeeper,
        clock: Clock,
        on_recorded: Callable[[], None],
        *,
        name: str = "sla-alert-keeper",
        idle_wait: float = 0.5,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.store = SqlEventStore(engine)
        self.keeper = keeper
        self.clock = clock
        self.on_recorded = on_recorded
        self.name = name
        self.idle_wait = idle_wait
        self.max_backoff = 10.0

    def failed(self, error: BaseException, retry_in: float) -> None:
        log.warning("alert keeper cannot read verdicts", error=repr(error))

    async def start_position(self) -> LogCursor:
        return await saved_or_log_end(self.engine, self.name, self.clock.now())

    async def step(self, resource: object, checkpoint: LogCursor) -> LogCursor:
        batch = await self.store.read_all(checkpoint, 200, VERDICTS)
        decided = 0
        for verdict in batch:
            decided += len(await self.keeper.on_verdict(verdict))
            checkpoint = LogCursor.of(verdict)
        if batch:  # a verdict decided twice after a crash decides nothing new
            await save_checkpoint(self.engine, self.name, checkpoint, self.clock.now())
        decided += await self.keeper.fire_due()
        if decided:
            self.on_recorded()
        return checkpoint
