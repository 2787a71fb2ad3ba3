"""Every kind's walk judged by the SLA watcher's own arithmetic, from the events the
ticket service publishes: each clock of that kind of case is met, none is missed, and
none runs on after the case is closed (the two services meet only in the contract)."""

from __future__ import annotations

import pytest

from aftercare_sla.domain.facts import Fact
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.events import TicketEvent, encode
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.examples import T0, WALKS, context, raise_body, step_time, walk_command
from tests.support.walks import assert_every_clock_met


def published(walk: str) -> list[TicketEvent]:
    kind, steps = WALKS[walk]
    events: list[TicketEvent] = [raise_request("t-1", raise_body(kind), context(T0))]
    ticket = apply(Ticket(id="t-1"), events)
    for number, name in enumerate(steps):
        at = step_time(number)
        decided = decide(ticket, walk_command(walk, name, kind, at), context(at))
        events += decided
        ticket = apply(ticket, decided)
    return events


@pytest.mark.parametrize("walk", list(WALKS))
def test_every_clock_of_the_walk_is_met(walk: str) -> None:
    facts = [
        Fact(number, event.event_type, event.at, encode(event))
        for number, event in enumerate(published(walk), start=1)
    ]
    assert_every_clock_met(walk, facts)
