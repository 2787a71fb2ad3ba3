"""SLA timers replayed from a ticket's events, for every clock of the standards."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aftercare.china_calendar import china_calendar
from aftercare_sla.adapters.policy_file import load_policy, parse_policy
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timer import Timer
from aftercare_sla.domain.timers import evaluate
from tests.support.sla_scenarios import SCENARIOS, T0, Scenario, ack, event, later, local

ROOT = Path(__file__).resolve().parents[3]
POLICY = load_policy(ROOT / "deploy" / "sla-policy.yaml", environ={})
TARGETS = POLICY.resolved()
CLOCKS: dict[str, Timekeeping] = {
    "24x7": AroundTheClock(),
    "working_days": WorkingDays(china_calendar()),
}


def timers_of(facts: list[Fact], rule: str) -> list[Timer]:
    return [timer for timer in evaluate(TARGETS, facts, CLOCKS) if timer.rule == rule]


def test_there_is_a_scenario_for_every_rule_of_the_policy() -> None:
    assert {s.rule for s in SCENARIOS} == {t.rule for t in TARGETS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.rule)
def test_a_ticket_that_meets_the_target(scenario: Scenario) -> None:
    [timer, *_] = timers_of(scenario.facts(met=True), scenario.rule)
    assert timer.outcome == "met"
    assert timer.stopped_at is not None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.rule)
def test_a_ticket_without_the_stop_runs_to_the_deadline(scenario: Scenario) -> None:
    [timer] = timers_of(scenario.facts(met=False), scenario.rule)
    assert timer.outcome == "running"
    assert timer.deadline == scenario.deadline
    assert timer.warn_at is not None
    assert scenario.deadline is not None
    assert timer.warn_at < scenario.deadline


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.rule)
def test_a_ticket_stopped_late_misses_the_target(scenario: Scenario) -> None:
    [timer, *_] = timers_of(scenario.facts(met=False, late=True), scenario.rule)
    assert timer.outcome == "missed"


def facts(*events: tuple) -> list[Fact]:  # type: ignore[type-arg]
    scenario = Scenario("T-RESOLVE-GENERAL", steps=list(events))
    return scenario.facts(met=False)


def test_waiting_on_the_customer_moves_the_deadline_by_the_wait() -> None:
    base = [ack(later(5)), event(later(60), "Diagnosed", complexity="general")]
    paused = [
        *base,
        event(later(90), "CustomerInfoRequested", paused_from="diagnosed"),
        event(later(150), "CustomerInfoProvided", resumed_to="diagnosed"),
    ]
    [plain] = timers_of(facts(*base), "T-RESOLVE-GENERAL")
    [moved] = timers_of(facts(*paused), "T-RESOLVE-GENERAL")
    assert plain.deadline == later(hours=4)
    assert moved.deadline == later(hours=5)
    [waiting] = timers_of(facts(*paused[:-1]), "T-RESOLVE-GENERAL")
    assert waiting.outcome == "paused"
    assert waiting.deadline is None
    assert waiting.remaining() == timedelta(hours=2, minutes=30)


def test_only_the_reasons_in_the_policy_pause_a_clock() -> None:
    parts = [
        ack(later(5)),
        event(later(60), "Diagnosed", complexity="general"),
        event(later(90), "PartsAwaited", parts=["chuck"], paused_from="diagnosed"),
    ]
    [resolve] = timers_of(facts(*parts), "T-RESOLVE-GENERAL")
    [progress] = timers_of(facts(*parts), "T-PROGRESS")
    assert resolve.outcome == "paused"
    assert resolve.pause_reasons == {"waiting_on_parts"}
    assert progress.outcome == "running"  # customers still get updates while parts come


def test_a_working_day_pause_moves_the_deadline_across_a_holiday() -> None:
    refund = Scenario("T-REFUND", kind="refund")
    refund.steps = [
        ack(local("2026-02-12 09:05")),
        event(local("2026-02-12 09:05"), "RefundApproved"),
        event(local("2026-02-13 09:00"), "CustomerInfoRequested", paused_from="acknowledged"),
        event(local("2026-02-24 09:00"), "CustomerInfoProvided", resumed_to="acknowledged"),
    ]
    raised_at = local("2026-02-12 09:00")
    events = refund.facts(met=False)
    events[0] = Fact(
        1, "RequestRaised", raised_at, {**events[0].data, "requested_at": raised_at.isoformat()}
    )
    [timer] = timers_of(events, "T-REFUND")
    # Without the wait: Fri 13, Sat 14 (worked), the festival off, Tue 24 → end of 24 Feb.
    # The wait covered two working days (Fri 13 from 09:00, Sat 14, Tue 24 until 09:00),
    # so the deadline moves two working days: end of Thu 26 Feb.
    clock = CLOCKS["working_days"]
    assert clock.advance(clock.counts_from(raised_at), timer.total) == local("2026-02-25 00:00")
    assert timer.deadline == local("2026-02-27 00:00")


def test_progress_updates_repeat_and_stop_when_resolved() -> None:
    steps = [
        ack(later(1)),
        event(later(40), "ProgressReported"),
        event(later(80), "ProgressReported"),
        event(later(200), "ProgressReported"),
        event(later(210), "Diagnosed", complexity="general"),
        event(later(220), "Resolved"),
    ]
    cycles = timers_of(facts(*steps), "T-PROGRESS")
    assert [c.outcome for c in cycles] == ["met", "met", "missed", "cancelled"]
    assert [c.started_at for c in cycles] == [later(1), later(40), later(80), later(200)]


def test_an_urgent_ticket_is_updated_every_30_minutes() -> None:
    urgent = Scenario("T-PROGRESS", urgent=True, steps=[ack(later(1), urgent=True)])
    [timer] = timers_of(urgent.facts(met=False), "T-PROGRESS")
    assert timer.deadline == later(31)


def test_an_engineer_arriving_too_early_misses_the_appointment() -> None:
    visit = Scenario("T-ONSITE-PUNCTUAL", kind="repair")
    visit.steps = [
        event(later(30), "OnSiteVisitScheduled", appointment_at=later(hours=24).isoformat()),
        event(later(hours=24), "Diagnosed", on_site_arrived_at=later(hours=23).isoformat()),
    ]
    [timer] = timers_of(visit.facts(met=False), "T-ONSITE-PUNCTUAL")
    assert timer.outcome == "missed"
    assert timer.early_from == later(hours=23, minutes=30)


def test_a_withdrawn_ticket_cancels_its_clocks() -> None:
    withdrawn = facts(event(later(1), "Withdrawn", reason="solved it myself"))
    assert {t.outcome for t in evaluate(TARGETS, withdrawn, CLOCKS)} == {"cancelled"}


def test_a_policy_change_moves_open_deadlines() -> None:
    text = (ROOT / "deploy" / "sla-policy.yaml").read_text()
    longer = parse_policy(text.replace("budget: 10m", "budget: 20m"), "p", {}).resolved()
    email = Scenario("T-EMAIL")
    [before] = timers_of(email.facts(met=False), "T-EMAIL")
    [after] = [t for t in evaluate(longer, email.facts(met=False), CLOCKS) if t.rule == "T-EMAIL"]
    assert (before.deadline, after.deadline) == (
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=20),
    )
