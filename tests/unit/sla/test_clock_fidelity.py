"""Clocks that start, pause and stop where the standard says: the vectors worked out by
hand from the calendar (2025 Spring Festival: 28 Jan – 4 Feb off, 26 Jan and 8 Feb
worked) and the budgets of deploy/sla-policy.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftercare.china_calendar import china_calendar
from aftercare_sla.adapters.policy_file import load_policy
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timer import Timer
from aftercare_sla.domain.timers import evaluate
from tests.support.sla_scenarios import local

ROOT = Path(__file__).resolve().parents[3]
TARGETS = load_policy(ROOT / "deploy" / "sla-policy.yaml", environ={}).resolved()
CLOCKS: dict[str, Timekeeping] = {
    "24x7": AroundTheClock(),
    "working_days": WorkingDays(china_calendar()),
}
Step = tuple[str, str, dict[str, Any]]


def ticket(kind: str, raised: str, *steps: Step, urgent: bool = False) -> list[Fact]:
    at = local(raised)
    data = {
        "kind": kind,
        "channel": "email",
        "priority": "urgent" if urgent else "normal",
        "urgent": urgent,
        "requested_at": at.isoformat(),
    }
    facts = [Fact(1, "RequestRaised", at, data)]
    for sequence, (when, name, extra) in enumerate(steps, start=2):
        facts.append(Fact(sequence, name, local(when), extra))
    return facts


def clock_of(facts: list[Fact], rule: str) -> Timer:
    *_, last = [t for t in evaluate(TARGETS, facts, CLOCKS) if t.rule == rule]
    return last


def wait(at: str) -> Step:
    return (at, "CustomerInfoRequested", {})


def answered(at: str) -> Step:
    return (at, "CustomerInfoProvided", {})


def approved(at: str) -> Step:
    return (at, "RefundApproved", {})


@pytest.mark.parametrize(
    ("approved_at", "waits", "deadline"),
    [
        # Waiting on the start day only: the start day never counted, nothing is given back.
        ("2026-03-02 10:00", [("2026-03-02 10:05", "2026-03-02 23:00")], "2026-03-06 00:00"),
        # From the start day into Tuesday: only Tuesday's 18 hours are given back.
        ("2026-03-02 10:00", [("2026-03-02 10:05", "2026-03-03 18:00")], "2026-03-06 18:00"),
        # Across the Spring Festival: counting resumes on Wed 5 Feb, Sat 8 Feb is worked.
        ("2025-01-24 10:00", [("2025-01-24 14:00", "2025-02-05 10:00")], "2025-02-08 10:00"),
        ("2026-03-02 10:00", [], "2026-03-06 00:00"),
    ],
)
def test_t_refund_counts_from_the_day_after_approval(
    approved_at: str, waits: list[tuple[str, str]], deadline: str
) -> None:
    steps: list[Step] = [(approved_at, "Acknowledged", {}), approved(approved_at)]
    for paused, resumed in waits:
        steps += [wait(paused), answered(resumed)]
    refund = clock_of(ticket("refund", approved_at, *steps), "T-REFUND")
    assert refund.deadline == local(deadline)


def test_t_refund_starts_at_the_approval_not_the_request() -> None:
    facts = ticket("refund", "2026-03-02 10:00", ("2026-03-02 10:01", "Acknowledged", {}))
    assert [t for t in evaluate(TARGETS, facts, CLOCKS) if t.rule == "T-REFUND"] == []
    facts.append(Fact(3, "RefundApproved", local("2026-03-04 15:00"), {}))
    assert clock_of(facts, "T-REFUND").deadline == local("2026-03-10 00:00")


def test_a_wait_before_the_diagnosis_does_not_count_toward_resolution() -> None:
    facts = ticket(
        "support",
        "2026-03-02 10:00",
        ("2026-03-02 10:05", "Acknowledged", {}),
        wait("2026-03-02 10:10"),
        answered("2026-03-02 13:10"),
        ("2026-03-02 13:20", "Diagnosed", {"complexity": "general"}),
    )
    assert clock_of(facts, "T-RESOLVE-GENERAL").deadline == local("2026-03-02 17:00")


def test_a_diagnosis_revised_to_complex_gets_the_complex_budget() -> None:
    facts = ticket(
        "support",
        "2026-03-02 10:00",
        ("2026-03-02 10:05", "Acknowledged", {}),
        ("2026-03-02 10:30", "Diagnosed", {"complexity": "general"}),
        ("2026-03-02 11:00", "Diagnosed", {"complexity": "complex"}),
    )
    resolve = clock_of(facts, "T-RESOLVE-GENERAL")
    assert resolve.title == "Complex problem resolved"
    assert resolve.started_at == local("2026-03-02 10:00")
    assert resolve.deadline == local("2026-03-06 00:00")  # 3 working days after Monday


def test_an_escalation_to_urgent_brings_the_next_progress_deadline_forward() -> None:
    facts = ticket(
        "support",
        "2026-03-02 10:00",
        ("2026-03-02 10:00", "Acknowledged", {}),
        ("2026-03-02 10:10", "Escalated", {"priority": "urgent", "level": "team_lead"}),
    )
    progress = clock_of(facts, "T-PROGRESS")
    assert progress.title == "Progress update to an urgent case"
    assert progress.deadline == local("2026-03-02 10:40")  # 30 min from the escalation
    late = ticket(
        "support",
        "2026-03-02 10:00",
        ("2026-03-02 10:00", "Acknowledged", {}),
        ("2026-03-02 10:50", "Escalated", {"priority": "urgent", "level": "team_lead"}),
    )
    assert clock_of(late, "T-PROGRESS").deadline == local("2026-03-02 11:00")  # never later
    facts.append(Fact(4, "ProgressReported", local("2026-03-02 10:35"), {}))
    assert clock_of(facts, "T-PROGRESS").deadline == local("2026-03-02 11:05")


def test_waiting_on_the_customer_pauses_the_on_site_clock() -> None:
    facts = ticket(
        "repair",
        "2026-03-02 10:00",
        ("2026-03-02 10:05", "Acknowledged", {}),
        (
            "2026-03-02 11:00",
            "OnSiteVisitScheduled",
            {"appointment_at": "2026-03-03T10:00:00+08:00"},
        ),
        wait("2026-03-02 12:00"),
        answered("2026-03-02 18:00"),
    )
    assert clock_of(facts, "T-ONSITE").deadline == local("2026-03-04 16:00")


def test_only_the_repaired_product_going_back_meets_t_repair_notify() -> None:
    report = {"repair_report": {"work_done": "bearing", "parts_replaced": ["bearing"]}}
    facts = ticket(
        "repair",
        "2026-03-02 10:00",
        ("2026-03-02 10:05", "Acknowledged", {}),
        ("2026-03-02 12:00", "Diagnosed", {"complexity": "general"}),
        ("2026-03-02 14:00", "Resolved", report),
        ("2026-03-02 14:00", "ProgressReported", {"message": "your request is resolved"}),
    )
    notify = clock_of(facts, "T-REPAIR-NOTIFY")
    assert notify.outcome == "running"
    facts.append(Fact(6, "ProductReturned", local("2026-03-03 09:00"), {"method": "shipped"}))
    assert clock_of(facts, "T-REPAIR-NOTIFY").outcome == "met"


def test_a_regraded_complaint_changes_clocks() -> None:
    facts = ticket(
        "complaint",
        "2026-03-02 10:00",
        ("2026-03-02 10:30", "Acknowledged", {"complaint_grade": "general"}),
        ("2026-03-03 10:00", "PlanRevised", {"complaint_grade": "complex"}),
    )
    timers = {t.rule: t for t in evaluate(TARGETS, facts, CLOCKS)}
    assert timers["T-COMPLAINT-GENERAL"].outcome == "cancelled"
    complex_ = timers["T-COMPLAINT-COMPLEX"]
    assert complex_.started_at == local("2026-03-02 10:00")
    assert complex_.deadline == local("2026-03-12 00:00")  # 7 working days after Monday
