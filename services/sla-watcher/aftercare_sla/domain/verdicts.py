"""Verdicts on a timer: met, breached (and by how much), warned (and how much is left), and
when the watcher must next look at it. Pure arithmetic on a ``Timer``: no storage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aftercare_sla.domain.calendar import Timekeeping
from aftercare_sla.domain.durations import format_duration
from aftercare_sla.domain.events import SlaBreached, SlaMet, SlaWarning
from aftercare_sla.domain.timer import Timer, elapsed


def _common(
    ticket_id: str, timer: Timer, at: datetime, used: timedelta, policy_version: str
) -> dict[str, Any]:
    facts = timer.facts
    return {
        "ticket_id": ticket_id,
        "rule": timer.rule,
        "title": timer.title,
        "cycle": timer.cycle,
        "policy_version": policy_version,
        "clock": timer.clock,
        "budget": format_duration(timer.budget),
        "budget_seconds": int(timer.budget.total_seconds()),
        "started_at": timer.started_at,
        "deadline": timer.deadline,
        "elapsed_seconds": int(used.total_seconds()),
        "customer_ref": facts.get("customer_ref"),
        "kind": facts.get("kind"),
        "channel": facts.get("channel"),
        "priority": facts.get("priority"),
        "urgent": facts.get("urgent"),
        "occurred_at": at,
    }


def met(ticket_id: str, timer: Timer, policy_version: str) -> SlaMet:
    assert timer.stopped_at is not None
    return SlaMet(
        **_common(ticket_id, timer, timer.stopped_at, timer.consumed, policy_version),
        met_at=timer.stopped_at,
    )


def breached(
    ticket_id: str,
    timer: Timer,
    now: datetime,
    clocks: Mapping[str, Timekeeping],
    policy_version: str,
) -> SlaBreached:
    """A miss the events decided (stopped late, or too early for an appointment), or the
    deadline passing with nothing to stop it (then judged ``now``)."""
    early = (
        timer.stopped_at is not None
        and timer.early_from is not None
        and timer.stopped_at < timer.early_from
    )
    breached_at = (timer.stopped_at if early or timer.deadline is None else timer.deadline) or now
    late_by = (
        (timer.early_from - breached_at)
        if early and timer.early_from
        else ((timer.stopped_at or now) - breached_at)
    )
    used = timer.consumed if timer.stopped_at else elapsed(timer, clocks, now)
    return SlaBreached(
        **_common(ticket_id, timer, breached_at, used, policy_version),
        reason="too_early" if early else "deadline_passed",
        breached_at=breached_at,
        detected_at=now,
        late_by_seconds=max(int(late_by.total_seconds()), 0),
    )


def warning(
    ticket_id: str,
    timer: Timer,
    now: datetime,
    clocks: Mapping[str, Timekeeping],
    policy_version: str,
) -> SlaWarning:
    assert timer.warn_at is not None
    used = elapsed(timer, clocks, now)
    return SlaWarning(
        **_common(ticket_id, timer, timer.warn_at, used, policy_version),
        remaining_seconds=max(int((timer.total - used).total_seconds()), 0),
    )


def next_look(timer: Timer, warned: bool, breached: bool, grace: timedelta) -> datetime | None:
    """When a running timer must be looked at again: its warning point, else its deadline
    plus the grace (a stop event just in time may still be on its way)."""
    if timer.outcome != "running":
        return None
    candidates = []
    if not warned and timer.warn_at is not None:
        candidates.append(timer.warn_at)
    if not breached and timer.deadline is not None:
        candidates.append(timer.deadline + grace)
    return min(candidates, default=None)
