"""Example tickets in every state and a valid command of every kind: pure domain values
for the tests, the benchmark, and anyone learning what the API accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.decision import Context
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.domain.vocabulary import Kind, State

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def context(now: datetime | None = None, **policy: Any) -> Context:
    return Context(now=now or T0 + timedelta(hours=1), policy=Policy(**policy))


def raise_body(kind: Kind = Kind.SUPPORT, **overrides: Any) -> cmd.RaiseRequest:
    body: dict[str, Any] = {
        "kind": kind,
        "channel": "phone",
        "customer": {"id": "C-1", "name": "王伟", "email": "wang@example.com"},
        "product": {
            "sku": "WF-200",
            "model": "W200",
            "order_ref": "SO-1",
            "purchase_date": date(2026, 2, 20),
            "received_date": date(2026, 2, 27),
        },
        "subject": "Wafer yield dropped",
        "description": "Yield fell from 92% to 70% after the last batch",
        "requested_at": T0,
    }
    if kind in (Kind.RETURN, Kind.EXCHANGE):
        body["return_details"] = {"reason": "quality_fault"}
    body.update(overrides)
    return cmd.RaiseRequest.model_validate(body)


def raised(kind: Kind = Kind.SUPPORT, **overrides: Any) -> Ticket:
    event = raise_request("t-1", raise_body(kind, **overrides), context(now=T0))
    return apply(Ticket(id="t-1"), [event])


def run(ticket: Ticket, *commands: cmd.Command, at: datetime | None = None) -> Ticket:
    for command in commands:
        ticket = apply(ticket, decide(ticket, command, context(at)))
    return ticket


_RESOLUTION: dict[Kind, dict[str, Any]] = {
    Kind.REPAIR: {
        "repair_report": {"work_done": "Replaced the bearing", "parts_replaced": ["bearing"]}
    },
    Kind.RETURN: {"refund": {"purchase_price": {"amount": "980.00"}}},
    Kind.REFUND: {"refund": {"purchase_price": {"amount": "980.00"}}},
    Kind.EXCHANGE: {"replacement": {"model": "W200", "sku": "WF-200"}},
}
"""What each kind's resolution states (T-REPAIR-NOTIFY, B-REFUND-AMOUNT, B-EXCHANGE-SAME)."""

WALKS: dict[str, tuple[Kind, list[str]]] = {
    "support": (
        Kind.SUPPORT,
        ["acknowledge", "diagnose", "provide_workaround", "resolve", "revisit"],
    ),
    "emergency": (Kind.EMERGENCY, ["acknowledge", "diagnose", "resolve", "revisit"]),
    "repair on site": (
        Kind.REPAIR,
        ["acknowledge", "schedule_visit", "diagnose", "resolve", "return_product", "revisit"],
    ),
    "repair by mail, paid": (
        Kind.REPAIR,
        [
            "acknowledge",
            "give_return_instructions",
            "receive_product",
            "diagnose",  # outside warranty: quoted (walk_command gives the quote)
            "answer_quote",
            "resolve",
            "return_product",
            "revisit",
        ],
    ),
    "return": (
        Kind.RETURN,
        ["acknowledge", "give_return_instructions", "receive_product", "resolve", "revisit"],
    ),
    "exchange": (
        Kind.EXCHANGE,
        ["acknowledge", "give_return_instructions", "receive_product", "resolve", "revisit"],
    ),
    "refund": (Kind.REFUND, ["acknowledge", "approve_refund", "resolve", "revisit"]),
    "complaint": (Kind.COMPLAINT, ["acknowledge", "resolve", "revisit"]),
    "complaint re-graded, disputed after closing": (
        Kind.COMPLAINT,
        ["acknowledge", "revise_plan", "resolve", "revisit", "escalate", "revisit"],
    ),
    "spare parts": (Kind.SPARE_PARTS, ["acknowledge", "resolve", "revisit"]),
    "training": (Kind.TRAINING, ["acknowledge", "resolve", "revisit"]),
}
"""One case of each kind through its own path, without a step it does not have (W §保修
流程, §退换货流程, §退款流程, §投诉处理, Q §六); every walk ends closed."""


def step_time(step: int) -> datetime:
    """When a walk's step happens: the first 2 minutes after the request (inside every
    first-response clock, T-PHONE's 3 minutes included), then every 10 minutes."""
    return T0 + timedelta(minutes=2 + 10 * step)


def walk_command(walk: str, name: str, kind: Kind, at: datetime | None = None) -> cmd.Command:
    """The command of a walk's step (at ``at``): the sample, with what this case needs."""
    at = at or T0
    later = T0 + timedelta(days=2)
    special: dict[tuple[str, str], dict[str, Any]] = {
        ("repair on site", "schedule_visit"): {
            "appointment_at": at + timedelta(minutes=25),
            "engineer": "li.na",
        },
        ("repair on site", "diagnose"): {
            "findings": "Worn bearing",
            "method": "on_site",
            "fault_cause": "quality",
            "complexity": "general",
            "on_site_arrived_at": at - timedelta(minutes=1),  # T-ONSITE-PUNCTUAL: early is fine
        },
        ("repair by mail, paid", "diagnose"): {
            "findings": "Cracked housing after a fall",
            "method": "remote",
            "fault_cause": "misuse",
            "fee_quote": {"fee": {"amount": "350.00"}, "process": "Replace the housing, 3 days"},
        },
        ("repair on site", "return_product"): {"method": "delivered_on_site"},
        ("complaint re-graded, disputed after closing", "revise_plan"): {
            "plan": "Independent inspection of the batch",
            "expected_resolution_at": later,
            "complaint_grade": "complex",
        },
        ("complaint re-graded, disputed after closing", "escalate"): {
            "level": "mediation",
            "reason": "The customer disputes the outcome",
        },
    }
    body = special.get((walk, name))
    if body is not None:
        return cmd.TICKET_COMMANDS[name].model_validate(body)
    return sample(name, kind)


def sample(name: str, kind: Kind = Kind.SUPPORT) -> cmd.Command:
    """A command that passes every rule for a ticket of ``kind``."""
    later = T0 + timedelta(days=2)
    bodies: dict[str, dict[str, Any]] = {
        "acknowledge": {
            "plan": "Remote log analysis, then on-site if needed",
            "expected_resolution_at": later,
            "complaint_grade": "general" if kind is Kind.COMPLAINT else None,
        },
        "diagnose": {
            "findings": "Contaminated batch",
            "method": "remote",
            "fault_cause": "quality" if kind is Kind.REPAIR else None,
        },
        "provide_workaround": {"description": "Use the previous batch meanwhile"},
        "resolve": {
            "solution": "Replaced the batch",
            "verification": {"method": "Yield test", "result": "92% again", "passed": True},
            **_RESOLUTION.get(kind, {}),
        },
        "revisit": {"satisfaction": 5},
        "reopen": {"reason": "Problem came back"},
        "close": {"reason": "done"},
        "withdraw": {"reason": "Customer found the cause"},
        "decline": {"rule": "B-RETURN-WINDOW", "explanation": "Outside the window"},
        "request_info": {"requested": "Send the process logs"},
        "provide_info": {"information": "Logs attached"},
        "await_parts": {"parts": ["wafer chuck"]},
        "parts_arrived": {},
        "escalate": {"level": "team_lead", "reason": "Needs a senior engineer"},
        "assign": {"assignee": "li.na"},
        "report_progress": {"message": "Still analysing logs"},
        "schedule_visit": {"appointment_at": later, "engineer": "li.na"},
        "receive_product": {"tracking_ref": "SF1234567890"},
        "revise_plan": {"plan": "Replace the chuck", "expected_resolution_at": later},
        "approve_refund": {"refund": {"purchase_price": {"amount": "980.00"}}},
        "give_return_instructions": {
            "address": "Aftercare service centre, 1 Factory Road, Suzhou",
            "carrier": "SF Express",
        },
        "answer_quote": {"accepted": True},
        "return_product": {
            "method": "shipped",
            "tracking_ref": "SF0987654321",
            "repair_report": {"work_done": "Replaced the bearing", "parts_replaced": ["bearing"]},
        },
    }
    body = {k: v for k, v in bodies[name].items() if v is not None}
    return cmd.TICKET_COMMANDS[name].model_validate(body)


def in_state(state: State) -> Ticket:
    """A support ticket brought to ``state`` through the commands of the flow."""
    ticket = raised()
    paths: dict[State, list[str]] = {
        State.RAISED: [],
        State.ACKNOWLEDGED: ["acknowledge"],
        State.DIAGNOSED: ["acknowledge", "diagnose"],
        State.RESOLVED: ["acknowledge", "diagnose", "resolve"],
        State.CLOSED: ["acknowledge", "diagnose", "resolve", "close"],
        State.WAITING_ON_CUSTOMER: ["acknowledge", "request_info"],
        State.WAITING_ON_PARTS: ["acknowledge", "diagnose", "await_parts"],
        State.WITHDRAWN: ["withdraw"],
        State.DECLINED: ["decline"],
    }
    ticket = run(ticket, *(sample(name) for name in paths[state]))
    assert ticket.state is state
    return ticket
