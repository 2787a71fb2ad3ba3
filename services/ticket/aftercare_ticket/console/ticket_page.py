"""The ticket page (where every link in alerts and e-mails leads) and its command forms.

What it shows and allows follows the API's rules exactly: the commands are those the
ticket's state allows *and* the role may send; contact details only for roles that may
see personal data; the timeline is the API's history with the same redaction. A form is
turned into the command's JSON body and run by the service layer with the signed-in
key as the actor; a refusal is shown with the API's own problem (its title, detail and
the rule or field it names), next to the form that caused it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from aftercare_ticket.console.access import first, guarded, posted_form
from aftercare_ticket.console.forms import body_of, field_errors, form_of
from aftercare_ticket.console.rendering import Pages
from aftercare_ticket.console.reporting_client import NotifierClient
from aftercare_ticket.console.session import PATH, ConsoleSessions, SignedIn
from aftercare_ticket.console.sla_client import SlaClient
from aftercare_ticket.domain.commands import TICKET_COMMANDS
from aftercare_ticket.entrypoints.auth import ROLE_COMMANDS
from aftercare_ticket.entrypoints.problems import PROBLEMS
from aftercare_ticket.entrypoints.schemas import EventOut, TicketOut
from aftercare_ticket.service_layer.service import Caller, TicketNotFound, TicketService

FORMS = {name: form_of(model) for name, model in TICKET_COMMANDS.items()}
ALERT_ROLES = frozenset({"admin", "engineer", "supervisor"})
"""Who acknowledges on-call alerts (the watcher's rule)."""
TICKET_ID_CHARS = 64


def _as_of(text: str, zone: ZoneInfo) -> datetime | None:
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


class TicketPage:
    def __init__(
        self,
        service: TicketService,
        sessions: ConsoleSessions,
        pages: Pages,
        sla: SlaClient,
        notifier: NotifierClient,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.pages = pages
        self.sla = sla
        self.notifier = notifier

    def install(self, router: APIRouter) -> None:
        router.add_api_route("/tickets/{ticket_id}", self.show, methods=["GET"])
        router.add_api_route("/tickets/{ticket_id}/{command}", self.run, methods=["POST"])
        router.add_api_route(
            "/tickets/{ticket_id}/alerts/{alert_id}/acknowledge", self.acknowledge, methods=["POST"]
        )

    async def acknowledge(self, request: Request, ticket_id: str, alert_id: str) -> Response:
        """An on-call alert of the ticket, acknowledged in the signed-in key's name."""
        session = guarded(self.sessions, request)
        if isinstance(session, Response):
            return session
        form = await posted_form(request)
        if not self.sessions.form_valid(session, first(form, "csrf")):
            return self.pages.render(request, "message.html.j2", 403, message="bad_form")
        if session.principal.role not in ALERT_ROLES:
            return self.pages.render(request, "message.html.j2", 403, message="forbidden")
        done = await self.sla.acknowledge(alert_id[:200], session.principal.key_name)
        outcome = "acknowledged" if done else "not_acknowledged"
        target = f"{PATH}/tickets/{ticket_id[:TICKET_ID_CHARS]}?alert={outcome}"
        return RedirectResponse(target, status_code=303)

    async def show(self, request: Request, ticket_id: str) -> Response:
        session = guarded(self.sessions, request)
        if isinstance(session, Response):
            return session
        as_of = _as_of(request.query_params.get("as_of", ""), self.pages.zone)
        done = request.query_params.get("done", "")
        return await self._page(request, session, ticket_id[:TICKET_ID_CHARS], as_of, done=done)

    async def run(self, request: Request, ticket_id: str, command: str) -> Response:
        session = guarded(self.sessions, request)
        if isinstance(session, Response):
            return session
        ticket_id = ticket_id[:TICKET_ID_CHARS]
        name = command.replace("-", "_")
        form = await posted_form(request)
        if not self.sessions.form_valid(session, first(form, "csrf")):
            return self.pages.render(request, "message.html.j2", 403, message="bad_form")
        if name not in TICKET_COMMANDS:
            return self.pages.render(request, "message.html.j2", 404, message="not_found")
        if name not in ROLE_COMMANDS.get(session.principal.role, frozenset()):
            return self.pages.render(request, "message.html.j2", 403, message="forbidden")
        body = body_of(FORMS[name], form, self.pages.zone)
        version = first(form, "expected_version")
        body["expected_version"] = int(version) if version.isdigit() else None
        try:
            parsed = TICKET_COMMANDS[name].model_validate(body)
        except ValidationError as error:
            invalid = {"command": name, "fields": field_errors(error), "typed": form}
            return await self._page(request, session, ticket_id, None, failed=invalid, status=422)
        try:
            caller = _caller(session, request)
            await self.service.execute(ticket_id, parsed, caller, parsed.expected_version)
        except tuple(PROBLEMS) as error:
            problem = PROBLEMS[type(error)](error)
            failed: dict[str, Any] = {"command": name, "problem": problem, "typed": form}
            extra = problem.extensions.get("field")
            named = isinstance(extra, str)
            failed["fields"] = {extra: problem.detail or problem.title} if named else {}
            status = problem.status
            return await self._page(request, session, ticket_id, None, failed=failed, status=status)
        target = f"{PATH}/tickets/{ticket_id}?done={command}"
        return RedirectResponse(target, status_code=303)

    async def _page(
        self,
        request: Request,
        session: SignedIn,
        ticket_id: str,
        as_of: datetime | None,
        *,
        done: str = "",
        failed: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Response:
        try:
            ticket = await self.service.get(ticket_id, as_of)
        except TicketNotFound:
            return self.pages.render(request, "message.html.j2", 404, message="not_found")
        sees = session.principal.sees_personal_data
        history = await self.service.history(ticket_id)
        events = [EventOut.of(e, sees) for e in history if as_of is None or e.recorded_at <= as_of]
        allowed = ROLE_COMMANDS.get(session.principal.role, frozenset())
        commands = [] if as_of else [c for c in ticket.allowed_commands if c in allowed]
        return self.pages.render(
            request,
            "ticket.html.j2",
            status,
            session=session,
            ticket=TicketOut.of(ticket),
            contact=ticket.contact if sees else None,
            events=events,
            clocks=None if as_of else await self.sla.ticket_clocks(ticket_id),
            alerts=None if as_of else await self.sla.open_alerts(ticket_id),
            updates=None if as_of else await self.notifier.updates(ticket_id),
            can_acknowledge=session.principal.role in ALERT_ROLES,
            alert_outcome=request.query_params.get("alert", "")[:20],
            commands=[(c, FORMS[c]) for c in commands if c in FORMS],
            failed=failed,
            done=done if done.replace("-", "_") in TICKET_COMMANDS else "",
            as_of=as_of,
        )


def _caller(session: SignedIn, request: Request) -> Caller:
    """F-9: the key that signed in is the actor, as for a call to the API."""
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    return Caller(
        actor=session.principal.key_name,
        key=session.principal.key_name,
        role=session.principal.role,
        request_id=request_id,
        correlation_id=request_id,
    )
