"""The ticket service layer over the in-memory store: its branches (lost races, repeated
and reused Idempotency-Keys, stale versions, refusals, oversized events, paging, time
travel) in milliseconds. The SQL store runs the same service in the integration and
end-to-end suites; both stores pass one event store contract suite."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aftercare.clock import FixedClock
from aftercare.eventstore import ConcurrencyError
from aftercare_ticket.adapters.memory_store import MemoryTicketStore
from aftercare_ticket.adapters.repository import EventTooLarge
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.errors import DomainError
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import T0, raise_body, sample
from aftercare_ticket.service_layer.service import (
    Caller,
    IdempotencyKeyReused,
    TicketNotFound,
    TicketService,
)

CALLER = Caller(actor="desk", role="agent", request_id="r-1", correlation_id="c-1", key="crm")
PROGRESS = cmd.ReportProgress(message="looking into it")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> MemoryTicketStore:
    return MemoryTicketStore(clock)


@pytest.fixture
def service(store: MemoryTicketStore, clock: FixedClock) -> TicketService:
    return TicketService(store, clock, Policy())


async def test_each_command_appends_its_events_with_the_audit_metadata(
    service: TicketService, clock: FixedClock
) -> None:
    raised = await service.raise_request(raise_body(), CALLER)
    clock.advance(timedelta(minutes=5))
    acknowledged = await service.execute(raised.ticket.id, sample("acknowledge"), CALLER)

    assert acknowledged.ticket.state.value == "acknowledged"
    assert acknowledged.ticket.version == 2
    history = await service.history(raised.ticket.id)
    assert [e.type for e in history] == ["RequestRaised", "Acknowledged"]
    assert history[1].metadata == {
        "actor": "desk",
        "key": "crm",
        "role": "agent",
        "request_id": "r-1",
        "correlation_id": "c-1",
        "causation_id": "r-1",
    }
    assert history[1].recorded_at == T0 + timedelta(minutes=5)


async def test_a_repeated_idempotency_key_answers_from_the_record_and_writes_nothing(
    service: TicketService,
) -> None:
    first = await service.raise_request(raise_body(), CALLER, idempotency_key="k-1")
    again = await service.raise_request(raise_body(), CALLER, idempotency_key="k-1")
    assert again.replayed
    assert again.ticket.id == first.ticket.id
    assert again.events == []
    assert len((await service.list({}, None, 10)).items) == 1

    with pytest.raises(IdempotencyKeyReused):
        await service.raise_request(raise_body(subject="Other"), CALLER, idempotency_key="k-1")


async def test_concurrent_requests_with_one_new_key_make_one_ticket(
    service: TicketService,
) -> None:
    outcomes = await asyncio.gather(
        *(service.raise_request(raise_body(), CALLER, idempotency_key="k-2") for _ in range(8))
    )
    assert len({o.ticket.id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert len((await service.list({}, None, 10)).items) == 1


async def test_commands_without_a_version_from_two_processes_all_land(
    store: MemoryTicketStore, clock: FixedClock
) -> None:
    """Two service instances on one store, each with a stale recent copy: no 409."""
    first, second = TicketService(store, clock, Policy()), TicketService(store, clock, Policy())
    ticket_id = (await first.raise_request(raise_body(), CALLER)).ticket.id
    await second.get(ticket_id)
    await asyncio.gather(
        *((first if n % 2 else second).execute(ticket_id, PROGRESS, CALLER) for n in range(40))
    )
    history = await first.history(ticket_id)
    assert [e.version for e in history] == list(range(1, 42))


async def test_a_stale_expected_version_is_a_conflict_naming_the_actual_one(
    service: TicketService,
) -> None:
    ticket_id = (await service.raise_request(raise_body(), CALLER)).ticket.id
    await service.execute(ticket_id, PROGRESS, CALLER, expected_version=1)
    with pytest.raises(ConcurrencyError) as caught:
        await service.execute(ticket_id, PROGRESS, CALLER, expected_version=1)
    assert caught.value.actual_version == 2
    assert len(await service.history(ticket_id)) == 2


async def test_refused_commands_and_unknown_tickets_write_nothing(
    service: TicketService,
) -> None:
    ticket_id = (await service.raise_request(raise_body(), CALLER)).ticket.id
    with pytest.raises(DomainError):
        await service.execute(ticket_id, sample("revisit"), CALLER)
    with pytest.raises(TicketNotFound):
        await service.execute("no-such-ticket", PROGRESS, CALLER)
    with pytest.raises(TicketNotFound):
        await service.history("no-such-ticket")
    assert len(await service.history(ticket_id)) == 1


async def test_an_event_too_large_to_publish_is_refused_whole(clock: FixedClock) -> None:
    store = MemoryTicketStore(clock, max_event_bytes=2000)
    service = TicketService(store, clock, Policy())
    ticket_id = (await service.raise_request(raise_body(), CALLER)).ticket.id
    with pytest.raises(EventTooLarge) as caught:
        await service.execute(ticket_id, cmd.ReportProgress(message="x" * 3000), CALLER)
    assert caught.value.limit == 2000
    assert len(await service.history(ticket_id)) == 1
    assert (await service.get(ticket_id)).version == 1


async def test_the_list_pages_newest_first_and_the_past_is_readable(
    service: TicketService, clock: FixedClock
) -> None:
    ids = []
    for _ in range(5):
        ids.append((await service.raise_request(raise_body(), CALLER)).ticket.id)
        clock.advance(timedelta(minutes=1))
    first = await service.list({}, None, 2)
    second = await service.list({}, first.next_cursor, 2)
    last = await service.list({}, second.next_cursor, 2)
    seen = [row["id"] for page in (first, second, last) for row in page.items]
    assert seen == list(reversed(ids))
    assert last.next_cursor is None

    before_ack = clock.now()
    clock.advance(timedelta(minutes=1))
    await service.execute(ids[0], sample("acknowledge"), CALLER)
    assert (await service.get(ids[0], before_ack)).state.value == "raised"
    assert (await service.get(ids[0])).state.value == "acknowledged"
    assert [r["id"] for r in (await service.list({"state": "acknowledged"}, None, 9)).items] == [
        ids[0]
    ]
    with pytest.raises(TicketNotFound):
        await service.get(ids[0], T0 - timedelta(seconds=1))
