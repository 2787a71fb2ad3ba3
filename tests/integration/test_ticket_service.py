"""Two ticket-service processes on one database: their recent copies of tickets are only
hints, never a reason to lose or overwrite a write."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.eventstore import ConcurrencyError, SqlEventStore
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.service_layer.service import Caller, TicketService
from tests.unit.builders import raise_body

CALLER = Caller(actor="test", role="admin", request_id="r", correlation_id="r")


async def test_a_stale_recent_copy_never_loses_or_overwrites_a_write(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    first, second = (TicketService(engine, clock, Policy()) for _ in range(2))
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
