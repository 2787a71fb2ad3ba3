"""Every kind's walk judged by the SLA watcher's own arithmetic, from the events the
ticket service publishes: each clock of that kind of case is met, none is missed, and
none runs on after the case is closed (the two services meet only in the contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftercare_sla.adapters.calendar_source import china_calendar
from aftercare_sla.adapters.policy_file import load_policy
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timers import evaluate
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.events import TicketEvent, encode
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.examples import T0, WALKS, context, raise_body, step_time, walk_command

ROOT = Path(__file__).resolve().parents[2]
TARGETS = load_policy(ROOT / "deploy" / "sla-policy.yaml", environ={}).resolved()
CLOCKS: dict[str, Timekeeping] = {
    "24x7": AroundTheClock(),
    "working_days": WorkingDays(china_calendar()),
}
MET: dict[str, set[str]] = {
    "support": {"T-PHONE"},
    "emergency": {"T-PHONE", "T-URGENT"},
    "repair on site": {"T-WARRANTY-CONTACT", "T-ONSITE", "T-ONSITE-PUNCTUAL", "T-REPAIR-NOTIFY"},
    "repair by mail, paid": {"T-WARRANTY-CONTACT", "T-REPAIR-NOTIFY"},
    "return": {"T-RETURN-REVIEW", "T-RETURN-REFUND"},
    "exchange": {"T-RETURN-REVIEW", "T-EXCHANGE-SHIP"},
    "refund": {"T-REFUND"},
    "complaint": {"T-COMPLAINT-CONTACT", "T-COMPLAINT-GENERAL", "T-COMPLAINT-REVISIT"},
    "complaint re-graded, disputed after closing": {
        "T-COMPLAINT-CONTACT",
        "T-COMPLAINT-COMPLEX",
        "T-COMPLAINT-REVISIT",
    },
    "spare parts": {"T-SPARES"},
    "training": {"T-PHONE"},
}


def published(walk: str) -> list[TicketEvent]:
    kind, steps = WALKS[walk]
    events: list[TicketEvent] = [raise_request("t-1", raise_body(kind), context(T0))]
    ticket = apply(Ticket(id="t-1"), events)
    for number, name in enumerate(steps):
        at = step_time(number)
        decided = decide(ticket, walk_command(walk, name, kind, at), context(at))
        events += decided
        ticket = apply(ticket, decided)
    return events


@pytest.mark.parametrize("walk", list(WALKS))
def test_every_clock_of_the_walk_is_met(walk: str) -> None:
    facts = [
        Fact(number, event.event_type, event.at, encode(event))
        for number, event in enumerate(published(walk), start=1)
    ]
    timers = evaluate(TARGETS, facts, CLOCKS)
    outcomes = {(t.rule, t.cycle): t.outcome for t in timers}
    assert "missed" not in outcomes.values(), outcomes
    assert not {"running", "paused"} & set(outcomes.values()), outcomes
    met = {t.rule for t in timers if t.outcome == "met"}
    assert MET[walk] <= met, (walk, met)
