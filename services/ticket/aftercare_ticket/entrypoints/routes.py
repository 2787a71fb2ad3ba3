"""HTTP routes of the ticket service: ``/tickets`` and one endpoint per command.

No ``from __future__ import annotations`` here: the command endpoints are built in a
loop, and FastAPI must see each one's body type as a real object.
"""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from aftercare.auth import PrincipalDep
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_ticket.domain.commands import TICKET_COMMANDS, Command, RaiseRequest
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.vocabulary import Channel, Kind, Priority, State
from aftercare_ticket.entrypoints.auth import (
    caller_of,
    require_command,
    require_contact_access,
)
from aftercare_ticket.entrypoints.schemas import (
    ContactOut,
    EventOut,
    HistoryOut,
    TicketOut,
    TicketPage,
    TicketSummary,
)
from aftercare_ticket.service_layer.service import Caller, Outcome, TicketService

router = APIRouter(prefix="/tickets", tags=["tickets"])

CallerDep = Annotated[Caller, Depends(caller_of)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a request safely: the same key and body answer the same",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=40, description='The ticket version, as "<version>"'),
]


async def service_of(request: Request) -> TicketService:
    service: TicketService = request.app.state.ticket_service
    return service


ServiceDep = Annotated[TicketService, Depends(service_of)]
TicketId = Annotated[str, Path(max_length=100, description="as returned by POST /tickets")]
Ref = Annotated[str | None, Query(max_length=200)]
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,15})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version_of(if_match: str | None, in_body: int | None) -> int | None:
    if if_match is None:
        return in_body
    match = _ETAG.match(if_match)
    if not match:
        raise Problem(
            422,
            "validation-error",
            "The request is not valid",
            'If-Match must be a ticket version such as "3"',
            field="If-Match",
        )
    return int(match.group(1))


_TICKET_LINKS = {
    operation: {
        "operationId": operation,
        "parameters": {"ticket_id": "$response.body#/id"},
        "description": "the ticket just raised",
    }
    for operation in ("get_ticket", "ticket_history", "ticket_contact", *TICKET_COMMANDS)
}
"""OpenAPI links: what a client (or a fuzzer) can do next with the ticket it raised."""


def _answer(outcome: Outcome, status_code: int = 200) -> Response:
    """A command's answer: the ticket after it, and where it lives."""
    location = {"Location": f"/tickets/{outcome.ticket.id}"}
    return _ticket_response(outcome.ticket, status_code, location)


def _ticket_response(
    ticket: Ticket, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The ticket as the API shows it (``TicketOut``, the documented response model),
    encoded once: returned as a model, FastAPI would validate it again before encoding."""
    return Response(
        TicketOut.of(ticket).model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(ticket.version), **(headers or {})},
    )


@router.post(
    "",
    status_code=201,
    response_model=TicketOut,
    operation_id="raise_request",
    dependencies=[require_command("raise")],
    responses={
        200: {"description": "Replayed: this Idempotency-Key created the ticket"},
        201: {"links": _TICKET_LINKS},
    },
)
async def raise_ticket(
    body: RaiseRequest,
    caller: CallerDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Raise a request: a new ticket (K-3)."""
    outcome = await service.raise_request(body, caller, idempotency_key)
    return _answer(outcome, 200 if outcome.replayed else 201)


@router.get("", response_model=TicketPage, operation_id="list_tickets")
async def list_tickets(
    request: Request,
    _: PrincipalDep,
    service: ServiceDep,
    state: State | None = None,
    kind: Kind | None = None,
    priority: Priority | None = None,
    channel: Channel | None = None,
    customer_ref: Ref = None,
    assignee: Ref = None,
    region: Ref = None,
    urgent: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketPage:
    """List tickets, newest first, with filters and cursor pagination."""
    filters: dict[str, Any] = {
        "state": state,
        "kind": kind,
        "priority": priority,
        "channel": channel,
        "customer_ref": customer_ref,
        "assignee": assignee,
        "region": region,
        "urgent": urgent,
    }
    filters = {name: value for name, value in filters.items() if value is not None}
    page = await service.list(filters, cursor, limit)
    following = None
    if page.next_cursor:
        following = str(request.url.include_query_params(cursor=page.next_cursor))
    return TicketPage(
        items=[TicketSummary.of(row) for row in page.items],
        next_cursor=page.next_cursor,
        next=following,
    )


@router.get("/{ticket_id}", response_model=TicketOut, operation_id="get_ticket")
async def get_ticket(
    ticket_id: TicketId,
    _: PrincipalDep,
    service: ServiceDep,
    as_of: Annotated[Instant | None, Query(description="RFC 3339 instant")] = None,
) -> Response:
    """The ticket now, or as it was recorded at ``as_of``."""
    return _ticket_response(await service.get(ticket_id, as_of))


@router.get("/{ticket_id}/events", response_model=HistoryOut, operation_id="ticket_history")
async def ticket_history(
    ticket_id: TicketId, principal: PrincipalDep, service: ServiceDep
) -> HistoryOut:
    """Every event of the ticket in order: who did what, when (F-9)."""
    recorded = await service.history(ticket_id)
    return HistoryOut(
        ticket_id=ticket_id,
        events=[EventOut.of(event, principal.sees_personal_data) for event in recorded],
    )


@router.get(
    "/{ticket_id}/contact",
    response_model=ContactOut,
    operation_id="ticket_contact",
    dependencies=[Depends(require_contact_access)],
)
async def ticket_contact(ticket_id: TicketId, service: ServiceDep) -> ContactOut:
    """How to reach the customer (admin and notifier only, P-PII)."""
    ticket = await service.get(ticket_id)
    assert ticket.contact is not None
    return ContactOut(
        ticket_id=ticket.id,
        customer_ref=ticket.customer_ref,
        name=ticket.contact.name,
        email=ticket.contact.email,
        phone=ticket.contact.phone,
        language=ticket.language,
        channel=ticket.channel,
    )


def _command_route(command_type: type[Command]) -> None:
    path = command_type.name.replace("_", "-")

    async def run_command(
        ticket_id: TicketId,
        body: Annotated[command_type, Body()],  # type: ignore[valid-type]
        caller: CallerDep,
        service: ServiceDep,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        command: Command = body
        expected = expected_version_of(if_match, command.expected_version)
        outcome = await service.execute(ticket_id, command, caller, expected, idempotency_key)
        return _answer(outcome)

    run_command.__doc__ = (command_type.__doc__ or f"{path} the ticket").splitlines()[0]
    router.add_api_route(
        f"/{{ticket_id}}/{path}",
        run_command,
        methods=["POST"],
        response_model=TicketOut,
        operation_id=command_type.name,
        summary=path.replace("-", " ").capitalize(),
        dependencies=[require_command(command_type.name)],
        responses={
            409: {"description": "If-Match or expected_version is not the ticket's version"},
            422: {"description": "Not valid, not allowed in this state, or refused by a rule"},
        },
    )


for _command_type in TICKET_COMMANDS.values():
    _command_route(_command_type)
