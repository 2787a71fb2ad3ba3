"""The work queue as the clocks order it: open tickets (those with a running or paused
clock) by their next deadline, breached ones first since their deadlines have passed.
It is what a desk's queue view asks of the watcher (the console's queue, a CRM's "due
next" list); the ticket's own attributes stay with the ticket service, which names the
tickets it wants ordered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Update, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.eventstore.sql_store import outages_as_unavailable
from aftercare_sla.adapters.tables import sla_tickets, sla_timers

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


def refreshed_queue_entries(ticket_ids: Sequence[str]) -> Update:
    """The statement that brings the tickets' queue entries in line with their timers: how
    many clocks are open, the earliest running deadline, whether an open one is breached.
    Run by the watcher in the transaction that changed the timers (one ticket's, or those
    whose deadlines passed together), so the queue is read from one index instead of
    grouping every open timer on each request."""
    timers = sla_timers.c
    mine = timers.ticket_id == sla_tickets.c.ticket_id
    is_open = timers.status.in_(OPEN_STATUSES)
    return (
        update(sla_tickets)
        .where(sla_tickets.c.ticket_id.in_(list(ticket_ids)))
        .values(
            open_clocks=select(func.count()).where(mine, is_open).scalar_subquery(),
            next_deadline=select(func.min(timers.deadline))
            .where(mine, timers.status == "running")
            .scalar_subquery(),
            breached=exists().where(mine, is_open, timers.breached.is_(True)),
        )
    )


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
        entries = sla_tickets.c
        chosen = select(entries.ticket_id).where(entries.open_clocks > 0)
        if ticket_ids is not None:
            chosen = chosen.where(entries.ticket_id.in_(list(ticket_ids)))
        if breached_only:
            chosen = chosen.where(entries.breached.is_(True))
        ordered = (
            chosen.order_by(entries.next_deadline.asc().nulls_last(), entries.ticket_id)
            .limit(limit)
            .offset(offset)
        )
        counted = select(func.count()).select_from(chosen.subquery())
        async with outages_as_unavailable(), self.engine.connect() as connection:
            total = (await connection.execute(counted)).scalar()
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
