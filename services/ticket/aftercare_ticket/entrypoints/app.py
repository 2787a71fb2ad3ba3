"""The ticket service's FastAPI application and its error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.db import create_engine
from aftercare.deadletters import dead_letter_readiness
from aftercare.eventstore import ConcurrencyError
from aftercare.http import create_service_app, door_limits
from aftercare.problems import Problem
from aftercare_ticket.adapters.repository import EventTooLarge
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.domain.errors import InvalidTransition, Refusal
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.entrypoints.routes import etag, router
from aftercare_ticket.service_layer.service import (
    IdempotencyKeyReused,
    InvalidCursor,
    TicketNotFound,
    TicketService,
)
from aftercare_ticket.settings import TicketSettings


def policy_of(settings: TicketSettings) -> Policy:
    return Policy(
        return_window_days=settings.return_window_days,
        warranty_months=settings.warranty_months,
        warranty_months_by_model=dict(settings.warranty_months_by_model),
        max_backdate=timedelta(days=settings.max_backdate_days),
    )


def create_app(
    settings: TicketSettings | None = None,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The app; pass ``engine`` and ``clock`` to share them with tests or other services."""
    settings = settings or TicketSettings()
    owns_engine = engine is None
    engine = engine or create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:
            await engine.dispose()

    app = create_service_app(
        title="Aftercare ticket service",
        description="After-sales technical support tickets: raise, acknowledge, diagnose, "
        "resolve, revisit, with every step recorded as an event.",
        engine=engine,
        keys=settings.key_ring,
        limits=door_limits(settings),
        lifespan=lifespan,
        readiness=dead_letter_readiness(engine),
    )
    app.state.ticket_service = TicketService(
        SqlTicketStore(engine, max_event_bytes=settings.max_event_bytes),
        clock or SystemClock(),
        policy_of(settings),
    )
    _install_domain_errors(app)
    app.include_router(router)
    return app


def _install_domain_errors(app: FastAPI) -> None:
    @app.exception_handler(TicketNotFound)
    async def _not_found(request: Request, error: TicketNotFound) -> JSONResponse:
        return Problem(
            404, "ticket-not-found", "No such ticket", str(error), ticket_id=error.ticket_id
        ).response(request.url.path)

    @app.exception_handler(ConcurrencyError)
    async def _stale(request: Request, error: ConcurrencyError) -> JSONResponse:
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
        ).response(request.url.path)

    @app.exception_handler(InvalidTransition)
    async def _transition(request: Request, error: InvalidTransition) -> JSONResponse:
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
        ).response(request.url.path)

    @app.exception_handler(Refusal)
    async def _refused(request: Request, error: Refusal) -> JSONResponse:
        return Problem(
            422,
            "rule-refusal",
            f"Refused by {error.rule}",
            error.detail,
            rule=error.rule,
            field=error.field,
        ).response(request.url.path)

    @app.exception_handler(IdempotencyKeyReused)
    async def _reused(request: Request, error: IdempotencyKeyReused) -> JSONResponse:
        return Problem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            str(error),
            field="Idempotency-Key",
        ).response(request.url.path)

    @app.exception_handler(EventTooLarge)
    async def _too_large(request: Request, error: EventTooLarge) -> JSONResponse:
        return Problem(
            413,
            "event-too-large",
            "The request would record too large an event",
            f"{error} (AFTERCARE_MAX_EVENT_BYTES): shorten the text or the lists",
            max_event_bytes=error.limit,
        ).response(request.url.path)

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, error: InvalidCursor) -> JSONResponse:
        return Problem(
            422, "validation-error", "The request is not valid", str(error), field="cursor"
        ).response(request.url.path)
