"""When a customer hears from us (T-PROGRESS, F-2, F-4): at once on a meaningful change,
and every 30–60 minutes while the case is being worked on.

Pure: the notifier folds a ticket's published events into a ``CaseView`` and asks it
which update is due. The cadence restarts after any update (ours or one an engineer
recorded), pauses while the ticket waits on the customer, and ends when the case is
resolved (the revisit follows) or closed; a reopened case starts it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

Phase = Literal["open", "waiting_on_customer", "resolved", "closed"]

CHANGE_TEMPLATES: Mapping[str, str] = {
    "Acknowledged": "acknowledged",  # F-2: plan, expected time, risks
    "Diagnosed": "diagnosed",
    "WorkaroundProvided": "workaround",  # F-4
    "OnSiteVisitScheduled": "visit_scheduled",
    "Resolved": "resolved",
    "CustomerInfoRequested": "info_requested",
    "Reopened": "reopened",  # F-7
    "Closed": "closed",
    "Declined": "declined",
    "ReturnInstructionsGiven": "return_instructions",  # W §退换货流程
    "RefundApproved": "refund_approved",  # W §退款流程
    "ProductReturned": "product_returned",  # T-REPAIR-NOTIFY
    "PlanRevised": "plan_revised",  # F-2, F-7
}
"""Events the customer is told about right away, and the template that tells them."""

PHASES: Mapping[str, Phase] = {
    "RequestRaised": "open",
    "Reopened": "open",
    "CustomerInfoRequested": "waiting_on_customer",
    "CustomerInfoProvided": "open",
    "Resolved": "resolved",
    "Closed": "closed",
    "Withdrawn": "closed",
    "Declined": "closed",
}

QUIET_STATES = frozenset({"waiting_on_customer", "resolved", "closed", "withdrawn", "declined"})
"""Ticket states in which no routine progress update is sent."""

MIN_INTERVAL = timedelta(minutes=30)
MAX_INTERVAL = timedelta(minutes=60)


class CadenceError(ValueError):
    pass


@dataclass(frozen=True)
class Cadence:
    """Minutes between progress updates by priority (the T-PROGRESS deadline); urgent
    tickets use ``urgent``. A routine update goes out ``lead`` before that deadline."""

    by_priority: Mapping[str, timedelta]
    lead: timedelta = timedelta(0)

    @classmethod
    def of_minutes(cls, minutes: Mapping[str, int], lead: timedelta = timedelta(0)) -> Cadence:
        wrong = {
            priority: value
            for priority, value in minutes.items()
            if not MIN_INTERVAL <= timedelta(minutes=value) <= MAX_INTERVAL
        }
        if wrong:
            raise CadenceError(f"T-PROGRESS asks for an update every 30 to 60 minutes; not {wrong}")
        missing = {"urgent", "high", "normal", "low"} - set(minutes)
        if missing:
            raise CadenceError(f"no cadence for priorities {sorted(missing)}")
        if not timedelta(0) <= lead < MIN_INTERVAL / 2:
            raise CadenceError(f"the lead before a progress deadline must be under 15 min: {lead}")
        by_priority = {priority: timedelta(minutes=value) for priority, value in minutes.items()}
        return cls(by_priority, lead)

    def interval(self, priority: str, urgent: bool) -> timedelta:
        return self.by_priority["urgent" if urgent else priority]


DEFAULT_CADENCE_MINUTES: Mapping[str, int] = {"urgent": 30, "high": 60, "normal": 60, "low": 60}
"""T-PROGRESS: every 30 minutes for urgent requests, every hour for the others."""

DEFAULT_LEAD = timedelta(minutes=5)
"""The ticket contract's PROGRESS_UPDATE_LEAD (the notifier's contract test holds them equal)."""

DEFAULT_CADENCE = Cadence.of_minutes(DEFAULT_CADENCE_MINUTES, DEFAULT_LEAD)


@dataclass(frozen=True)
class CaseView:
    """What the notifier knows of a ticket from its public events."""

    ticket_id: str
    phase: Phase = "open"
    priority: str = "normal"
    urgent: bool = False
    language: str = "zh-CN"
    customer_ref: str | None = None
    last_update_at: datetime | None = None
    """The last time the customer heard from us (anchor of the cadence)."""
    opened_at: datetime | None = None

    def evolve(self, event_type: str, at: datetime, data: Mapping[str, Any]) -> CaseView:
        view = self
        if event_type == "RequestRaised":
            view = replace(
                view,
                priority=data.get("priority", view.priority),
                urgent=bool(data.get("urgent", view.urgent)),
                language=data.get("language", view.language),
                customer_ref=data.get("customer_ref"),
                opened_at=at,
            )
        elif event_type in ("Acknowledged", "Escalated"):
            view = replace(
                view,
                priority=data.get("priority", view.priority),
                urgent=bool(data.get("urgent", view.urgent)) or data.get("priority") == "urgent",
            )
        if event_type in PHASES:
            view = replace(view, phase=PHASES[event_type])
        if event_type == "ProgressReported":
            view = view.updated(at)
        return view

    def updated(self, at: datetime) -> CaseView:
        if self.last_update_at is not None and self.last_update_at >= at:
            return self
        return replace(self, last_update_at=at)

    def next_progress_due(
        self, cadence: Cadence, *, update_queued: bool = False
    ) -> datetime | None:
        """When the next routine update is owed; None while none is (waiting, resolved,
        closed), and while an update is queued or on its way: its delivery moves the
        anchor and arms the cadence again, while arming it now, from the old anchor,
        would owe a second update for the same stretch of time (T-PROGRESS asks for one
        every 30–60 minutes, not one per anchor)."""
        if self.phase != "open" or update_queued:
            return None
        anchor = self.last_update_at or self.opened_at
        if anchor is None:
            return None
        # Before the deadline, by the lead: the customer must have heard by then.
        return anchor + cadence.interval(self.priority, self.urgent) - cadence.lead
