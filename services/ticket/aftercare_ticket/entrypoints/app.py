"""The ticket service's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.db import create_engine
from aftercare.deadletters import dead_letter_readiness
from aftercare.http import create_service_app, door_limits
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.console import PATH, install_console
from aftercare_ticket.console.service_client import ServiceClient
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.entrypoints.problems import install_domain_problems
from aftercare_ticket.entrypoints.routes import router
from aftercare_ticket.service_layer.service import TicketService
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
    *,
    sla_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; pass ``engine`` and ``clock`` to share them with tests or other services,
    ``sla_transport`` to reach the SLA watcher's API in the same process."""
    settings = settings or TicketSettings()
    owns_engine = engine is None
    engine = engine or create_engine(settings.database_url)

    closing: list[ServiceClient] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for client in closing:
            await client.close()
        if owns_engine:
            await engine.dispose()

    app = create_service_app(
        title="Aftercare ticket service",
        description="After-sales technical support tickets: raise, acknowledge, diagnose, "
        "resolve, revisit, with every step recorded as an event.",
        engine=engine,
        keys=settings.key_ring,
        limits=replace(door_limits(settings), form_paths=(PATH + "/",)),
        lifespan=lifespan,
        readiness=dead_letter_readiness(engine),
    )
    clock = clock or SystemClock()
    service = TicketService(
        SqlTicketStore(engine, max_event_bytes=settings.max_event_bytes),
        clock,
        policy_of(settings),
    )
    app.state.ticket_service = service
    install_domain_problems(app)
    app.include_router(router)
    closing += install_console(
        app, service, engine, settings, settings.key_ring, clock, sla_transport=sla_transport
    )
    return app
