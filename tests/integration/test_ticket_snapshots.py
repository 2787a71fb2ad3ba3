"""Snapshots kept in the store: a process that has never read a ticket (restarted,
added) answers from the nearest one instead of folding the whole history, and gets the
same state as a full fold."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare_ticket.adapters.repository import SNAPSHOT_FORMAT
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.adapters.tables import ticket_snapshots
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import raise_body
from aftercare_ticket.service_layer.service import Caller, TicketService

CALLER = Caller(actor="test", role="admin", request_id="r", correlation_id="r")


def process(engine: AsyncEngine, clock: FixedClock) -> TicketService:
    """A ticket service as a newly started API process has it: nothing in memory."""
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    service.snapshots.every = 10
    return service


async def long_ticket(
    service: TicketService, clock: FixedClock, updates: int
) -> tuple[str, list[datetime]]:
    raised = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    moments = []
    for n in range(updates):
        clock.advance(timedelta(minutes=1))
        await service.execute(raised.ticket.id, cmd.ReportProgress(message=f"{n}"), CALLER)
        moments.append(clock.now())
    return raised.ticket.id, moments


async def kept(engine: AsyncEngine, ticket_id: str) -> list[tuple[int, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ticket_snapshots.c.version, ticket_snapshots.c.format)
            .where(ticket_snapshots.c.ticket_id == ticket_id)
            .order_by(ticket_snapshots.c.version)
        )
        return [(row.version, row.format) for row in rows]


async def test_a_new_process_answers_from_the_snapshot_another_one_kept(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    writer = process(engine, clock)
    ticket_id, moments = await long_ticket(writer, clock, 34)  # versions 1..35
    await writer.get(ticket_id)  # folds through 10, 20, 30 and keeps them
    assert await kept(engine, ticket_id) == [(v, SNAPSHOT_FORMAT) for v in (10, 20, 30)]

    async with engine.begin() as connection:  # mark the stored snapshot at 30
        await connection.execute(
            update(ticket_snapshots)
            .where(ticket_snapshots.c.version == 30)
            .values(document=_with_subject(await _document(engine, ticket_id, 30), "from v30"))
        )
    fresh = process(engine, clock)
    assert (await fresh.get(ticket_id, moments[31])).subject == "from v30"  # v33 from v30

    honest = process(engine, clock)
    async with engine.begin() as connection:
        await connection.execute(ticket_snapshots.delete())
    await writer.get(ticket_id)  # nothing new to keep: writer had them in memory
    assert await kept(engine, ticket_id) == []
    await process(engine, clock).get(ticket_id)
    for moment in [moments[3], moments[8], moments[9], moments[20], moments[33], None]:
        from_store = await process(engine, clock).get(ticket_id, moment)
        async with honest.store.reading() as unit:
            refolded, _ = await unit.tickets.load(ticket_id, moment)
        assert from_store == refolded, moment


async def test_a_snapshot_of_another_format_is_never_used(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """A release that changes the ticket's shape or its fold reads none of the old
    snapshots: it folds from the events and keeps its own."""
    writer = process(engine, clock)
    ticket_id, _ = await long_ticket(writer, clock, 12)
    await writer.get(ticket_id)
    async with engine.begin() as connection:
        document = _with_subject(await _document(engine, ticket_id, 10), "old format")
        await connection.execute(
            update(ticket_snapshots).values(format="an-older-release", document=document)
        )
    ticket = await process(engine, clock).get(ticket_id)
    assert ticket.subject != "old format"
    assert ticket.version == 13
    assert (10, SNAPSHOT_FORMAT) in await kept(engine, ticket_id)


async def _document(engine: AsyncEngine, ticket_id: str, version: int) -> dict[str, object]:
    async with engine.connect() as connection:
        document: dict[str, object] | None = await connection.scalar(
            select(ticket_snapshots.c.document).where(
                ticket_snapshots.c.ticket_id == ticket_id, ticket_snapshots.c.version == version
            )
        )
    assert document is not None
    return document


def _with_subject(document: dict[str, object], subject: str) -> dict[str, object]:
    return {**document, "subject": subject}
