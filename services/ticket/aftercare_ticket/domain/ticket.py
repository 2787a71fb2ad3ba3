"""The ticket as folded from its events: ``evolve(ticket, event) -> ticket``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from typing import Any

from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.machine import allowed_commands
from aftercare_ticket.domain.values import Attachment, Contact, Product, ReturnDetails
from aftercare_ticket.domain.vocabulary import (
    Channel,
    ComplaintGrade,
    EscalationLevel,
    Kind,
    Language,
    Priority,
    State,
)


@dataclass(frozen=True, slots=True)
class Ticket:
    """Current state of one ticket; ``version`` is the number of events folded."""

    id: str
    version: int = 0
    state: State = State.NEW
    kind: Kind = Kind.SUPPORT
    channel: Channel = Channel.API
    priority: Priority = Priority.NORMAL
    urgent: bool = False
    customer_ref: str = ""
    contact: Contact | None = None
    language: Language = Language.ZH_CN
    region: str | None = None
    product: Product = field(default_factory=Product)
    subject: str = ""
    description: str = ""
    attachments: tuple[Attachment, ...] = ()
    return_details: ReturnDetails | None = None
    requested_at: datetime | None = None
    resume_state: State | None = None
    plan: str | None = None
    expected_resolution_at: datetime | None = None
    risks: str | None = None
    complaint_grade: ComplaintGrade | None = None
    diagnosis: ev.Diagnosed | None = None
    workaround: str | None = None
    resolution: ev.Resolved | None = None
    satisfaction: int | None = None
    reopen_count: int = 0
    escalation_level: EscalationLevel | None = None
    escalation_history: tuple[EscalationLevel, ...] = ()
    assignee: str | None = None
    team: str | None = None
    visit: ev.OnSiteVisitScheduled | None = None
    product_received_at: datetime | None = None
    refund_approval: ev.RefundApproved | None = None
    return_instructions_at: datetime | None = None
    quote_accepted: bool | None = None
    product_returned_at: datetime | None = None
    last_progress_at: datetime | None = None
    progress_report_keys: frozenset[str] = frozenset()
    waiting_since: datetime | None = None
    closed_reason: str | None = None
    declined_rule: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def allowed_commands(self) -> list[str]:
        return allowed_commands(self.state, self.kind)


Changes = dict[str, Any]


@singledispatch
def changes(event: ev.TicketEvent, ticket: Ticket) -> Changes:
    """What ``event`` changes on ``ticket`` (the fields and their new values)."""
    raise TypeError(f"no evolve for {type(event).__name__}")


def evolve(event: ev.TicketEvent, ticket: Ticket, **stamp: Any) -> Ticket:
    """The ticket after ``event``; ``stamp`` sets bookkeeping fields in the same copy
    (one copy of the 40-field ticket per event, not two: it is the cost of a replay)."""
    return replace(ticket, **{**changes(event, ticket), **stamp})


@changes.register
def _raised(event: ev.RequestRaised, ticket: Ticket) -> Changes:
    return dict(
        state=State.RAISED,
        kind=event.kind,
        channel=event.channel,
        priority=event.priority,
        urgent=event.urgent,
        customer_ref=event.customer_ref,
        contact=event.contact,
        language=event.language,
        region=event.region,
        product=event.product,
        subject=event.subject,
        description=event.description,
        attachments=tuple(event.attachments),
        return_details=event.return_details,
        requested_at=event.requested_at,
    )


@changes.register
def _acknowledged(event: ev.Acknowledged, ticket: Ticket) -> Changes:
    return dict(
        state=State.ACKNOWLEDGED,
        plan=event.plan,
        expected_resolution_at=event.expected_resolution_at,
        risks=event.risks,
        urgent=event.urgent,
        priority=event.priority,
        complaint_grade=event.complaint_grade or ticket.complaint_grade,
    )


@changes.register
def _diagnosed(event: ev.Diagnosed, ticket: Ticket) -> Changes:
    return dict(state=State.DIAGNOSED, diagnosis=event)


@changes.register
def _workaround(event: ev.WorkaroundProvided, ticket: Ticket) -> Changes:
    return dict(workaround=event.description)


@changes.register
def _resolved(event: ev.Resolved, ticket: Ticket) -> Changes:
    return dict(state=State.RESOLVED, resolution=event)


@changes.register
def _revisited(event: ev.Revisited, ticket: Ticket) -> Changes:
    return dict(satisfaction=event.satisfaction)


@changes.register
def _reopened(event: ev.Reopened, ticket: Ticket) -> Changes:
    return dict(
        state=State.ACKNOWLEDGED,
        reopen_count=ticket.reopen_count + 1,
        resolution=None,
        closed_reason=None,
    )


@changes.register
def _closed(event: ev.Closed, ticket: Ticket) -> Changes:
    return dict(state=State.CLOSED, closed_reason=event.reason)


@changes.register
def _withdrawn(event: ev.Withdrawn, ticket: Ticket) -> Changes:
    return dict(state=State.WITHDRAWN, closed_reason=event.reason, waiting_since=None)


@changes.register
def _declined(event: ev.Declined, ticket: Ticket) -> Changes:
    return dict(
        state=State.DECLINED,
        declined_rule=event.rule,
        closed_reason=event.explanation,
        waiting_since=None,
    )


@changes.register
def _info_requested(event: ev.CustomerInfoRequested, ticket: Ticket) -> Changes:
    return dict(
        state=State.WAITING_ON_CUSTOMER,
        resume_state=event.paused_from,
        waiting_since=event.occurred_at,
    )


@changes.register
def _info_provided(event: ev.CustomerInfoProvided, ticket: Ticket) -> Changes:
    attachments = ticket.attachments + tuple(event.attachments)
    if event.resumed_to is None:
        return dict(attachments=attachments)
    return dict(
        state=event.resumed_to,
        resume_state=None,
        waiting_since=None,
        attachments=attachments,
    )


@changes.register
def _parts_awaited(event: ev.PartsAwaited, ticket: Ticket) -> Changes:
    return dict(
        state=State.WAITING_ON_PARTS,
        resume_state=event.paused_from,
        waiting_since=event.occurred_at,
    )


@changes.register
def _parts_arrived(event: ev.PartsArrived, ticket: Ticket) -> Changes:
    return dict(state=event.resumed_to, resume_state=None, waiting_since=None)


@changes.register
def _escalated(event: ev.Escalated, ticket: Ticket) -> Changes:
    return dict(
        escalation_level=event.level,
        escalation_history=(*ticket.escalation_history, event.level),
        priority=event.priority,
        urgent=ticket.urgent or event.priority is Priority.URGENT,
    )


@changes.register
def _assigned(event: ev.Assigned, ticket: Ticket) -> Changes:
    return dict(assignee=event.assignee, team=event.team)


@changes.register
def _progress(event: ev.ProgressReported, ticket: Ticket) -> Changes:
    keys = ticket.progress_report_keys
    if event.report_key:
        keys = keys | {event.report_key}
    return dict(last_progress_at=event.occurred_at, progress_report_keys=keys)


@changes.register
def _visit(event: ev.OnSiteVisitScheduled, ticket: Ticket) -> Changes:
    return dict(visit=event)


@changes.register
def _received(event: ev.ProductReceived, ticket: Ticket) -> Changes:
    return dict(product_received_at=event.occurred_at)


@changes.register
def _refund_approved(event: ev.RefundApproved, ticket: Ticket) -> Changes:
    return dict(refund_approval=event)


@changes.register
def _instructions(event: ev.ReturnInstructionsGiven, ticket: Ticket) -> Changes:
    return dict(return_instructions_at=event.occurred_at)


@changes.register
def _quote(event: ev.QuoteAnswered, ticket: Ticket) -> Changes:
    return dict(quote_accepted=event.accepted)


@changes.register
def _returned(event: ev.ProductReturned, ticket: Ticket) -> Changes:
    return dict(product_returned_at=event.occurred_at)


@changes.register
def _replanned(event: ev.PlanRevised, ticket: Ticket) -> Changes:
    return dict(
        plan=event.plan,
        expected_resolution_at=event.expected_resolution_at,
        risks=event.risks,
        complaint_grade=event.complaint_grade or ticket.complaint_grade,
    )


def apply(ticket: Ticket, new_events: Iterable[ev.TicketEvent]) -> Ticket:
    """Fold decided events onto a ticket (the version moves with each)."""
    for event in new_events:
        ticket = evolve(event, ticket, version=ticket.version + 1)
    return ticket
