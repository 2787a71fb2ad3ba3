"""A case as the reports see it, folded from the ticket's published events (no personal
data: the topic carries none). Pure: the projection stores the facts, a report folds the
facts recorded by its cut-off, so a report "as of" a date is the same whenever it runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
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


State = dict[str, Any]
"""A case being folded: its fields by name, changed in place fact by fact and made a
``Case`` once at the end (a frozen copy per fact would cost more than the fold)."""
FIELDS = tuple(f.name for f in fields(Case))
_values = attrgetter(*FIELDS)
"""A case's field values in ``FIELDS`` order, read in one C call."""


def _raised(state: State, fact: Fact) -> None:
    data = fact.data
    product = data.get("product") or {}
    product = product if isinstance(product, Mapping) else {}
    state.update(
        kind=str(data.get("kind", "")),
        channel=str(data.get("channel", "")),
        priority=str(data.get("priority", "normal")),
        urgent=bool(data.get("urgent", False)),
        region=data.get("region"),
        customer_ref=data.get("customer_ref"),
        model=product.get("model"),
        lot=product.get("lot"),
        requested_at=parse_time(data.get("requested_at")) or fact.at,
    )


def _diagnosed(state: State, fact: Fact) -> None:
    data = fact.data
    state.update(
        fault_cause=data.get("fault_cause") or state["fault_cause"],
        diagnosed_at=fact.at,
        complexity=data.get("complexity") or state["complexity"],
        arrived_at=parse_time(data.get("on_site_arrived_at")) or state["arrived_at"],
    )


def _resolved(state: State, fact: Fact) -> None:
    state["resolved"] = True
    state["first_resolved_at"] = state["first_resolved_at"] or fact.at
    state["open_until"] = state["open_until"] or fact.at


def _ended(state: State, fact: Fact) -> None:
    state["ended_without_resolution"] = not state["resolved"]
    state["open_until"] = state["open_until"] or fact.at


def _info_requested(state: State, fact: Fact) -> None:
    state["waits"] = (*state["waits"], (fact.at, None))
    state["info_requests"] += 1


def _info_provided(state: State, fact: Fact) -> None:
    waits = state["waits"]
    if waits and waits[-1][1] is None:
        state["waits"] = (*waits[:-1], (waits[-1][0], fact.at))


def _escalated(state: State, fact: Fact) -> None:
    state["escalations"] += 1
    state["urgent"] = state["urgent"] or fact.data.get("priority") == "urgent"


def _visit(state: State, fact: Fact) -> None:
    state["visits"] += 1
    state["appointment_at"] = parse_time(fact.data.get("appointment_at"))


def _reopened(state: State, fact: Fact) -> None:
    state.update(reopens=state["reopens"] + 1, closed=False, open_until=None)


def _closed(state: State, fact: Fact) -> None:
    state["closed"] = True
    state["open_until"] = state["open_until"] or fact.at


STEPS: dict[str, Callable[[State, Fact], None]] = {
    "RequestRaised": _raised,
    "Acknowledged": lambda s, f: s.update(acknowledged_at=s["acknowledged_at"] or f.at),
    "Diagnosed": _diagnosed,
    "Resolved": _resolved,
    "Revisited": lambda s, f: s.update(satisfaction=f.data.get("satisfaction")),
    "Reopened": _reopened,
    "Closed": _closed,
    "Withdrawn": _ended,
    "Declined": _ended,
    "CustomerInfoRequested": _info_requested,
    "CustomerInfoProvided": _info_provided,
    "Escalated": _escalated,
    "Assigned": lambda s, f: s.update(assignee=f.data.get("assignee")),
    "OnSiteVisitScheduled": _visit,
    "QuoteAnswered": lambda s, f: s.update(fee_accepted=bool(f.data.get("accepted"))),
    "ProgressReported": lambda s, f: s.update(progress_at=(*s["progress_at"], f.at)),
}
"""What each published event changes in a case; any other event changes nothing."""


def fold_onto(case: Case, facts: Iterable[Fact]) -> Case:
    """``case`` with ``facts`` applied in the order given."""
    state: State = dict(zip(FIELDS, _values(case), strict=True))
    for fact in facts:
        step = STEPS.get(fact.type)
        if step is not None:
            step(state, fact)
    return Case(**state)


def evolve(case: Case, fact: Fact) -> Case:
    return fold_onto(case, [fact])


def fold(ticket_id: str, facts: Iterable[Fact]) -> Case:
    return fold_onto(Case(ticket_id), sorted(facts, key=lambda f: f.sequence))
