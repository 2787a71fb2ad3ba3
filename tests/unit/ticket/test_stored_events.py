"""Events read back from the store: the same events, decoded without repeating the
checks their values passed when they came in."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.events import TicketEvent, decode, encode
from aftercare_ticket.domain.folding import evolve_all
from aftercare_ticket.domain.ticket import Ticket, evolve
from aftercare_ticket.domain.values import STORED, Contact
from aftercare_ticket.domain.vocabulary import State
from aftercare_ticket.examples import WALKS, context, raise_body, step_time, walk_command


def test_a_raised_event_reads_back_equal_to_the_one_decided() -> None:
    event = raise_request("t-1", raise_body(), context())
    assert event.contact is not None
    assert event.contact.email
    assert decode(event.event_type, event.schema_version, encode(event)) == event


def test_an_address_is_checked_coming_in_and_trusted_read_back() -> None:
    with pytest.raises(ValidationError) as refused:
        Contact.model_validate({"name": "Wang", "email": "wang@"})
    assert refused.value.errors()[0]["loc"] == ("email",)
    stored = Contact.model_validate({"name": "Wang", "email": "wang@"}, context=STORED)
    assert stored.email == "wang@"
    with pytest.raises(ValidationError):  # the shape is still checked
        Contact.model_validate({"name": "Wang", "email": 42}, context=STORED)


@pytest.mark.parametrize("walk", sorted(WALKS))
def test_a_walk_folded_at_once_is_the_walk_folded_event_by_event(walk: str) -> None:
    """``evolve_all`` (one copy for a run of events, as a replay and a full read fold)
    gives the ticket ``evolve`` gives one event at a time, after every prefix of the run."""
    kind, steps = WALKS[walk]
    first = raise_request("t-1", raise_body(kind), context())
    stamped: list[tuple[TicketEvent, dict[str, Any]]] = [(first, {"version": 1})]
    ticket = evolve(first, Ticket(id="t-1"), version=1)
    for number, name in enumerate(steps):
        at = step_time(number)
        for event in decide(ticket, walk_command(walk, name, kind, at), context(at)):
            stamp = {"version": ticket.version + 1, "updated_at": at}
            stamped.append((event, stamp))
            ticket = evolve(event, ticket, **stamp)
    assert ticket.state == State.CLOSED
    for end in range(1, len(stamped) + 1):
        one_by_one = Ticket(id="t-1")
        for event, stamp in stamped[:end]:
            one_by_one = evolve(event, one_by_one, **stamp)
        assert evolve_all(Ticket(id="t-1"), stamped[:end]) == one_by_one, (walk, end)
