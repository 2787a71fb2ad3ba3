"""The work queue as the clocks order it: open tickets (those with a running or paused
clock) by their next deadline, breached ones first since their deadlines have passed.
It is what a desk's queue view asks of the watcher (the console's queue, a CRM's "due
next" list); the ticket's own attributes stay with the ticket service, which names the
tickets it wants ordered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_sla.adapters.tables import sla_timers

OPEN_STATUSES = ("running", "paused")
MAX_NAMED = 5_000
"""Tickets one request may name (a desk's open tickets, filtered): 5,000 ids keep the
request under the front door's body limit."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    total: int
    """Tickets with an open clock among those asked about."""
    tickets: list[str]
    """This page's tickets, in queue order."""
    clocks: dict[str, list[Any]]
    """Each page ticket's open clocks, earliest deadline first."""


class SqlQueue:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def page(
        self,
        ticket_ids: Sequence[str] | None,
        *,
        breached_only: bool,
        limit: int,
        offset: int,
    ) -> QueuePage:
        running = sla_timers.c.status == "running"
        next_deadline = func.min(case((running, sla_timers.c.deadline)))
        breached = func.max(case((sla_timers.c.breached.is_(True), 1), else_=0))
        per_ticket = (
            select(
                sla_timers.c.ticket_id,
                next_deadline.label("next_deadline"),
                breached.label("breached"),
            )
            .where(sla_timers.c.status.in_(OPEN_STATUSES))
            .group_by(sla_timers.c.ticket_id)
        )
        if ticket_ids is not None:
            per_ticket = per_ticket.where(sla_timers.c.ticket_id.in_(list(ticket_ids)))
        if breached_only:
            per_ticket = per_ticket.having(breached == 1)
        ranked = per_ticket.subquery()
        ordered = (
            select(ranked.c.ticket_id)
            .order_by(ranked.c.next_deadline.asc().nulls_last(), ranked.c.ticket_id)
            .limit(limit)
            .offset(offset)
        )
        async with outages_as_unavailable(), self.engine.connect() as connection:
            total = (await connection.execute(select(func.count()).select_from(ranked))).scalar()
            tickets = list((await connection.execute(ordered)).scalars())
            rows = await connection.execute(
                select(sla_timers)
                .where(sla_timers.c.ticket_id.in_(tickets))
                .where(sla_timers.c.status.in_(OPEN_STATUSES))
                .order_by(sla_timers.c.deadline.asc().nulls_last(), sla_timers.c.rule)
            )
            clocks: dict[str, list[Any]] = {ticket: [] for ticket in tickets}
            for row in rows:
                clocks[row.ticket_id].append(row)
        return QueuePage(int(total or 0), tickets, clocks)
