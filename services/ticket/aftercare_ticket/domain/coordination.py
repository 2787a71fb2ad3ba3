"""Decisions that organise the work without moving the case along its flow: escalation
(F-8, B-DISPUTE), assignment, progress told to the customer (T-PROGRESS), on-site visits
(T-ONSITE), products received (T-RETURN-REFUND, T-EXCHANGE-SHIP)."""

from __future__ import annotations

from datetime import datetime

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.decision import Context, decision
from aftercare_ticket.domain.errors import Refusal
from aftercare_ticket.domain.handling import check_escalation_after_closing
from aftercare_ticket.domain.rules import (
    check_dispute_step,
)
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.vocabulary import (
    EscalationLevel,
    Priority,
)


@decision.register
def _escalate(
    command: cmd.Escalate, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    check_dispute_step(ticket.escalation_history, command.level)
    check_escalation_after_closing(ticket, command.level)
    if command.priority is not None:
        priority = command.priority
    elif command.level is EscalationLevel.EMERGENCY_TEAM:  # F-8
        priority = Priority.URGENT
    else:
        priority = ticket.priority
    return [
        ev.Escalated(
            ticket_id=ticket.id,
            occurred_at=at,
            level=command.level,
            reason=command.reason,
            priority=priority,
        )
    ]


@decision.register
def _assign(
    command: cmd.Assign, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.Assigned(
            ticket_id=ticket.id, occurred_at=at, assignee=command.assignee, team=command.team
        )
    ]


@decision.register
def _report_progress(
    command: cmd.ReportProgress, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.report_key and command.report_key in ticket.progress_report_keys:
        return []  # already recorded: reporting is idempotent by key
    return [
        ev.ProgressReported(
            ticket_id=ticket.id,
            occurred_at=at,
            message=command.message,
            channel=command.channel,
            report_key=command.report_key,
        )
    ]


@decision.register
def _schedule_visit(
    command: cmd.ScheduleVisit, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.appointment_at < at:
        raise Refusal("B-TIME-ORDER", "the appointment is in the past", "appointment_at")
    return [
        ev.OnSiteVisitScheduled(
            ticket_id=ticket.id,
            occurred_at=at,
            appointment_at=command.appointment_at,
            engineer=command.engineer,
            site=command.site,
        )
    ]


@decision.register
def _receive_product(
    command: cmd.ReceiveProduct, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.ProductReceived(
            ticket_id=ticket.id,
            occurred_at=at,
            tracking_ref=command.tracking_ref,
            condition=command.condition,
        )
    ]
