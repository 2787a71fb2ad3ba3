"""Decisions that make a ticket wait and end the wait: information asked of the customer
and given, parts ordered and arrived (each wait returns to the state it left)."""

from __future__ import annotations

from datetime import datetime

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.decision import Context, decision, resume_state
from aftercare_ticket.domain.errors import Refusal
from aftercare_ticket.domain.ticket import Ticket


@decision.register
def _request_info(
    command: cmd.RequestInfo, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.CustomerInfoRequested(
            ticket_id=ticket.id,
            occurred_at=at,
            requested=command.requested,
            paused_from=ticket.state,
        )
    ]


@decision.register
def _provide_info(
    command: cmd.ProvideInfo, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    resumed_to = resume_state(ticket, "provide_info")
    return [
        ev.CustomerInfoProvided(
            ticket_id=ticket.id,
            occurred_at=at,
            information=command.information,
            attachments=command.attachments,
            resumed_to=resumed_to,
        )
    ]


@decision.register
def _await_parts(
    command: cmd.AwaitParts, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.expected_at is not None and command.expected_at < at:
        raise Refusal(
            "B-TIME-ORDER", "parts cannot be expected before they are ordered", "expected_at"
        )
    return [
        ev.PartsAwaited(
            ticket_id=ticket.id,
            occurred_at=at,
            parts=command.parts,
            expected_at=command.expected_at,
            paused_from=ticket.state,
        )
    ]


@decision.register
def _parts_arrived(
    command: cmd.PartsArrived, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    resumed_to = resume_state(ticket, "parts_arrived")
    assert resumed_to is not None
    return [
        ev.PartsArrived(
            ticket_id=ticket.id, occurred_at=at, note=command.note, resumed_to=resumed_to
        )
    ]
