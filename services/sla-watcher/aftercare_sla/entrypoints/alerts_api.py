"""On-call alerts over HTTP: the list, acknowledge / resolve / reassign for the roles that
carry pages, and the page behind the link in every page: it shows the alert, its
history and its ticket's clocks, and acknowledges with one click (a plain form: a mail client that
prefetches links acknowledges nothing), without an account."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from aftercare.auth import Principal, PrincipalDep
from aftercare.clock import Clock
from aftercare.problems import Problem
from aftercare.tokens import TokenRefused
from aftercare_sla.adapters.alert_store import decoded
from aftercare_sla.adapters.oncall_pages import AckLinks
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.alerting import AlertClosed, OnCallAlert
from aftercare_sla.entrypoints.ack_page import AckPage, page
from aftercare_sla.service_layer.alert_keeper import AlertKeeper, AlertNotFound

ACK_PATH = "/alerts/ack/"
ACTING_ROLES = frozenset({"admin", "engineer", "supervisor"})
ACTED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such alert"},
    409: {"description": "The alert was resolved"},
}
AlertId = Annotated[str, Path(min_length=1, max_length=200)]


class AlertView(BaseModel):
    alert_id: str
    ticket_id: str
    rule: str
    cycle: int
    group: str
    state: str
    urgency: str
    triggered_at: datetime | None = None
    next_due: datetime | None = None
    acknowledged_by: str | None = None
    assignee: str | None = None
    resolution: str | None = None


class Reassignment(BaseModel):
    to: str = Field(min_length=1, max_length=64)


def _view(alert: OnCallAlert) -> AlertView:
    return AlertView(
        alert_id=alert.alert_id, ticket_id=alert.ticket_id, rule=alert.rule,
        cycle=alert.cycle, group=alert.group, state=alert.state, urgency=alert.urgency,
        triggered_at=alert.triggered_at, acknowledged_by=alert.acknowledged_by,
        assignee=alert.assignee, resolution=alert.resolution,
    )  # fmt: skip


def _acting(principal: Principal) -> str:
    if principal.role not in ACTING_ROLES:
        raise Problem(403, "forbidden", "This role cannot act on alerts", f"role {principal.role}")
    return principal.key_name


async def _acted(action: Any) -> AlertView:
    try:
        return _view(await action)
    except AlertNotFound as error:
        raise Problem(404, "alert-not-found", "No such alert", str(error)) from None
    except AlertClosed as error:
        raise Problem(409, "alert-resolved", "The alert was resolved", str(error)) from None
    except ValueError as error:
        raise Problem(422, "unknown-person", "Nobody of that id", str(error)) from None


def add_alert_routes(
    app: FastAPI,
    keeper: AlertKeeper,
    links: AckLinks,
    clock: Clock,
    timers: SqlWatcherStore,
    ack_view: AckPage,
) -> None:
    @app.get("/alerts", response_model=list[AlertView], tags=["oncall"])
    async def list_alerts(
        _: PrincipalDep,
        state: Annotated[
            str | None, Query(pattern="^(open|triggered|acknowledged|resolved)$")
        ] = None,
        group: Annotated[str | None, Query(max_length=64)] = None,
        ticket: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AlertView]:
        """Alerts newest first; ``state=open`` is triggered or acknowledged; ``ticket``
        keeps one ticket's."""
        rows = await keeper.store.listed(state, group, limit, ticket)
        return [
            AlertView(
                alert_id=r.alert_id,
                ticket_id=r.ticket_id,
                rule=r.rule,
                cycle=r.cycle,
                group=r.paging_group,
                state=r.state,
                urgency=r.urgency,
                triggered_at=r.triggered_at,
                next_due=r.next_due,
            )
            for r in rows
        ]

    @app.post(
        "/alerts/{alert_id}/acknowledge", response_model=AlertView, tags=["oncall"], responses=ACTED
    )
    async def acknowledge(
        alert_id: AlertId,
        principal: PrincipalDep,
        x_actor: Annotated[
            str | None,
            Header(max_length=64, description="the person acting (a console's user)"),
        ] = None,
    ) -> AlertView:
        """Stops the escalation (acknowledging twice changes nothing)."""
        key = _acting(principal)  # the key's own role must act on alerts, whoever it names
        return await _acted(keeper.acknowledge(alert_id, x_actor or key, "api"))

    @app.post(
        "/alerts/{alert_id}/resolve", response_model=AlertView, tags=["oncall"], responses=ACTED
    )
    async def resolve(alert_id: AlertId, principal: PrincipalDep) -> AlertView:
        return await _acted(keeper.resolve(alert_id, _acting(principal)))

    @app.post(
        "/alerts/{alert_id}/reassign", response_model=AlertView, tags=["oncall"], responses=ACTED
    )
    async def reassign(alert_id: AlertId, body: Reassignment, principal: PrincipalDep) -> AlertView:
        """Pages ``to`` at once; the chain goes on from level 2 if they do not answer."""
        return await _acted(keeper.reassign(alert_id, body.to, _acting(principal)))

    @app.get(ACK_PATH + "{token}", response_class=HTMLResponse, include_in_schema=False)
    async def ack_link_page(token: Annotated[str, Path(max_length=2000)]) -> HTMLResponse:
        return await _ack(token, act=False)

    @app.post(ACK_PATH + "{token}", response_class=HTMLResponse, include_in_schema=False)
    async def ack_click(token: Annotated[str, Path(max_length=2000)]) -> HTMLResponse:
        return await _ack(token, act=True)

    async def _ack(token: str, *, act: bool) -> HTMLResponse:
        try:
            alert_id, person = links.claims(token, clock.now())
        except TokenRefused:
            return page("<p>This link has expired or is not valid.</p>", 410)
        try:
            alert = (
                await keeper.acknowledge(alert_id, person, "link")
                if act
                else await keeper.read(alert_id)
            )
        except (AlertNotFound, AlertClosed) as error:
            return page(f"<p>{html.escape(str(error))}</p>", 409)
        history = [decoded(r) for r in await keeper.store.history(alert_id)]
        clocks = await timers.timers_of_ticket(alert.ticket_id)
        return ack_view.alert(alert, history, clocks, ACK_PATH + token)
