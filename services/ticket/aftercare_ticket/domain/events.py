"""Ticket events: past-tense facts, frozen, each with a schema version (v1 for now).

Every event carries when it happened in the world (``occurred_at``; for the request,
``requested_at``), which may be earlier than when it was recorded: a call-centre system
logs a phone call after the fact. SLA clocks use these times (B-TIME-ORDER keeps them
in order). Fields marked ``PERSONAL`` are personal data (P-PII).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from aftercare_ticket.domain.event_base import TicketEvent as TicketEvent
from aftercare_ticket.domain.handling_events import PlanRevised as PlanRevised
from aftercare_ticket.domain.handling_events import ProductReturned as ProductReturned
from aftercare_ticket.domain.handling_events import QuoteAnswered as QuoteAnswered
from aftercare_ticket.domain.handling_events import RefundApproved as RefundApproved
from aftercare_ticket.domain.handling_events import (
    ReturnInstructionsGiven as ReturnInstructionsGiven,
)
from aftercare_ticket.domain.values import (
    PERSONAL,
    STORED,
    Attachment,
    Contact,
    FeeQuote,
    Product,
    Refund,
    RepairReport,
    Replacement,
    ReturnDetails,
    Satisfaction,
    ShortText,
    Text,
    Verification,
)
from aftercare_ticket.domain.vocabulary import (
    Channel,
    ComplaintGrade,
    Complexity,
    DiagnosisMethod,
    EscalationLevel,
    FaultCause,
    Kind,
    Language,
    Priority,
    State,
)


class RequestRaised(TicketEvent):
    """K-3: everything the request records at intake."""

    kind: Kind
    channel: Channel
    priority: Priority
    urgent: bool
    customer_ref: ShortText
    contact: Contact = Field(json_schema_extra=PERSONAL)
    language: Language
    region: ShortText | None = None
    product: Product
    subject: ShortText
    description: Text
    attachments: list[Attachment] = Field(default_factory=list)
    return_details: ReturnDetails | None = None
    requested_at: AwareDatetime

    @property
    def at(self) -> datetime:
        return self.requested_at


class Acknowledged(TicketEvent):
    """F-1, F-2: urgency confirmed, plan and expected time told to the customer."""

    occurred_at: AwareDatetime
    plan: Text
    expected_resolution_at: AwareDatetime
    risks: Text | None = None
    urgent: bool
    priority: Priority
    complaint_grade: ComplaintGrade | None = None


class Diagnosed(TicketEvent):
    """F-3 findings; for repairs, whether the warranty covers the fault (B-WARRANTY-*)."""

    occurred_at: AwareDatetime
    findings: Text
    method: DiagnosisMethod
    complexity: Complexity = Complexity.GENERAL
    fault_cause: FaultCause | None = None
    covered: bool | None = None
    coverage_rule: str | None = None
    fee_quote: FeeQuote | None = None
    on_site_arrived_at: AwareDatetime | None = None


class WorkaroundProvided(TicketEvent):
    """F-4: a temporary measure while the real fix is under way."""

    occurred_at: AwareDatetime
    description: Text


class Resolved(TicketEvent):
    """F-5: the solution was carried out and verified."""

    occurred_at: AwareDatetime
    solution: Text
    verification: Verification
    repair_report: RepairReport | None = None
    replacement: Replacement | None = None
    refund: Refund | None = None


class Revisited(TicketEvent):
    """F-6: the customer's view after resolution (B-SATISFACTION)."""

    occurred_at: AwareDatetime
    satisfaction: Satisfaction
    satisfied: bool
    comments: Text | None = None


class Reopened(TicketEvent):
    """F-7: back to re-assessment."""

    occurred_at: AwareDatetime
    reason: Text


class Closed(TicketEvent):
    """F-6: the case is finished (satisfied revisit, or closed by the desk with a reason)."""

    occurred_at: AwareDatetime
    reason: Text


class Withdrawn(TicketEvent):
    """The customer no longer needs help; every clock stops."""

    occurred_at: AwareDatetime
    reason: Text


class Declined(TicketEvent):
    """An ineligible request, with the rule that excludes it."""

    occurred_at: AwareDatetime
    rule: ShortText
    explanation: Text


class CustomerInfoRequested(TicketEvent):
    """Pauses the clocks until the customer answers."""

    occurred_at: AwareDatetime
    requested: Text
    paused_from: State


class CustomerInfoProvided(TicketEvent):
    """The customer answered; the clocks resume in ``resumed_to``."""

    occurred_at: AwareDatetime
    information: Text
    attachments: list[Attachment] = Field(default_factory=list)
    resumed_to: State | None = None


class PartsAwaited(TicketEvent):
    """Waiting on spare parts; which clocks pause is SLA policy."""

    occurred_at: AwareDatetime
    parts: list[ShortText]
    expected_at: AwareDatetime | None = None
    paused_from: State


class PartsArrived(TicketEvent):
    """The parts are in; work resumes in ``resumed_to``."""

    occurred_at: AwareDatetime
    note: Text | None = None
    resumed_to: State


class Escalated(TicketEvent):
    """F-8, B-COMPLAINT-GRADE, B-DISPUTE."""

    occurred_at: AwareDatetime
    level: EscalationLevel
    reason: Text
    priority: Priority


class Assigned(TicketEvent):
    """Who works on the case now (F-9: the person responsible is recorded)."""

    occurred_at: AwareDatetime
    assignee: ShortText
    team: ShortText | None = None


class ProgressReported(TicketEvent):
    """T-PROGRESS: an update sent to the customer; ``report_key`` makes it idempotent."""

    occurred_at: AwareDatetime
    message: Text
    channel: ShortText
    report_key: ShortText | None = None


class OnSiteVisitScheduled(TicketEvent):
    """T-ONSITE, T-ONSITE-PUNCTUAL: the appointment the engineer must keep."""

    occurred_at: AwareDatetime
    appointment_at: AwareDatetime
    engineer: ShortText
    site: Text | None = Field(default=None, json_schema_extra=PERSONAL)


class ProductReceived(TicketEvent):
    """The customer's product arrived (return, exchange, refund, depot repair): starts
    T-RETURN-REFUND and T-EXCHANGE-SHIP."""

    occurred_at: AwareDatetime
    tracking_ref: ShortText | None = None
    condition: Text | None = None


EVENT_TYPES: dict[str, type[TicketEvent]] = {
    cls.event_type: cls
    for cls in (
        RequestRaised,
        Acknowledged,
        Diagnosed,
        WorkaroundProvided,
        Resolved,
        Revisited,
        Reopened,
        Closed,
        Withdrawn,
        Declined,
        CustomerInfoRequested,
        CustomerInfoProvided,
        PartsAwaited,
        PartsArrived,
        Escalated,
        Assigned,
        ProgressReported,
        OnSiteVisitScheduled,
        ProductReceived,
        RefundApproved,
        ReturnInstructionsGiven,
        QuoteAnswered,
        ProductReturned,
        PlanRevised,
    )
}


def decode(event_type: str, schema_version: int, data: dict[str, Any]) -> TicketEvent:
    """A stored event back as its model; older schema versions get upcast here."""
    cls = EVENT_TYPES[event_type]
    if schema_version != cls.schema_version:
        raise ValueError(f"no upcaster for {event_type} v{schema_version}")
    return cls.model_validate(data, context=STORED)


def encode(event: TicketEvent) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude_none=True)
