"""Verdict arithmetic on a timer, without storage: what is late by how much, what is left,
and when the watcher must look again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aftercare_sla.domain import verdicts
from aftercare_sla.domain.calendar import AroundTheClock
from aftercare_sla.domain.timer import Timer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOCKS = {"24x7": AroundTheClock()}
RUNNING = Timer(
    rule="T-EMAIL",
    title="Email request replied to",
    cycle=1,
    clock="24x7",
    budget=timedelta(minutes=10),
    started_at=T0,
    total=timedelta(minutes=10),
    consumed=timedelta(0),
    running_since=T0,
    paused_since=None,
    pause_reasons=frozenset(),
    outcome="running",
    stopped_at=None,
    deadline=T0 + timedelta(minutes=10),
    warn_at=T0 + timedelta(minutes=8),
    early_from=None,
    facts={"customer_ref": "C-1", "priority": "normal", "channel": "email"},
)


def test_a_passed_deadline_is_late_by_the_time_since() -> None:
    now = T0 + timedelta(minutes=12)
    breach = verdicts.breached("t-1", RUNNING, now, CLOCKS, "v1")
    assert (breach.reason, breach.breached_at, breach.late_by_seconds) == (
        "deadline_passed",
        T0 + timedelta(minutes=10),
        120,
    )
    assert (breach.elapsed_seconds, breach.customer_ref, breach.policy_version) == (
        720,
        "C-1",
        "v1",
    )


def test_an_arrival_before_the_window_is_a_breach_too_early() -> None:
    visit = replace(
        RUNNING,
        rule="T-ONSITE-PUNCTUAL",
        outcome="missed",
        stopped_at=T0 + timedelta(minutes=1),
        early_from=T0 + timedelta(minutes=5),
        consumed=timedelta(minutes=1),
    )
    breach = verdicts.breached("t-1", visit, T0 + timedelta(minutes=2), CLOCKS, "v1")
    assert (breach.reason, breach.late_by_seconds) == ("too_early", 240)


def test_a_warning_says_what_is_left() -> None:
    warning = verdicts.warning("t-1", RUNNING, T0 + timedelta(minutes=8), CLOCKS, "v1")
    assert (warning.remaining_seconds, warning.occurred_at) == (120, RUNNING.warn_at)


def test_the_next_look_is_the_warning_then_the_deadline_after_the_grace() -> None:
    grace = timedelta(seconds=1)
    assert verdicts.next_look(RUNNING, False, False, grace) == RUNNING.warn_at
    assert verdicts.next_look(RUNNING, True, False, grace) == T0 + timedelta(minutes=10, seconds=1)
    assert verdicts.next_look(RUNNING, True, True, grace) is None
    assert verdicts.next_look(replace(RUNNING, outcome="met"), False, False, grace) is None
