"""The notifier's unit of work on the database (PostgreSQL or SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.db import seconds_until_due, transaction
from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_notifier.adapters.cases import SqlCases
from aftercare_notifier.adapters.outbox import SqlOutbox
from aftercare_notifier.adapters.tables import notifier_cases
from aftercare_notifier.adapters.unit_of_work import NotifierUnitOfWork


class SqlNotifierStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @staticmethod
    def unit_on(connection: AsyncConnection) -> NotifierUnitOfWork:
        """The unit of work of a transaction someone else opened (the consumer's)."""
        return NotifierUnitOfWork(SqlCases(connection), SqlOutbox(connection))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[NotifierUnitOfWork]:
        async with outages_as_unavailable(), transaction(self.engine) as connection:
            yield self.unit_on(connection)

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        return await seconds_until_due(self.engine, notifier_cases, now, partitions)
