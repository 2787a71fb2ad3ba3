"""Decisions of the steps that each kind of case has on its own path (F-11): a refund approved,
the product's way to the service centre and back, a paid repair's consent, a revised
plan; and what a resolution, a decline or a dispute needs, by kind."""

from __future__ import annotations

from datetime import datetime

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.decision import Context, decision
from aftercare_ticket.domain.errors import Refusal
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.vocabulary import (
    DISPUTE_LADDER,
    BusinessRule,
    EscalationLevel,
    Kind,
    State,
)

R = BusinessRule
DECLINE_RULES: dict[Kind, frozenset[BusinessRule]] = {
    Kind.REPAIR: frozenset({R.WARRANTY_PERIOD, R.WARRANTY_SCOPE, R.PAID_REPAIR_CONSENT}),
    Kind.RETURN: frozenset(
        {R.RETURN_WINDOW, R.RETURN_QUALITY, R.RETURN_CUSTOM, R.RETURN_DOCS, R.WARRANTY_PERIOD}
    ),
    Kind.EXCHANGE: frozenset(
        {R.EXCHANGE_QUALITY, R.EXCHANGE_SAME, R.RETURN_CUSTOM, R.RETURN_DOCS, R.WARRANTY_PERIOD}
    ),
    Kind.REFUND: frozenset({R.REFUND_AMOUNT, R.RETURN_DOCS}),
    Kind.COMPLAINT: frozenset({R.COMPLAINT_RECORD}),
}
"""The rules a case of each kind may be declined on (B-COMPLAINT-RECORD: a valid
complaint is never declined on an unrelated rule); other kinds may cite any rule."""


def check_decline(ticket: Ticket, rule: BusinessRule) -> None:
    allowed = DECLINE_RULES.get(ticket.kind)
    if allowed is not None and rule not in allowed:
        names = ", ".join(sorted(allowed))
        raise Refusal(
            "B-COMPLAINT-RECORD" if ticket.kind is Kind.COMPLAINT else str(rule),
            f"a {ticket.kind} is declined only on {names}",
            "rule",
        )


def check_resolution(ticket: Ticket) -> None:
    """What each kind's path must have reached before it is resolved."""
    if ticket.kind in (Kind.RETURN, Kind.EXCHANGE) and ticket.product_received_at is None:
        raise Refusal(
            "T-RETURN-REFUND" if ticket.kind is Kind.RETURN else "T-EXCHANGE-SHIP",
            f"a {ticket.kind} is completed once the returned product has arrived (receive-product)",
            "state",
        )
    if ticket.kind is Kind.REFUND and ticket.refund_approval is None:
        raise Refusal("T-REFUND", "a refund is paid once it is approved (approve-refund)", "state")
    paid = ticket.diagnosis is not None and ticket.diagnosis.covered is False
    if paid and ticket.quote_accepted is not True:
        raise Refusal(
            "B-PAID-REPAIR-CONSENT",
            "a paid repair starts only once the customer has accepted the quote (answer-quote)",
            "state",
        )


def check_escalation_after_closing(ticket: Ticket, level: EscalationLevel) -> None:
    """B-DISPUTE: a closed case is taken further only as a dispute over its outcome."""
    if ticket.state is State.CLOSED and level not in DISPUTE_LADDER:
        raise Refusal(
            "B-DISPUTE",
            "a closed case is escalated only to mediation, arbitration or litigation",
            "level",
        )


@decision.register
def _approve_refund(
    command: cmd.ApproveRefund, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.RefundApproved(
            ticket_id=ticket.id, occurred_at=at, refund=command.refund, note=command.note
        )
    ]


@decision.register
def _give_return_instructions(
    command: cmd.GiveReturnInstructions, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    return [
        ev.ReturnInstructionsGiven(
            ticket_id=ticket.id,
            occurred_at=at,
            address=command.address,
            carrier=command.carrier,
            instructions=command.instructions,
        )
    ]


@decision.register
def _answer_quote(
    command: cmd.AnswerQuote, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if ticket.diagnosis is None or ticket.diagnosis.fee_quote is None:
        raise Refusal("B-PAID-REPAIR-CONSENT", "there is no quote to answer", "accepted")
    return [
        ev.QuoteAnswered(
            ticket_id=ticket.id, occurred_at=at, accepted=command.accepted, note=command.note
        )
    ]


@decision.register
def _return_product(
    command: cmd.ReturnProduct, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    report = command.repair_report or (ticket.resolution and ticket.resolution.repair_report)
    if report is None:
        raise Refusal(
            "T-REPAIR-NOTIFY",
            "the repaired product goes back with its repair report",
            "repair_report",
        )
    return [
        ev.ProductReturned(
            ticket_id=ticket.id,
            occurred_at=at,
            method=command.method,
            tracking_ref=command.tracking_ref,
            repair_report=report,
        )
    ]


@decision.register
def _revise_plan(  # F-12
    command: cmd.RevisePlan, ticket: Ticket, at: datetime, context: Context
) -> list[ev.TicketEvent]:
    if command.expected_resolution_at <= at:
        raise Refusal(
            "B-TIME-ORDER", "the expected time lies after the revision", "expected_resolution_at"
        )
    if command.complaint_grade is not None and ticket.kind is not Kind.COMPLAINT:
        raise Refusal("B-COMPLAINT-GRADE", "only a complaint is graded", "complaint_grade")
    return [
        ev.PlanRevised(
            ticket_id=ticket.id,
            occurred_at=at,
            plan=command.plan,
            expected_resolution_at=command.expected_resolution_at,
            risks=command.risks,
            complaint_grade=command.complaint_grade,
        )
    ]
