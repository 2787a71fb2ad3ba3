"""Every command in every state of a support case: allowed ones decide, the others are
refused (F-1…F-8). The other kinds' paths: ``test_paths``."""

from __future__ import annotations

import pytest

from aftercare_ticket.domain.commands import TICKET_COMMANDS
from aftercare_ticket.domain.decide import decide
from aftercare_ticket.domain.errors import InvalidTransition
from aftercare_ticket.domain.ticket import apply
from aftercare_ticket.domain.vocabulary import State
from aftercare_ticket.examples import context, in_state, sample

S = State
# The expected flow, written out independently of the machine's table.
ALLOWED: dict[State, set[str]] = {
    S.RAISED: {
        "acknowledge",
        "withdraw",
        "decline",
        "provide_info",
        "escalate",
        "assign",
        "report_progress",
    },
    S.ACKNOWLEDGED: {
        "revise_plan",
        "diagnose",
        "provide_workaround",
        "withdraw",
        "decline",
        "request_info",
        "provide_info",
        "await_parts",
        "escalate",
        "assign",
        "report_progress",
        "schedule_visit",
    },
    S.DIAGNOSED: {
        "revise_plan",
        "diagnose",
        "provide_workaround",
        "resolve",
        "withdraw",
        "decline",
        "request_info",
        "provide_info",
        "await_parts",
        "escalate",
        "assign",
        "report_progress",
        "schedule_visit",
    },
    S.RESOLVED: {"revisit", "close", "reopen", "escalate", "assign", "report_progress"},
    # W §持续跟进, B-DISPUTE: follow-up revisits and a dispute after closing.
    S.CLOSED: {"revisit", "reopen", "escalate", "report_progress"},
    S.WAITING_ON_CUSTOMER: {
        "revise_plan",
        "withdraw",
        "decline",
        "provide_info",
        "escalate",
        "assign",
        "report_progress",
    },
    S.WAITING_ON_PARTS: {
        "revise_plan",
        "withdraw",
        "decline",
        "parts_arrived",
        "escalate",
        "assign",
        "report_progress",
        "schedule_visit",
    },
    # The customer is told of the withdrawal or the decline, and that is recorded.
    S.WITHDRAWN: {"report_progress"},
    S.DECLINED: {"report_progress"},
}
# Where an allowed command leaves the ticket (from the state named in the key).
LANDS_IN: dict[tuple[State, str], State] = {
    (S.RAISED, "acknowledge"): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, "diagnose"): S.DIAGNOSED,
    (S.DIAGNOSED, "resolve"): S.RESOLVED,
    (S.RESOLVED, "revisit"): S.CLOSED,  # satisfaction 5 closes (F-6)
    (S.RESOLVED, "close"): S.CLOSED,
    (S.RESOLVED, "reopen"): S.ACKNOWLEDGED,
    (S.CLOSED, "reopen"): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, "request_info"): S.WAITING_ON_CUSTOMER,
    (S.DIAGNOSED, "request_info"): S.WAITING_ON_CUSTOMER,
    (S.WAITING_ON_CUSTOMER, "provide_info"): S.ACKNOWLEDGED,  # returns where it was
    (S.ACKNOWLEDGED, "await_parts"): S.WAITING_ON_PARTS,
    (S.DIAGNOSED, "await_parts"): S.WAITING_ON_PARTS,
    (S.WAITING_ON_PARTS, "parts_arrived"): S.DIAGNOSED,  # returns where it was
}
TERMINAL_BY = {"withdraw": S.WITHDRAWN, "decline": S.DECLINED}
SAMPLES = {(S.CLOSED, "escalate"): {"level": "mediation", "reason": "Disagrees with the outcome"}}
"""Where the generic sample is not allowed: a closed case escalates only as a dispute."""
CASES = [(state, name) for state in ALLOWED for name in sorted(TICKET_COMMANDS)]


@pytest.mark.parametrize(("state", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_command_in_state(state: State, name: str) -> None:
    ticket = in_state(state)
    override = SAMPLES.get((state, name))
    command = TICKET_COMMANDS[name].model_validate(override) if override else sample(name)
    if name not in ALLOWED[state]:
        with pytest.raises(InvalidTransition) as refused:
            decide(ticket, command, context())
        assert refused.value.state == state.value
        assert set(refused.value.allowed) == ALLOWED[state]
        return
    after = apply(ticket, decide(ticket, command, context()))
    expected = LANDS_IN.get((state, name), TERMINAL_BY.get(name, state))
    assert after.state is expected
    assert after.version > ticket.version


@pytest.mark.parametrize("state", list(ALLOWED))
def test_allowed_commands_are_listed_for_each_state(state: State) -> None:
    assert set(in_state(state).allowed_commands) == ALLOWED[state]
