"""What the ticket's published events mean to the SLA clocks: which pause or resume
them, which end them, and which facts of the ticket the targets select on. The names
are the ticket contract's; the watcher checks them against it at start-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare.instants import parse_time as event_time
from aftercare_sla.domain.policy import EventRef

PAUSES: Mapping[str, tuple[str, bool]] = {
    "CustomerInfoRequested": ("waiting_on_customer", True),
    "CustomerInfoProvided": ("waiting_on_customer", False),
    "PartsAwaited": ("waiting_on_parts", True),
    "PartsArrived": ("waiting_on_parts", False),
}
"""Events that pause or resume clocks, and the reason they carry."""

TERMINAL: Mapping[str, bool] = {
    "Closed": True,
    "Withdrawn": True,
    "Declined": True,
    "Reopened": False,
}
"""Events that end a ticket's clocks (True) or start them again (False)."""

FACTS: Mapping[str, tuple[str, ...]] = {
    "RequestRaised": (
        "kind",
        "channel",
        "priority",
        "urgent",
        "region",
        "customer_ref",
        "requested_at",
    ),
    "Acknowledged": ("urgent", "priority", "complaint_grade"),
    "Diagnosed": ("complexity",),
    "Escalated": ("priority",),
    "PlanRevised": ("complaint_grade",),
}
"""What each event tells the watcher about the ticket, for the targets' selectors."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One ticket event as the watcher keeps it (published payload, no personal data)."""

    sequence: int
    type: str
    at: datetime
    data: Mapping[str, Any]


def matching(fact: Fact, refs: Sequence[EventRef]) -> EventRef | None:
    for ref in refs:
        if ref.event == fact.type and (ref.field is None or fact.data.get(ref.field) is not None):
            return ref
    return None


def time_of(fact: Fact, ref: EventRef) -> datetime:
    """The event's time, or the time its field names (an arrival time, say)."""
    if ref.field:
        named = event_time(fact.data.get(ref.field))
        if named is not None:
            return named
    return fact.at
