"""The web console: server-rendered pages under ``/console`` in the ticket service's own
process, a thin client of the same service layer and the same rules as the API, and of
the SLA watcher's API for the clocks. Everything a page needs is served from this
package; pages read with JavaScript off, which only keeps countdowns live."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.staticfiles import StaticFiles

from aftercare.auth import KeyRing
from aftercare.clock import Clock
from aftercare_ticket.adapters.queue_reads import QueueReads
from aftercare_ticket.console.access import add_access_routes
from aftercare_ticket.console.queue import add_queue_route
from aftercare_ticket.console.rendering import STATIC, Pages
from aftercare_ticket.console.session import PATH, ConsoleSessions
from aftercare_ticket.console.sla_client import SlaClient
from aftercare_ticket.console.ticket_page import TicketPage
from aftercare_ticket.service_layer.service import TicketService
from aftercare_ticket.settings import TicketSettings

__all__ = ["PATH", "install_console"]


def install_console(
    app: FastAPI,
    service: TicketService,
    engine: AsyncEngine,
    settings: TicketSettings,
    keys: KeyRing,
    clock: Clock,
) -> SlaClient:
    """Add the console's routes and files to ``app``; returns the watcher's client, for
    the app to close when it stops."""
    pages = Pages(settings.sla_timezone)
    secure = settings.base_url.startswith("https://")
    sessions = ConsoleSessions(f"console:{settings.console_secret}", keys, clock, secure=secure)
    sla = SlaClient(settings.sla_url, settings.console_key)
    router = APIRouter(prefix=PATH, include_in_schema=False)
    add_access_routes(router, sessions, pages)
    add_queue_route(router, sessions, pages, QueueReads(engine), sla)
    TicketPage(service, sessions, pages, sla).install(router)
    app.include_router(router)
    app.mount(f"{PATH}/static", StaticFiles(directory=STATIC), name="console-static")
    return sla
