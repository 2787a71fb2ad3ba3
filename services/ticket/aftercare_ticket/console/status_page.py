"""The customer's own status page, behind the signed link in every update (no account):
where the request stands, the plan and the expected time, and the progress in the
customer's language — only what the customer may see: no internal notes (diagnosis
findings, escalations, assignments), no staff names, no SLA internals. A closed request
offers the satisfaction survey. A wrong, expired or revoked link gets a plain page; the
page is rate-limited per address. Staff revoke a ticket's links over the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel
from starlette.responses import Response

from aftercare.auth import Principal, PrincipalDep
from aftercare.clock import Clock
from aftercare.customer_links import StatusLinks, SurveyLinks
from aftercare.eventstore import RecordedEvent
from aftercare.problems import Problem
from aftercare.public_pages import PerAddressLimit
from aftercare.tokens import TokenRefused
from aftercare_ticket.adapters.status_link_store import SqlStatusLinks
from aftercare_ticket.console.rendering import Pages
from aftercare_ticket.service_layer.service import TicketNotFound, TicketService

STATUS_PATH = "/status/"
REVOKING_ROLES = frozenset({"admin", "engineer", "intake"})
SHOWN: Mapping[str, tuple[str, ...]] = {
    "RequestRaised": (),
    "Acknowledged": ("plan", "expected_resolution_at"),
    "PlanRevised": ("plan", "expected_resolution_at"),
    "WorkaroundProvided": ("description",),
    "CustomerInfoRequested": ("requested",),
    "CustomerInfoProvided": (),
    "PartsAwaited": ("expected_at",),
    "PartsArrived": (),
    "OnSiteVisitScheduled": ("appointment_at",),
    "ProgressReported": ("message",),
    "ProductReceived": (),
    "ReturnInstructionsGiven": ("address", "instructions"),
    "RefundApproved": (),
    "ProductReturned": ("tracking_ref",),
    "Resolved": ("solution",),
    "Reopened": (),
    "Closed": (),
    "Withdrawn": (),
    "Declined": ("explanation",),
}
"""The events a customer sees, and of each only these fields (staff names, findings,
internal reasons and every other field stay out)."""


class Revoked(BaseModel):
    ticket_id: str
    revoked_at: str


def customer_timeline(history: Sequence[RecordedEvent]) -> list[dict[str, Any]]:
    return [
        {
            "type": event.type,
            "at": event.data.get("occurred_at") or event.recorded_at,
            "fields": {f: event.data[f] for f in SHOWN[event.type] if event.data.get(f)},
        }
        for event in history
        if event.type in SHOWN
    ]


class StatusPage:
    def __init__(
        self,
        service: TicketService,
        revocations: SqlStatusLinks,
        links: StatusLinks,
        surveys: SurveyLinks,
        pages: Pages,
    ) -> None:
        self.service = service
        self.revocations = revocations
        self.links = links
        self.surveys = surveys
        self.pages = pages
        self.limit = PerAddressLimit("status")

    def install(self, app: FastAPI, clock: Clock) -> None:
        router = APIRouter(include_in_schema=False)
        router.add_api_route(STATUS_PATH + "{token}", self.show, methods=["GET"])
        app.include_router(router)

        async def revoke(
            ticket_id: Annotated[str, Path(max_length=64)],
            principal: Annotated[Principal, Depends(_revoking)],
        ) -> Revoked:
            """End every status link of the ticket issued until now (the customer gets
            a new one with the next update)."""
            await self.service.get(ticket_id)
            now = clock.now()
            await self.revocations.revoke(ticket_id, principal.key_name, now)
            return Revoked(ticket_id=ticket_id, revoked_at=now.isoformat())

        app.add_api_route(
            "/tickets/{ticket_id}/status-links/revoke",
            revoke,
            methods=["POST"],
            response_model=Revoked,
            tags=["tickets"],
            operation_id="revoke_status_links",
        )

    async def show(self, request: Request, token: str) -> Response:
        if not await self.limit.allows(request):
            return self._plain(request, 429, "too_many", "zh-CN")
        try:
            claims = self.links.claims(token[:2000])
        except TokenRefused:
            return self._plain(request, 404, "link_invalid", "zh-CN")
        revoked = await self.revocations.revoked_at(claims.ticket_id)
        if revoked is not None and claims.issued_at <= revoked:
            return self._plain(request, 404, "link_invalid", claims.language)
        try:
            ticket = await self.service.get(claims.ticket_id)
        except TicketNotFound:
            return self._plain(request, 404, "link_invalid", claims.language)
        history = await self.service.history(claims.ticket_id)
        survey = None
        if ticket.state == "closed":  # Q §七: every closed request asks for a rating
            survey = self.surveys.for_ticket(ticket.id, claims.language)
        return self.pages.render(
            request,
            "status.html.j2",
            language=claims.language,
            ticket=ticket,
            timeline=customer_timeline(history),
            survey=survey,
        )

    def _plain(self, request: Request, status: int, message: str, language: str) -> Response:
        return self.pages.render(
            request, "status_message.html.j2", status, language=language, message=message
        )


async def _revoking(principal: PrincipalDep) -> Principal:
    if principal.role not in REVOKING_ROLES:
        raise Problem(403, "forbidden", "This role may not revoke status links",
                      f"role {principal.role!r}", role=principal.role)  # fmt: skip
    return principal
