"""The watcher's small HTTP API: each ticket's clocks, the breaches since a time, and
who is on call."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.asgi import DoorLimits
from aftercare.auth import KeyRing, PrincipalDep
from aftercare.china_calendar import CalendarStatus
from aftercare.clock import Clock
from aftercare.deadletters import dead_letter_readiness
from aftercare.health import combined
from aftercare.http import create_service_app
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_sla.adapters.oncall_pages import AckLinks
from aftercare_sla.adapters.override_store import SqlOverrideStore
from aftercare_sla.adapters.queue_store import SqlQueue
from aftercare_sla.adapters.timer_store import SqlWatcherStore
from aftercare_sla.domain.escalation import OnCallPolicy
from aftercare_sla.entrypoints.ack_page import AckPage
from aftercare_sla.entrypoints.alerts_api import ACK_PATH, add_alert_routes
from aftercare_sla.entrypoints.oncall_api import add_oncall_routes
from aftercare_sla.entrypoints.queue_api import add_queue_route
from aftercare_sla.service_layer.alert_keeper import AlertKeeper


class TargetStatus(BaseModel):
    rule: str
    title: str
    cycle: int
    status: str
    """running, paused, met, missed or cancelled."""
    clock: str
    budget_seconds: int
    started_at: datetime
    deadline: datetime | None
    remaining_seconds: int | None
    """Until the deadline (running), of the budget (paused); none once stopped."""
    paused: bool
    pause_reasons: list[str]
    warned: bool
    breached: bool
    breached_at: datetime | None
    stopped_at: datetime | None
    policy_version: str


class TicketSla(BaseModel):
    ticket_id: str
    targets: list[TargetStatus]


class Breach(BaseModel):
    ticket_id: str
    rule: str
    title: str
    cycle: int
    deadline: datetime | None
    breached_at: datetime
    customer_ref: str | None
    priority: str | None
    policy_version: str


def _status(row: Any, now: datetime) -> TargetStatus:
    remaining = None
    if row.status == "running" and row.deadline is not None:
        remaining = int((row.deadline - now).total_seconds())
    elif row.status == "paused":
        remaining = row.total_seconds - row.consumed_seconds
    return TargetStatus(
        rule=row.rule,
        title=row.title,
        cycle=row.cycle,
        status=row.status,
        clock=row.clock,
        budget_seconds=row.budget_seconds,
        started_at=row.started_at,
        deadline=row.deadline,
        remaining_seconds=remaining,
        paused=row.status == "paused",
        pause_reasons=[r for r in row.pause_reasons.split(",") if r],
        warned=row.warned,
        breached=row.breached,
        breached_at=row.breached_at,
        stopped_at=row.stopped_at,
        policy_version=row.policy_version,
    )


def _breach(row: Any) -> Breach:
    return Breach(
        ticket_id=row.ticket_id,
        rule=row.rule,
        title=row.title,
        cycle=row.cycle,
        deadline=row.deadline,
        breached_at=row.breached_at,
        customer_ref=row.facts.get("customer_ref"),
        priority=row.facts.get("priority"),
        policy_version=row.policy_version,
    )


def create_sla_app(
    engine: AsyncEngine,
    clock: Clock,
    keys: KeyRing,
    limits: DoorLimits | None = None,
    calendar: CalendarStatus | None = None,
    oncall: OnCallPolicy | None = None,
    alerts: tuple[AlertKeeper, AckLinks, AckPage] | None = None,
) -> FastAPI:
    status = calendar or CalendarStatus(())

    async def calendar_readiness() -> dict[str, Any]:
        return status.readiness()

    app = create_service_app(
        title="Aftercare SLA watcher",
        description="Every SLA clock of every ticket: deadlines, pauses, warnings, breaches.",
        engine=engine,
        keys=keys,
        limits=replace(limits or DoorLimits(), form_paths=(ACK_PATH,)),
        readiness=combined(dead_letter_readiness(engine), calendar_readiness),
    )
    store = SqlWatcherStore(engine)
    add_queue_route(app, SqlQueue(engine))
    add_oncall_routes(app, oncall or OnCallPolicy(), clock, SqlOverrideStore(engine))
    if alerts is not None:
        add_alert_routes(app, *alerts[:2], clock, store, alerts[2])

    @app.get("/sla/tickets/{ticket_id}", response_model=TicketSla, tags=["sla"])
    async def ticket_sla(
        ticket_id: Annotated[str, Path(max_length=100)], _: PrincipalDep
    ) -> TicketSla:
        """Each target's status, deadline, time remaining and pauses."""
        rows = await store.timers_of_ticket(ticket_id)
        if not rows:
            raise Problem(
                404,
                "ticket-not-found",
                "No SLA clocks for this ticket",
                f"the watcher has seen no event of ticket {ticket_id}",
                ticket_id=ticket_id,
            )
        now = clock.now()
        return TicketSla(ticket_id=ticket_id, targets=[_status(row, now) for row in rows])

    @app.get("/sla/breaches", response_model=list[Breach], tags=["sla"])
    async def breaches(
        _: PrincipalDep,
        since: Annotated[Instant | None, Query(description="breached at or after")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[Breach]:
        """Breaches in the order they happened."""
        return [_breach(row) for row in await store.breaches(since, limit)]

    return app
