"""When a ticket's status links were last revoked: links issued before then are refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import transaction, upsert
from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_ticket.adapters.tables import status_link_revocations


class SqlStatusLinks:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def revoked_at(self, ticket_id: str) -> datetime | None:
        query = select(status_link_revocations.c.revoked_at).where(
            status_link_revocations.c.ticket_id == ticket_id
        )
        async with outages_as_unavailable(), self.engine.connect() as connection:
            found: datetime | None = (await connection.execute(query)).scalar()
            return found

    async def revoke(self, ticket_id: str, by: str, now: datetime) -> None:
        row = {"ticket_id": ticket_id, "revoked_at": now, "revoked_by": by[:100]}
        async with outages_as_unavailable(), transaction(self.engine) as connection:
            await upsert(connection, status_link_revocations, row, "ticket_id")
