"""The ticket as folded from its events: ``evolve(ticket, event) -> ticket``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch

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
    last_progress_at: datetime | None = None
    progress_report_keys: frozenset[str] = frozenset()
    waiting_since: datetime | None = None
    closed_reason: str | None = None
    declined_rule: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def allowed_commands(self) -> list[str]:
        return allowed_commands(self.state)


@singledispatch
def evolve(event: ev.TicketEvent, ticket: Ticket) -> Ticket:
    raise TypeError(f"no evolve for {type(event).__name__}")


@evolve.register
def _raised(event: ev.RequestRaised, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
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


@evolve.register
def _acknowledged(event: ev.Acknowledged, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        state=State.ACKNOWLEDGED,
        plan=event.plan,
        expected_resolution_at=event.expected_resolution_at,
        risks=event.risks,
        urgent=event.urgent,
        priority=event.priority,
        complaint_grade=event.complaint_grade or ticket.complaint_grade,
    )


@evolve.register
def _diagnosed(event: ev.Diagnosed, ticket: Ticket) -> Ticket:
    return replace(ticket, state=State.DIAGNOSED, diagnosis=event)


@evolve.register
def _workaround(event: ev.WorkaroundProvided, ticket: Ticket) -> Ticket:
    return replace(ticket, workaround=event.description)


@evolve.register
def _resolved(event: ev.Resolved, ticket: Ticket) -> Ticket:
    return replace(ticket, state=State.RESOLVED, resolution=event)


@evolve.register
def _revisited(event: ev.Revisited, ticket: Ticket) -> Ticket:
    return replace(ticket, satisfaction=event.satisfaction)


@evolve.register
def _reopened(event: ev.Reopened, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        state=State.ACKNOWLEDGED,
        reopen_count=ticket.reopen_count + 1,
        resolution=None,
        closed_reason=None,
    )


@evolve.register
def _closed(event: ev.Closed, ticket: Ticket) -> Ticket:
    return replace(ticket, state=State.CLOSED, closed_reason=event.reason)


@evolve.register
def _withdrawn(event: ev.Withdrawn, ticket: Ticket) -> Ticket:
    return replace(ticket, state=State.WITHDRAWN, closed_reason=event.reason, waiting_since=None)


@evolve.register
def _declined(event: ev.Declined, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        state=State.DECLINED,
        declined_rule=event.rule,
        closed_reason=event.explanation,
        waiting_since=None,
    )


@evolve.register
def _info_requested(event: ev.CustomerInfoRequested, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        state=State.WAITING_ON_CUSTOMER,
        resume_state=event.paused_from,
        waiting_since=event.occurred_at,
    )


@evolve.register
def _info_provided(event: ev.CustomerInfoProvided, ticket: Ticket) -> Ticket:
    attachments = ticket.attachments + tuple(event.attachments)
    if event.resumed_to is None:
        return replace(ticket, attachments=attachments)
    return replace(
        ticket,
        state=event.resumed_to,
        resume_state=None,
        waiting_since=None,
        attachments=attachments,
    )


@evolve.register
def _parts_awaited(event: ev.PartsAwaited, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        state=State.WAITING_ON_PARTS,
        resume_state=event.paused_from,
        waiting_since=event.occurred_at,
    )


@evolve.register
def _parts_arrived(event: ev.PartsArrived, ticket: Ticket) -> Ticket:
    return replace(ticket, state=event.resumed_to, resume_state=None, waiting_since=None)


@evolve.register
def _escalated(event: ev.Escalated, ticket: Ticket) -> Ticket:
    return replace(
        ticket,
        escalation_level=event.level,
        escalation_history=(*ticket.escalation_history, event.level),
        priority=event.priority,
        urgent=ticket.urgent or event.priority is Priority.URGENT,
    )


@evolve.register
def _assigned(event: ev.Assigned, ticket: Ticket) -> Ticket:
    return replace(ticket, assignee=event.assignee, team=event.team)


@evolve.register
def _progress(event: ev.ProgressReported, ticket: Ticket) -> Ticket:
    keys = ticket.progress_report_keys
    if event.report_key:
        keys = keys | {event.report_key}
    return replace(ticket, last_progress_at=event.occurred_at, progress_report_keys=keys)


@evolve.register
def _visit(event: ev.OnSiteVisitScheduled, ticket: Ticket) -> Ticket:
    return replace(ticket, visit=event)


@evolve.register
def _received(event: ev.ProductReceived, ticket: Ticket) -> Ticket:
    return replace(ticket, product_received_at=event.occurred_at)


def apply(ticket: Ticket, new_events: Iterable[ev.TicketEvent]) -> Ticket:
    """Fold decided events onto a ticket (the version moves with each)."""
    for event in new_events:
        ticket = replace(evolve(event, ticket), version=ticket.version + 1)
    return ticket
