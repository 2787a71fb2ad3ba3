"""``POST /sla/queue``: open tickets in the order their clocks fall due, for a desk's
queue view. A query, sent as POST because the tickets it may name (a desk's filtered
open tickets, up to 5,000) do not fit in an address."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from aftercare.auth import PrincipalDep
from aftercare_sla.adapters.queue_store import MAX_NAMED, SqlQueue


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[str] | None = Field(
        default=None,
        max_length=MAX_NAMED,
        description="only these tickets (each ≤ 64 characters); all open tickets if absent",
    )
    breached_only: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class QueueClock(BaseModel):
    rule: str
    title: str
    cycle: int
    status: str
    deadline: datetime | None
    warned: bool
    breached: bool
    pause_reasons: list[str]


class QueueItem(BaseModel):
    ticket_id: str
    clocks: list[QueueClock]
    """Running and paused clocks, the earliest deadline first."""


class QueuePageOut(BaseModel):
    total: int
    """Tickets with an open clock among those asked about."""
    items: list[QueueItem]


def add_queue_route(app: FastAPI, queue: SqlQueue) -> None:
    @app.post("/sla/queue", response_model=QueuePageOut, tags=["sla"])
    async def sla_queue(query: QueueQuery, _: PrincipalDep) -> QueuePageOut:
        """Open tickets by their next deadline (breached ones first: theirs have passed;
        tickets whose clocks are all paused last), with their open clocks."""
        named = None if query.tickets is None else [t for t in query.tickets if len(t) <= 64]
        page = await queue.page(
            named, breached_only=query.breached_only, limit=query.limit, offset=query.offset
        )
        return QueuePageOut(
            total=page.total,
            items=[
                QueueItem(
                    ticket_id=ticket,
                    clocks=[
                        QueueClock(
                            rule=row.rule,
                            title=row.title,
                            cycle=row.cycle,
                            status=row.status,
                            deadline=row.deadline,
                            warned=row.warned,
                            breached=row.breached,
                            pause_reasons=[r for r in row.pause_reasons.split(",") if r],
                        )
                        for row in page.clocks[ticket]
                    ],
                )
                for ticket in page.tickets
            ],
        )
