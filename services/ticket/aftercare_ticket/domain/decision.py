"""The shape every decision has: a command, the ticket, when it happened, the context;
each command's decision registers itself on ``decision`` (``singledispatch``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatch

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.machine import destinations
from aftercare_ticket.domain.rules import (
    Policy,
)
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.vocabulary import (
    State,
)


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    policy: Policy = field(default_factory=Policy)


@singledispatch
def decision(
    command: cmd.Command, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    raise TypeError(f"no decision for {type(command).__name__}")


def resume_state(ticket: Ticket, command: str) -> State | None:
    """The state a waiting ticket goes back to; ``None`` when it is not waiting."""
    targets = destinations(command, ticket.state, ticket.kind)
    if targets == [ticket.state]:
        return None
    if ticket.resume_state in targets:
        return ticket.resume_state
    return targets[0]
