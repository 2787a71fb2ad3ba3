"""The ticket service's own errors as RFC 9457 problems: each names the rule, field or
version at fault, so a caller (or the console) can say what to change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aftercare.eventstore import ConcurrencyError
from aftercare.problems import Problem
from aftercare_ticket.adapters.repository import EventTooLarge
from aftercare_ticket.domain.errors import InvalidTransition, Refusal
from aftercare_ticket.entrypoints.routes import etag
from aftercare_ticket.service_layer.cursors import InvalidCursor
from aftercare_ticket.service_layer.service import IdempotencyKeyReused, TicketNotFound


def _not_found(error: TicketNotFound) -> Problem:
    return Problem(404, "ticket-not-found", "No such ticket", str(error), ticket_id=error.ticket_id)


def _stale(error: ConcurrencyError) -> Problem:
    actual = error.actual_version
    return Problem(
        409,
        "version-conflict",
        "The ticket has changed",
        f"expected version {error.expected_version}, the ticket is at "
        f"{'a later version' if actual is None else actual}: reload it and decide again",
        headers={"ETag": etag(actual)} if actual is not None else None,
        expected_version=error.expected_version,
        actual_version=error.actual_version,
    )


def _transition(error: InvalidTransition) -> Problem:
    allowed = [name.replace("_", "-") for name in error.allowed]
    return Problem(
        422,
        "invalid-transition",
        "Command not allowed in this state",
        f"{error.command.replace('_', '-')} is not allowed while the ticket is "
        f"{error.state}; allowed: {', '.join(allowed) or 'none'}",
        state=error.state,
        command=error.command.replace("_", "-"),
        allowed_commands=allowed,
    )


def _refused(error: Refusal) -> Problem:
    return Problem(
        422,
        "rule-refusal",
        f"Refused by {error.rule}",
        error.detail,
        rule=error.rule,
        field=error.field,
    )


def _reused(error: IdempotencyKeyReused) -> Problem:
    return Problem(
        422, "idempotency-key-reused", "Idempotency-Key reused", str(error), field="Idempotency-Key"
    )


def _too_large(error: EventTooLarge) -> Problem:
    return Problem(
        413,
        "event-too-large",
        "The request would record too large an event",
        f"{error} (AFTERCARE_MAX_EVENT_BYTES): shorten the text or the lists",
        max_event_bytes=error.limit,
    )


def _cursor(error: InvalidCursor) -> Problem:
    return Problem(422, "validation-error", "The request is not valid", str(error), field="cursor")


PROBLEMS: dict[type[Exception], Callable[[Any], Problem]] = {
    TicketNotFound: _not_found,
    ConcurrencyError: _stale,
    InvalidTransition: _transition,
    Refusal: _refused,
    IdempotencyKeyReused: _reused,
    EventTooLarge: _too_large,
    InvalidCursor: _cursor,
}
"""Each error the service layer or the domain raises, and the problem that answers it."""


def install_domain_problems(app: FastAPI) -> None:
    for error_type, problem_of in PROBLEMS.items():

        async def answer(
            request: Request, error: Exception, problem_of: Callable[[Any], Problem] = problem_of
        ) -> JSONResponse:
            return problem_of(error).response(request.url.path)

        app.add_exception_handler(error_type, answer)
