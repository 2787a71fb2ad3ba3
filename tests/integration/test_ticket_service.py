"""Two ticket-service processes on one database: their recent copies of tickets are only
hints, never a reason to lose or overwrite a write."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.eventstore import ConcurrencyError, SqlEventStore
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import raise_body
from aftercare_ticket.service_layer.service import Caller, TicketService

CALLER = Caller(actor="test", role="admin", request_id="r", correlation_id="r")


async def test_a_stale_recent_copy_never_loses_or_overwrites_a_write(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    first, second = (TicketService(SqlTicketStore(engine), clock, Policy()) for _ in range(2))
    raised = await first.raise_request(raise_body(requested_at=clock.now()), CALLER)
    ticket_id = raised.ticket.id
    progress = cmd.ReportProgress(message="looking into it")
    await second.execute(ticket_id, progress, CALLER)  # second now holds version 2
    await first.execute(ticket_id, progress, CALLER)  # first's copy (v1) was stale: retried
    await second.execute(ticket_id, progress, CALLER)  # second's copy (v2) is stale now

    with pytest.raises(ConcurrencyError) as stale:  # a caller's If-Match on an old version
        await first.execute(ticket_id, progress, CALLER, expected_version=2)
    assert stale.value.actual_version == 4

    versions = [e.version for e in await SqlEventStore(engine).read_stream(ticket_id)]
    assert versions == [1, 2, 3, 4]
    assert (await first.get(ticket_id)).version == 4


async def test_states_read_from_snapshots_equal_a_full_refold(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    from datetime import timedelta

    store = SqlTicketStore(engine)
    service = TicketService(store, clock, Policy())
    service.snapshots.every = 10
    raised = await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    ticket_id = raised.ticket.id
    moments = []
    for n in range(35):
        clock.advance(timedelta(minutes=1))
        await service.execute(ticket_id, cmd.ReportProgress(message=f"update {n}"), CALLER)
        moments.append(clock.now())
    await service.get(ticket_id)  # reads through, keeping snapshots at 10, 20, 30
    kept = service.snapshots._by_ticket.get(ticket_id) or []
    assert [s.version for s in kept] == [10, 20, 30]
    for moment in [moments[3], moments[8], moments[9], moments[20], moments[34], None]:
        from_snapshot = await service.get(ticket_id, moment)
        async with store.reading() as unit:
            refolded, _ = await unit.tickets.load(ticket_id, moment)
        assert from_snapshot == refolded
