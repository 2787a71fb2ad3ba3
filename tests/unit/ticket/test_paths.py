"""Each kind of case on its own path (W §保修流程, §退换货流程, §退款流程, §投诉处理):
every step of a walk is allowed when it comes, none is faked, every walk ends closed;
and what each path must not allow is refused with the rule that says so."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.errors import InvalidTransition, Refusal
from aftercare_ticket.domain.machine import paths
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.domain.vocabulary import Kind, State
from aftercare_ticket.examples import (
    T0,
    WALKS,
    context,
    raise_body,
    raised,
    run,
    sample,
    step_time,
    walk_command,
)


def walked(walk: str, until: str | None = None) -> Ticket:
    kind, steps = WALKS[walk]
    ticket = raised(kind)
    for number, name in enumerate(steps):
        if name == until:
            return ticket
        assert name in ticket.allowed_commands, (walk, name, ticket.state)
        at = step_time(number)
        ticket = apply(ticket, decide(ticket, walk_command(walk, name, kind, at), context(at)))
    return ticket


@pytest.mark.parametrize("walk", list(WALKS))
def test_each_kind_walks_its_own_path_to_closed(walk: str) -> None:  # F-11
    ticket = walked(walk)
    assert ticket.state is State.CLOSED
    kind, steps = WALKS[walk]
    if kind not in (Kind.SUPPORT, Kind.REPAIR, Kind.EMERGENCY):
        assert "diagnose" not in steps  # no fake diagnosis on a path that has none


def refused(ticket: Ticket, command: cmd.Command) -> Refusal:
    with pytest.raises(Refusal) as caught:
        decide(ticket, command, context(T0 + timedelta(days=1)))
    return caught.value


def test_a_refund_is_paid_only_once_approved() -> None:  # T-REFUND, W §退款流程
    ticket = walked("refund", until="approve_refund")
    assert refused(ticket, sample("resolve", Kind.REFUND)).rule == "T-REFUND"


def test_returns_and_exchanges_complete_once_the_product_arrived() -> None:
    for walk, rule in (("return", "T-RETURN-REFUND"), ("exchange", "T-EXCHANGE-SHIP")):
        ticket = walked(walk, until="receive_product")
        assert refused(ticket, sample("resolve", WALKS[walk][0])).rule == rule


def test_a_paid_repair_starts_only_on_the_customers_consent() -> None:  # B-PAID-REPAIR-CONSENT
    walk = "repair by mail, paid"
    ticket = walked(walk, until="answer_quote")
    assert refused(ticket, sample("resolve", Kind.REPAIR)).rule == "B-PAID-REPAIR-CONSENT"
    declined = run(ticket, cmd.AnswerQuote(accepted=False))
    assert refused(declined, sample("resolve", Kind.REPAIR)).rule == "B-PAID-REPAIR-CONSENT"
    covered = walked("repair on site", until="resolve")
    assert refused(covered, cmd.AnswerQuote(accepted=True)).rule == "B-PAID-REPAIR-CONSENT"


def test_the_repaired_product_goes_back_with_its_report() -> None:  # T-REPAIR-NOTIFY
    ticket = walked("repair on site", until="return_product")
    after = run(ticket, cmd.ReturnProduct(method="shipped", tracking_ref="SF1"))
    assert after.product_returned_at is not None


def test_a_complaint_closes_only_at_its_revisit() -> None:  # B-COMPLAINT-RECORD, Q §十
    ticket = walked("complaint", until="revisit")
    assert "close" not in ticket.allowed_commands
    with pytest.raises(InvalidTransition):
        decide(ticket, sample("close"), context())


def test_a_complaint_is_declined_only_as_an_invalid_complaint() -> None:
    ticket = walked("complaint", until="resolve")
    unrelated = cmd.Decline(rule="B-RETURN-WINDOW", explanation="too late")
    assert refused(ticket, unrelated).rule == "B-COMPLAINT-RECORD"
    invalid = cmd.Decline(rule="B-COMPLAINT-RECORD", explanation="not our product")
    assert run(ticket, invalid).state is State.DECLINED
    exchange = walked("exchange", until="receive_product")
    assert refused(exchange, unrelated).field == "rule"


def test_a_reopened_case_is_planned_again_and_a_complaint_regraded() -> None:  # F-12
    ticket = walked("complaint", until="revisit")
    reopened = run(ticket, cmd.Revisit(satisfaction=2, comments="Not fixed"))
    assert reopened.state is State.ACKNOWLEDGED
    later = T0 + timedelta(days=5)
    regraded = run(
        reopened,
        cmd.RevisePlan(
            plan="Inspect again", expected_resolution_at=later, complaint_grade="complex"
        ),
    )
    assert (regraded.plan, regraded.complaint_grade) == ("Inspect again", "complex")
    support = walked("support", until="diagnose")
    grading = cmd.RevisePlan(plan="p", expected_resolution_at=later, complaint_grade="general")
    assert refused(support, grading).rule == "B-COMPLAINT-GRADE"


def test_a_closed_case_is_revisited_and_disputed_without_reopening() -> None:  # F-13
    ticket = walked("complaint")
    follow_up = run(ticket, cmd.Revisit(satisfaction=2, comments="Still unhappy"))
    assert follow_up.state is State.CLOSED  # W §持续跟进: no restart of the clocks
    disputed = run(follow_up, cmd.Escalate(level="mediation", reason="Disputes the outcome"))
    assert (disputed.state, disputed.escalation_level) == (State.CLOSED, "mediation")
    team_lead = cmd.Escalate(level="team_lead", reason="again")
    assert refused(disputed, team_lead).rule == "B-DISPUTE"


def intake(kind: Kind, **overrides: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        raise_request("t", raise_body(kind, **overrides), context(T0))
    return caught.value


def test_an_exchange_needs_a_quality_problem_within_warranty() -> None:  # B-EXCHANGE-QUALITY
    no_reason = {"reason": "no_reason", "unused": True, "packaging_intact": True}
    assert intake(Kind.EXCHANGE, return_details=no_reason).rule == "B-EXCHANGE-QUALITY"
    old = {"sku": "WF-200", "model": "W200", "order_ref": "SO-1", "purchase_date": date(2020, 1, 5)}
    assert intake(Kind.EXCHANGE, product=old).rule == "B-EXCHANGE-QUALITY"


def test_a_late_quality_return_needs_warranty_and_a_failed_repair() -> None:  # B-RETURN-QUALITY
    product = {
        "sku": "WF-200",
        "model": "W200",
        "order_ref": "SO-1",
        "purchase_date": date(2026, 1, 5),
        "received_date": date(2026, 1, 8),
    }
    refusal = intake(Kind.RETURN, product=product)
    assert (refusal.rule, refusal.field) == ("B-RETURN-QUALITY", "return_details.repair_failed")
    old = {**product, "purchase_date": date(2020, 1, 5), "received_date": date(2020, 1, 8)}
    assert intake(Kind.RETURN, product=old).rule == "B-RETURN-QUALITY"
    failed = {"reason": "quality_fault", "repair_failed": True}
    accepted = raise_request(
        "t", raise_body(Kind.RETURN, product=product, return_details=failed), context(T0)
    )
    assert accepted.kind is Kind.RETURN


def test_a_complaint_records_who_how_to_reach_them_and_the_purchase() -> None:
    unreachable = {"id": "C-9", "name": "王伟"}
    assert intake(Kind.COMPLAINT, customer=unreachable).field == "customer.phone"
    assert intake(Kind.COMPLAINT, product={"sku": "WF-200"}).field == "product.order_ref"


def test_every_kind_has_a_path_table() -> None:
    table = paths()
    assert set(table) == set(Kind)
    assert "resolve" in table[Kind.REFUND][State.ACKNOWLEDGED]
    assert "resolve" not in table[Kind.SUPPORT][State.ACKNOWLEDGED]
    assert "approve_refund" not in table[Kind.SUPPORT][State.ACKNOWLEDGED]
