"""A case as the reports see it, folded from the ticket's published events (no personal
data: the topic carries none). Pure: the projection stores the facts, a report folds the
facts recorded by its cut-off, so a report "as of" a date is the same whenever it runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from aftercare.instants import parse_time


@dataclass(frozen=True, slots=True)
class Fact:
    """One published ticket event: its name, when it happened, its data."""

    sequence: int
    type: str
    at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The SLA watcher's judgement of one clock cycle of the case: met or breached."""

    rule: str
    title: str
    cycle: int
    met: bool


@dataclass(frozen=True, slots=True)
class Case:
    ticket_id: str
    kind: str = ""
    channel: str = ""
    priority: str = "normal"
    urgent: bool = False
    region: str | None = None
    customer_ref: str | None = None
    model: str | None = None
    lot: str | None = None
    fault_cause: str | None = None
    diagnosed_at: datetime | None = None
    assignee: str | None = None
    requested_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved: bool = False
    closed: bool = False
    ended_without_resolution: bool = False
    reopens: int = 0
    info_requests: int = 0
    escalations: int = 0
    visits: int = 0
    complexity: str | None = None
    satisfaction: int | None = None
    survey_overall: int | None = None
    """The customer's own answer to the survey (overall, 1–5), when they gave one."""
    fee_accepted: bool = False
    appointment_at: datetime | None = None
    arrived_at: datetime | None = None
    progress_at: tuple[datetime, ...] = ()
    open_until: datetime | None = None
    """When the case stopped owing progress updates (resolved, closed, ended)."""
    waits: tuple[tuple[datetime, datetime | None], ...] = field(default=())
    verdicts: tuple[Verdict, ...] = ()
    """The watcher's verdicts (T-*), from ``ticket.sla.v1``: one per rule and cycle."""


def _raised(case: Case, fact: Fact) -> Case:
    data = fact.data
    product = data.get("product") or {}
    return replace(
        case,
        kind=str(data.get("kind", "")),
        channel=str(data.get("channel", "")),
        priority=str(data.get("priority", "normal")),
        urgent=bool(data.get("urgent", False)),
        region=data.get("region"),
        customer_ref=data.get("customer_ref"),
        model=product.get("model") if isinstance(product, Mapping) else None,
        lot=product.get("lot") if isinstance(product, Mapping) else None,
        requested_at=parse_time(data.get("requested_at")) or fact.at,
    )


def _resolved(case: Case, fact: Fact) -> Case:
    return replace(
        case,
        resolved=True,
        first_resolved_at=case.first_resolved_at or fact.at,
        open_until=case.open_until or fact.at,
    )


def _waiting(case: Case, fact: Fact, starts: bool) -> Case:
    if starts:
        return replace(
            case, waits=(*case.waits, (fact.at, None)), info_requests=case.info_requests + 1
        )
    if case.waits and case.waits[-1][1] is None:
        return replace(case, waits=(*case.waits[:-1], (case.waits[-1][0], fact.at)))
    return case


def evolve(case: Case, fact: Fact) -> Case:
    data, name = fact.data, fact.type
    if name == "RequestRaised":
        return _raised(case, fact)
    if name == "Acknowledged":
        return replace(case, acknowledged_at=case.acknowledged_at or fact.at)
    if name == "Diagnosed":
        arrived = parse_time(data.get("on_site_arrived_at"))
        return replace(
            case,
            fault_cause=data.get("fault_cause") or case.fault_cause,
            diagnosed_at=fact.at,
            complexity=data.get("complexity") or case.complexity,
            arrived_at=arrived or case.arrived_at,
        )
    if name == "Resolved":
        return _resolved(case, fact)
    if name == "Revisited":
        return replace(case, satisfaction=data.get("satisfaction"))
    if name == "Reopened":
        return replace(case, reopens=case.reopens + 1, closed=False, open_until=None)
    if name == "Closed":
        return replace(case, closed=True, open_until=case.open_until or fact.at)
    if name in ("Withdrawn", "Declined"):
        ended = not case.resolved
        return replace(case, ended_without_resolution=ended, open_until=case.open_until or fact.at)
    if name == "CustomerInfoRequested":
        return _waiting(case, fact, starts=True)
    if name == "CustomerInfoProvided":
        return _waiting(case, fact, starts=False)
    if name == "Escalated":
        return replace(
            case,
            escalations=case.escalations + 1,
            urgent=case.urgent or data.get("priority") == "urgent",
        )
    if name == "Assigned":
        return replace(case, assignee=data.get("assignee"))
    if name == "OnSiteVisitScheduled":
        return replace(
            case, visits=case.visits + 1, appointment_at=parse_time(data.get("appointment_at"))
        )
    if name == "QuoteAnswered":
        return replace(case, fee_accepted=bool(data.get("accepted")))
    if name == "ProgressReported":
        return replace(case, progress_at=(*case.progress_at, fact.at))
    return case


def fold(ticket_id: str, facts: Iterable[Fact]) -> Case:
    case = Case(ticket_id)
    for fact in sorted(facts, key=lambda f: f.sequence):
        case = evolve(case, fact)
    return case
