"""What the console's queue reads from the ticket list: which open tickets match the
filters (their ids, for the SLA watcher to put in deadline order), and the rows of the
page shown. Both are single indexed queries on ``ticket_views``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.domain.machine import OPEN

MAX_OPEN = 5_000
"""Open tickets one queue view orders; a desk with more filters first."""


def _filtered(query: Select[Any], filters: Mapping[str, Any]) -> Select[Any]:
    """Open tickets (or those of the state asked for) matching every filter."""
    if "state" not in filters:
        query = query.where(ticket_views.c.state.in_([str(s) for s in OPEN]))
    for column, value in filters.items():
        query = query.where(ticket_views.c[column] == value)
    return query


class QueueReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def open_ids(self, filters: Mapping[str, Any]) -> list[str]:
        """Ids of the open tickets (or of the state asked for) matching ``filters``."""
        query = _filtered(select(ticket_views.c.id), filters)
        query = query.order_by(ticket_views.c.created_at.desc()).limit(MAX_OPEN)
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def rows(self, ids: Sequence[str]) -> dict[str, Any]:
        if not ids:
            return {}
        query = select(ticket_views).where(ticket_views.c.id.in_(list(ids)))
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return {row.id: row for row in await connection.execute(query)}

    async def newest_open(self, filters: Mapping[str, Any], limit: int, offset: int) -> list[Any]:
        """Without the watcher: open tickets newest first."""
        query = _filtered(select(ticket_views), filters)
        query = query.order_by(ticket_views.c.created_at.desc(), ticket_views.c.id)
        async with outages_as_unavailable(), self.engine.connect() as connection:
            return list(await connection.execute(query.limit(limit).offset(offset)))
