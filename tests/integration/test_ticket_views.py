"""The ticket list read model follows the events and can be rebuilt from them alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
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
