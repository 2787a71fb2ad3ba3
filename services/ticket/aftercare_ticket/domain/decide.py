"""Commands in, events out: ``decide(ticket, command, context) -> [event, ...]``.

Every decision first asks the state machine whether the command is allowed now, then
checks the rules it serves, then returns the events; it never changes anything.
"""

from __future__ import annotations

from datetime import datetime

from aftercare_ticket.domain import commands as cmd

# Each module registers its commands' decisions on ``decision`` when imported.
from aftercare_ticket.domain import coordination, handling, waits  # noqa: F401
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.decision import Context, decision
from aftercare_ticket.domain.errors import InvalidTransition, Refusal
from aftercare_ticket.domain.machine import destinations
from aftercare_ticket.domain.rules import (
    check_complaint_record,
    check_product_dates,
    check_quality_grounds,
    check_replacement,
    check_return_application,
    check_time_order,
    warranty_coverage,
)
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.domain.values import Contact
from aftercare_ticket.domain.vocabulary import (
    ComplaintGrade,
    DiagnosisMethod,
    EscalationLevel,
    Kind,
    Priority,
    State,
)


def raise_request(ticket_id: str, request: cmd.RaiseRequest, context: Context) -> ev.RequestRaised:
    """K-3 intake with the checks a request must pass before it is recorded."""
    requested_at = request.requested_at or context.now
    check_time_order(
        requested_at,
        not_before=None,
        now=context.now,
        field_name="requested_at",
        max_backdate=context.policy.max_backdate,
    )
    requested_on = context.policy.local_date(requested_at)
    check_product_dates(request.product, requested_on)
    check_return_application(
        request.kind,
        request.return_details,
        request.product,
        request.attachments,
        requested_on,
        context.policy,
    )
    check_quality_grounds(
        request.kind, request.return_details, request.product, requested_on, context.policy
    )
    customer = request.customer
    reachable = bool(customer.phone or customer.email)
    check_complaint_record(request.kind, reachable, request.product)
    # F-1, F-8: emergencies, and requests marked urgent, take the highest priority.
    urgent = request.urgent or request.kind is Kind.EMERGENCY
    priority = Priority.URGENT if urgent else request.priority or Priority.NORMAL
    return ev.RequestRaised(
        ticket_id=ticket_id,
        kind=request.kind,
        channel=request.channel,
        priority=priority,
        urgent=priority is Priority.URGENT,
        customer_ref=request.customer.id,
        contact=Contact(
            name=request.customer.name,
            email=request.customer.email,
            phone=request.customer.phone,
        ),
        language=request.customer.language,
        region=request.region,
        product=request.product,
        subject=request.subject,
        description=request.description,
        attachments=request.attachments,
        return_details=request.return_details,
        requested_at=requested_at,
    )


def decide(ticket: Ticket, command: cmd.Command, context: Context) -> list[ev.TicketEvent]:
    """The events that ``command`` causes on ``ticket``, or a refusal."""
    if not destinations(command.name, ticket.state, ticket.kind):
        raise InvalidTransition(command.name, ticket.state.value, ticket.allowed_commands)
    at = command.occurred_at or context.now
    check_time_order(
        at,
        not_before=ticket.requested_at,
        now=context.now,
        field_name="occurred_at",
        max_backdate=context.policy.max_backdate,
    )
    return decision(command, ticket, at, context)


@decision.register
def _acknowledge(
    command: cmd.Acknowledge, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.expected_resolution_at <= at:  # F-2, B-TIME-ORDER
        raise Refusal(
            "B-TIME-ORDER",
            "the expected time lies after the acknowledgement",
            "expected_resolution_at",
        )
    if ticket.kind is Kind.COMPLAINT and command.complaint_grade is None:
        raise Refusal(
            "B-COMPLAINT-GRADE", "a complaint is graded when acknowledged", "complaint_grade"
        )
    urgent = command.urgent or ticket.urgent  # F-1: urgency confirmed at once
    priority = Priority.URGENT if urgent else command.priority or ticket.priority
    events: list[ev.TicketEvent] = [
        ev.Acknowledged(
            ticket_id=ticket.id,
            occurred_at=at,
            plan=command.plan,
            expected_resolution_at=command.expected_resolution_at,
            risks=command.risks,
            urgent=urgent,
            priority=priority,
            complaint_grade=command.complaint_grade,
        )
    ]
    if command.complaint_grade is ComplaintGrade.SERIOUS:  # B-COMPLAINT-GRADE
        events.append(
            ev.Escalated(
                ticket_id=ticket.id,
                occurred_at=at,
                level=EscalationLevel.MANAGEMENT,
                reason="serious complaint (B-COMPLAINT-GRADE)",
                priority=priority if priority is Priority.URGENT else Priority.HIGH,
            )
        )
    return events


@decision.register
def _diagnose(
    command: cmd.Diagnose, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.on_site_arrived_at is not None:
        if command.method is not DiagnosisMethod.ON_SITE:
            raise Refusal(
                "F-3", "an arrival time belongs to an on-site inspection", "on_site_arrived_at"
            )
        check_time_order(
            command.on_site_arrived_at,
            not_before=ticket.requested_at,
            now=at,
            field_name="on_site_arrived_at",
        )
    covered: bool | None = None
    coverage_rule: str | None = None
    if ticket.kind is Kind.REPAIR:
        if command.fault_cause is None:
            raise Refusal(
                "B-WARRANTY-SCOPE", "a repair diagnosis names the fault's cause", "fault_cause"
            )
        coverage = warranty_coverage(
            ticket.product, command.fault_cause, context.policy.local_date(at), context.policy
        )
        covered, coverage_rule = coverage.covered, coverage.rule
        if not covered and command.fee_quote is None:
            raise Refusal(
                coverage.rule,
                f"not covered ({coverage.explanation}): quote the paid repair's fee and "
                "process before going on",
                "fee_quote",
            )
    return [
        ev.Diagnosed(
            ticket_id=ticket.id,
            occurred_at=at,
            findings=command.findings,
            method=command.method,
            complexity=command.complexity,
            fault_cause=command.fault_cause,
            covered=covered,
            coverage_rule=coverage_rule,
            fee_quote=None if covered else command.fee_quote,
            on_site_arrived_at=command.on_site_arrived_at,
        )
    ]


@decision.register
def _workaround(
    command: cmd.ProvideWorkaround, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.WorkaroundProvided(ticket_id=ticket.id, occurred_at=at, description=command.description)
    ]


@decision.register
def _resolve(
    command: cmd.Resolve, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if not command.verification.passed:
        raise Refusal(
            "F-5",
            "a ticket is resolved only once verification shows the problem is gone",
            "verification.passed",
        )
    handling.check_resolution(ticket)
    if ticket.kind is Kind.REPAIR and command.repair_report is None:
        raise Refusal(
            "T-REPAIR-NOTIFY", "a finished repair comes with a repair report", "repair_report"
        )
    if ticket.kind is Kind.EXCHANGE:
        if command.replacement is None:
            raise Refusal("B-EXCHANGE-SAME", "an exchange names the replacement", "replacement")
        check_replacement(ticket.product, command.replacement)
    if ticket.kind in (Kind.RETURN, Kind.REFUND) and command.refund is None:
        raise Refusal("B-REFUND-AMOUNT", f"a {ticket.kind} states the refund", "refund")
    return [
        ev.Resolved(
            ticket_id=ticket.id,
            occurred_at=at,
            solution=command.solution,
            verification=command.verification,
            repair_report=command.repair_report,
            replacement=command.replacement,
            refund=command.refund,
        )
    ]


@decision.register
def _revisit(
    command: cmd.Revisit, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    satisfied = command.satisfied if command.satisfied is not None else command.satisfaction >= 4
    revisited = ev.Revisited(
        ticket_id=ticket.id,
        occurred_at=at,
        satisfaction=command.satisfaction,
        satisfied=satisfied,
        comments=command.comments,
    )
    if ticket.state is State.CLOSED:  # F-13: a follow-up; a dispute is escalated
        return [revisited]
    if satisfied:  # F-6; a complaint closes here and only here (Q §十)
        closed = ev.Closed(
            ticket_id=ticket.id, occurred_at=at, reason="customer satisfied at revisit (F-6)"
        )
        return [revisited, closed]
    # F-7: re-assess and adjust the plan until the customer is satisfied
    reopen = cmd.Reopen(occurred_at=at, reason="customer not satisfied at revisit (F-7)")
    return [revisited, *decide(apply(ticket, [revisited]), reopen, context)]


@decision.register
def _reopen(
    command: cmd.Reopen, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [ev.Reopened(ticket_id=ticket.id, occurred_at=at, reason=command.reason)]


@decision.register
def _close(
    command: cmd.Close, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [ev.Closed(ticket_id=ticket.id, occurred_at=at, reason=command.reason)]


@decision.register
def _withdraw(
    command: cmd.Withdraw, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [ev.Withdrawn(ticket_id=ticket.id, occurred_at=at, reason=command.reason)]


@decision.register
def _decline(
    command: cmd.Decline, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    handling.check_decline(ticket, command.rule)
    return [
        ev.Declined(
            ticket_id=ticket.id, occurred_at=at, rule=command.rule, explanation=command.explanation
        )
    ]
