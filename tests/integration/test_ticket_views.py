"""The ticket list read model follows the events and can be rebuilt from them alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.eventstore.sql import events
from aftercare_ticket.adapters.sql_store import SqlTicketStore, rebuild_views
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import raise_body
from aftercare_ticket.service_layer.service import Caller, TicketService

CALLER = Caller(actor="test", role="admin", request_id="r", correlation_id="c")


async def test_rebuilt_list_equals_the_one_kept_in_step(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    ids = []
    for n in range(3):
        outcome = await service.raise_request(
            raise_body(requested_at=clock.now(), subject=f"case {n}"), CALLER
        )
        ids.append(outcome.ticket.id)
        clock.advance(timedelta(minutes=1))
    ack = cmd.Acknowledge(plan="p", expected_resolution_at=clock.now() + timedelta(days=1))
    await service.execute(ids[1], ack, CALLER)

    before = (await service.list({}, None, 10)).items
    async with engine.begin() as connection:
        await connection.execute(ticket_views.delete())
    assert (await service.list({}, None, 10)).items == []

    assert await rebuild_views(engine, batch=2) == 3
    after = (await service.list({}, None, 10)).items
    assert after == before
    assert [row["state"] for row in after] == ["raised", "acknowledged", "raised"]


async def raised_tickets(service: TicketService, clock: FixedClock, count: int) -> list[str]:
    ids = []
    for n in range(count):
        outcome = await service.raise_request(
            raise_body(requested_at=clock.now(), subject=f"case {n}"), CALLER
        )
        ids.append(outcome.ticket.id)
        clock.advance(timedelta(minutes=1))
    return ids


async def test_a_rebuild_reading_ahead_over_many_batches_loses_no_ticket(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """The next batch is fetched while this one is folded: every batch arrives, in order."""
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    ids = await raised_tickets(service, clock, 9)
    before = (await service.list({}, None, 20)).items

    assert await rebuild_views(engine, batch=2) == 9
    assert (await service.list({}, None, 20)).items == before
    assert sorted(row["id"] for row in before) == sorted(ids)


async def test_a_rebuild_that_fails_half_way_keeps_the_old_list(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """A stored event that no longer folds stops the rebuild with its error; the list
    readers see is the one from before, whole, and nothing is left reading."""
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    await raised_tickets(service, clock, 6)
    before = (await service.list({}, None, 20)).items
    async with engine.begin() as connection:
        await connection.execute(
            events.insert().values(
                stream_id="zz-broken",  # last in stream order: after several batches
                version=1,
                event_id=uuid.uuid4(),
                type="RequestRaised",
                schema_version=1,
                data={"ticket_id": "zz-broken"},  # none of what a raised request holds
                metadata={},
                recorded_at=clock.now(),
            )
        )
    tasks_before = len(asyncio.all_tasks())

    with pytest.raises(ValidationError):
        await rebuild_views(engine, batch=2)
    assert (await service.list({}, None, 20)).items == before
    assert len(asyncio.all_tasks()) == tasks_before
