"""One event the broker cannot take never stalls the relay: it is set aside where an
operator sees it, and everything committed after it is published (real embedded broker)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.broker import EmbeddedBroker
from aftercare.clock import FixedClock
from aftercare.cloudevents import CloudEvent
from aftercare.deadletters import DeadLetter, dead_letters, replay_dead_letters
from aftercare.eventstore import NewEvent, RecordedEvent, SqlEventStore
from aftercare.relay import OutboxRelay
from aftercare_system.settings import SystemSettings
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.entrypoints.app import create_app
from aftercare_ticket.examples import raise_body
from aftercare_ticket.service_layer.service import TicketService
from tests.integration.test_outbox_relay import CALLER, walk_tickets
from tests.support.kafka import publish, read_topic, relay_until


async def test_an_event_too_large_for_the_broker_is_set_aside_and_the_rest_flows(
    engine: AsyncEngine, clock: FixedClock, broker: EmbeddedBroker, topic: str
) -> None:
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    before = await walk_tickets(service, clock, 1)
    # An event stored before the write side had limits: 2 MB, over the 1 MiB request limit.
    store = SqlEventStore(engine, clock)
    [huge] = await store.append(
        "legacy-ticket",
        0,
        [NewEvent(type="RequestRaised", data={"blob": "x" * 2_000_000}, metadata={})],
    )
    after = await walk_tickets(service, clock, 2)
    relay = OutboxRelay(
        engine, broker.bootstrap_servers, topic, _raw_cloudevent, name=f"r-{topic}", idle_wait=0.02
    )
    await relay_until(relay, before + after, "the rest published")
    found = await read_topic(broker.bootstrap_servers, topic, before + after + 1, within=3)
    assert len(found) == before + after
    assert huge.event_id not in {event.id for _, event in found}

    [letter] = await dead_letters(engine)
    assert (letter.relay, letter.stream_id, letter.version) == (relay.name, "legacy-ticket", 1)
    assert "MessageSizeTooLarge" in letter.error

    app = create_app(SystemSettings(api_keys="k=reader"), engine=engine, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        ready = (await client.get("/readyz")).json()
    assert (ready["status"], ready["relay_dead_letters"]) == ("degraded", 1)


async def test_an_event_that_does_not_encode_is_set_aside_then_replayed(
    engine: AsyncEngine, clock: FixedClock, broker: EmbeddedBroker, topic: str
) -> None:
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    broken_ticket = (
        await service.raise_request(raise_body(requested_at=clock.now()), CALLER)
    ).ticket.id

    def fussy(event: RecordedEvent) -> CloudEvent | None:
        if event.stream_id == broken_ticket:
            raise ValueError("a mapping bug, fixed in the next release")
        return ticket_cloudevent(event)

    written = await walk_tickets(service, clock, 2)
    relay = OutboxRelay(engine, broker.bootstrap_servers, topic, fussy, name=f"f-{topic}")
    await relay_until(relay, written, "the others published")
    [letter] = await dead_letters(engine)
    assert "ValueError" in letter.error

    async def republish(dead: DeadLetter, event: RecordedEvent) -> None:
        cloud_event = ticket_cloudevent(event)  # the fixed mapping
        assert cloud_event is not None
        await publish(broker.bootstrap_servers, topic, [cloud_event])

    [(replayed, problem)] = await replay_dead_letters(engine, republish, clock.now())
    assert (replayed.id, problem) == (letter.id, None)
    assert await dead_letters(engine) == []
    found = await read_topic(broker.bootstrap_servers, topic, written + 1)
    assert broken_ticket in {event.subject for _, event in found}


def _raw_cloudevent(event: RecordedEvent) -> CloudEvent | None:
    if event.stream_id == "legacy-ticket":
        return CloudEvent(
            id=str(event.event_id),
            source="/aftercare/ticket",
            type="com.aftercare.ticket.RequestRaised.v1",
            subject=event.stream_id,
            time=event.recorded_at,
            data=event.data,
            sequence=event.version,
        )
    return ticket_cloudevent(event)
