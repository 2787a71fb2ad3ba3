"""A command decided without reading the store is stored in one step (one statement on
PostgreSQL): the same ticket, read model and history as the transaction of several, all
of it or nothing, and queued behind any writer holding the ticket's lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.db import create_engine
from aftercare.eventstore import ConcurrencyError, SqlEventStore
from aftercare_ticket.adapters.repository import fold, view_row
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.adapters.unit_of_work import DecidedWrite, DuplicateRequest
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import WALKS, raise_body, step_time, walk_command
from aftercare_ticket.service_layer.service import Caller, TicketService
from tests.conftest import empty_tables

CALLER = Caller(actor="li.na", role="agent", request_id="r-1", correlation_id="c-1", key="crm")


async def stored_view(engine: AsyncEngine, ticket_id: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(select(ticket_views).where(ticket_views.c.id == ticket_id))
        ).one()
    return dict(row._mapping)


@pytest.mark.parametrize("walk", sorted(WALKS))
async def test_every_walk_kept_in_memory_equals_its_history_folded(
    engine: AsyncEngine, clock: FixedClock, walk: str
) -> None:
    """The copy a process keeps after each command (folded from the events it made) is
    the ticket any reader folds from the store, and the list row is that ticket's row."""
    kind, steps = WALKS[walk]
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    raised = await service.raise_request(raise_body(kind, requested_at=clock.now()), CALLER)
    ticket_id = raised.ticket.id
    for step, name in enumerate(steps):
        clock.set(step_time(step))
        outcome = await service.execute(
            ticket_id, walk_command(walk, name, kind, clock.now()), CALLER
        )
        history = await SqlEventStore(engine).read_stream(ticket_id)
        assert outcome.ticket == fold(ticket_id, history), (walk, name)
        assert service.recent.get(ticket_id, None) == outcome.ticket
        assert [e.global_position for e in outcome.events] == [
            e.global_position for e in history[-len(outcome.events) :]
        ]
        assert await stored_view(engine, ticket_id) == view_row(outcome.ticket)
    assert history[-1].metadata["actor"] == "li.na"
    assert history[-1].metadata["key"] == "crm"


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """PostgreSQL only: SQLite, with its single writer, keeps the transaction of several
    statements (tested by every other write)."""
    engine = create_engine(postgres_url)
    await empty_tables(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_command_on_the_kept_copy_is_one_statement_on_postgresql(
    pg_engine: AsyncEngine, clock: FixedClock
) -> None:
    engine = pg_engine
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        raised = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
        await service.execute(raised.ticket.id, cmd.ReportProgress(message="on it"), CALLER)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == 2, statements
    assert all("pg_advisory_xact_lock" in statement for statement in statements)


async def test_a_write_refused_for_its_key_leaves_nothing_behind(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """The idempotency record is the last part of the step: when another request holds
    the key, neither the events nor the list row of this one are written."""
    store = SqlTicketStore(engine)
    service = TicketService(store, clock, Policy())
    first = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    other = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    progress = cmd.ReportProgress(message="m")
    await service.execute(first.ticket.id, progress, CALLER, idempotency_key="k-1")
    before = await stored_view(engine, other.ticket.id)

    write = DecidedWrite(
        other.ticket,
        _progress_events(service, other.ticket),
        CALLER.metadata(),
        clock.now(),
        ("k-1", "another request"),
    )
    with pytest.raises(DuplicateRequest):
        await store.commit(write)
    assert [e.version for e in await SqlEventStore(engine).read_stream(other.ticket.id)] == [1]
    assert await stored_view(engine, other.ticket.id) == before


def _progress_events(service: TicketService, ticket: Any) -> list[Any]:
    from aftercare_ticket.domain.decide import decide

    return decide(ticket, cmd.ReportProgress(message="again"), service._context())


@pytest.mark.postgres
async def test_a_step_waits_for_the_writer_holding_the_lock_then_loses_to_it(
    pg_engine: AsyncEngine, clock: FixedClock
) -> None:
    """A writer that took the ticket's lock to decide afresh cannot be overtaken by a
    step decided on an older copy: the step waits, then finds the version taken."""
    engine = pg_engine
    store = SqlTicketStore(engine)
    service = TicketService(store, clock, Policy())
    raised = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    ticket = raised.ticket
    stale = DecidedWrite(ticket, _progress_events(service, ticket), CALLER.metadata(), clock.now())

    async with store.transaction() as unit:
        await unit.events.lock(ticket.id)
        step = asyncio.create_task(store.commit(stale))
        await _until_waiting_on_a_lock(engine)
        assert not step.done()
        await unit.tickets.save(ticket, _progress_events(service, ticket), {}, clock.now())
    with pytest.raises(ConcurrencyError):
        await step
    assert [e.version for e in await SqlEventStore(engine).read_stream(ticket.id)] == [1, 2]


async def _until_waiting_on_a_lock(engine: AsyncEngine) -> None:
    """Until PostgreSQL shows a backend waiting for an advisory lock (at most 20 s)."""
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    for _ in range(1000):
        async with engine.connect() as connection:
            if await connection.scalar(query):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the step never waited for the lock")
