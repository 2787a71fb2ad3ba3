"""The web console: server-rendered pages under ``/console`` in the ticket service's own
process, and the customer's status page under ``/status``. A thin client of the same
service layer and the same rules as the API, and of the SLA watcher's API for the
clocks. Everything a page needs is served from this package; pages read with JavaScript
off, which only keeps countdowns live."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.staticfiles import StaticFiles

from aftercare.auth import KeyRing
from aftercare.clock import Clock
from aftercare.customer_links import StatusLinks, SurveyLinks
from aftercare_ticket.adapters.queue_reads import QueueReads
from aftercare_ticket.adapters.status_link_store import SqlStatusLinks
from aftercare_ticket.console.access import add_access_routes
from aftercare_ticket.console.dashboard import Dashboard
from aftercare_ticket.console.queue import add_queue_route
from aftercare_ticket.console.rendering import STATIC, Pages
from aftercare_ticket.console.reporting_client import NotifierClient, ReportingClient
from aftercare_ticket.console.service_client import ServiceClient
from aftercare_ticket.console.session import PATH, ConsoleSessions
from aftercare_ticket.console.sla_client import SlaClient
from aftercare_ticket.console.status_page import StatusPage
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
    *,
    sla_transport: httpx.AsyncBaseTransport | None = None,
) -> list[ServiceClient]:
    """Add the console's routes and files to ``app``; returns the clients of the other
    services, for the app to close when it stops. ``sla_transport``: reach the watcher's
    API some other way than over the network (an ASGI app in the same process)."""
    pages = Pages(settings.sla_timezone)
    secure = settings.base_url.startswith("https://")
    sessions = ConsoleSessions(f"console:{settings.console_secret}", keys, clock, secure=secure)
    sla = SlaClient(settings.sla_url, settings.console_key, transport=sla_transport)
    reporting = ReportingClient(settings.reporting_url, settings.console_key)
    notifier = NotifierClient(settings.notifier_url, settings.console_key)
    router = APIRouter(prefix=PATH, include_in_schema=False)
    add_access_routes(router, sessions, pages)
    add_queue_route(router, sessions, pages, QueueReads(engine), sla)
    TicketPage(service, sessions, pages, sla, notifier).install(router)
    Dashboard(sessions, pages, reporting, clock).install(router)
    app.include_router(router)
    status = StatusLinks(
        settings.status_secret, settings.base_url, clock, timedelta(days=settings.status_link_days)
    )
    surveys = SurveyLinks(settings.survey_secret, settings.survey_url, clock)
    StatusPage(service, SqlStatusLinks(engine), status, surveys, pages).install(app, clock)
    app.mount(f"{PATH}/static", StaticFiles(directory=STATIC), name="console-static")
    return [sla, reporting, notifier]
